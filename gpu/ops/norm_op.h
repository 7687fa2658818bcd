// The normalizations of the forward pass on the Vulkan backend (gpu/shaders/norm.comp): RMSNorm
// (llama family; also qwen3's per-head q/k norm, the same op on the [tokens·heads, head_dim] view)
// and LayerNorm with bias (gpt2), Y[r, :] = norm(X[r, :]) · w (+ b), fp32, as core's forward pass.
// record_norm() records on buffers already on the device (X and Y must be different buffers);
// norm() wraps it for host spans (tests, tools). Shapes are InvalidArgument, sizes past the shader's
// 32-bit indices Unsupported.
#pragma once

#include <cstdint>
#include <span>

#include "core/model/config.h"
#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

struct NormShape {
  int64_t rows = 0;
  int64_t cols = 0;

  Expected<void> validate() const;
};

// x, y: rows·cols floats; w (and b, LayerNorm only; null for RMSNorm): cols floats.
Expected<void> record_norm(CommandRecorder& recorder, NormKind kind, const NormShape& shape, float eps, const Buffer& x,
                           const Buffer& w, const Buffer* b, const Buffer& y);

// Host spans; `b` is empty for RMSNorm.
Expected<void> norm(Device& device, NormKind kind, const NormShape& shape, float eps, std::span<const float> x,
                    std::span<const float> w, std::span<const float> b, std::span<float> y);

}  // namespace lowbit::gpu
