// The feed-forward nonlinearity on the Vulkan backend (gpu/shaders/activation.comp), in place on
// G[n]: G = act(G) · U where the block has a gate (SwiGLU for SiLU), G = act(G) where it has none
// (gpt2's GELU), with act one of core's Activation values computed as core's forward pass does.
// record_activation() records on device buffers (`up` null: no gate); activation() wraps it for
// host spans (`up` empty: no gate).
#pragma once

#include <cstdint>
#include <span>

#include "core/model/config.h"
#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

Expected<void> record_activation(CommandRecorder& recorder, Activation act, int64_t n, const Buffer& g,
                                 const Buffer* up);

Expected<void> activation(Device& device, Activation act, std::span<float> g, std::span<const float> up);

}  // namespace lowbit::gpu
