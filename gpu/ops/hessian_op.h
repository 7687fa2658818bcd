// Hessian accumulation on the Vulkan backend: H[C,C] = beta·H + alpha·XᵀX for a batch of calibration
// inputs X[T,C] (tokens × channels, fp32), H fp32 (gpu/shaders/hessian_accumulate.comp). Batches of
// one linear input are summed with beta = 1 and alpha = 2/n (n = all tokens), which gives the core's
// H = 2/n Σ x xᵀ (core/calib/calibration.h, the oracle). record_hessian_accumulate() records on
// buffers already on the device (a forward pass feeds them); hessian_accumulate() wraps it for host
// spans. Wrong shapes or sizes are ErrorCode::InvalidArgument; beyond 32-bit indices, Unsupported.
#pragma once

#include <cstdint>
#include <span>

#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

struct HessianShape {
  int64_t tokens = 0;    // rows of X
  int64_t channels = 0;  // columns of X; H is channels × channels

  Expected<void> validate() const;
};

// Records H = beta·H + alpha·XᵀX: x holds T·C floats, h C·C floats. Barriers are the caller's.
Expected<void> record_hessian_accumulate(CommandRecorder& recorder, const HessianShape& shape, float alpha, float beta,
                                         const Buffer& x, const Buffer& h);

// The same for host spans: h (C·C floats) is read when beta ≠ 0 and receives the result.
Expected<void> hessian_accumulate(Device& device, std::span<const float> x, int64_t tokens, int64_t channels, float alpha,
                                  float beta, std::span<float> h);

}  // namespace lowbit::gpu
