// Additions in place on the Vulkan backend (gpu/shaders/add.comp): the residual connection Y += X
// (same shape) and a linear layer's bias, Y[r, :] += b for every row of Y[rows, cols]. The matmul
// op has no bias, so the forward pass adds it after the product, as core's Linear does.
// record_add() / record_add_bias() record on device buffers (Y and X distinct); add() and add_bias()
// wrap them for host spans.
#pragma once

#include <cstdint>
#include <span>

#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

// y[i] += x[i] for i < n.
Expected<void> record_add(CommandRecorder& recorder, int64_t n, const Buffer& y, const Buffer& x);
// y[r·cols + c] += bias[c] for r < rows.
Expected<void> record_add_bias(CommandRecorder& recorder, int64_t rows, int64_t cols, const Buffer& y,
                               const Buffer& bias);

Expected<void> add(Device& device, std::span<float> y, std::span<const float> x);
Expected<void> add_bias(Device& device, std::span<float> y, std::span<const float> bias);

}  // namespace lowbit::gpu
