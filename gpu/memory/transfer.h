// One-shot transfers between host memory and a device buffer: each records a copy through a staging
// buffer, submits it and waits. For tests, tools and one-off loads; an op that also dispatches
// records its uploads and downloads on its own CommandRecorder so all of it is one submission.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/util/expected.h"
#include "gpu/memory/buffer.h"

namespace lowbit::gpu {

class Device;

Expected<void> upload(Device& device, const Buffer& dst, std::span<const std::byte> src, uint64_t dst_offset = 0);
Expected<void> download(Device& device, const Buffer& src, std::span<std::byte> dst, uint64_t src_offset = 0);

}  // namespace lowbit::gpu
