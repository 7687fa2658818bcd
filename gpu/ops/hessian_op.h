// Hessian accumulation on the Vulkan backend: H[C,C] = beta·H + alpha·XᵀX for a batch of calibration
// inputs X[T,C] (tokens × channels, fp32), H fp32 (gpu/shaders/hessian_accumulate.comp). Batches of
// one linear input are summed with beta = 1 and alpha = 2/n (n = all tokens), which gives the core's
// H = 2/n Σ x xᵀ (core/calib/calibration.h, the oracle). record_hessian_accumulate() records on
// buffers already on the device (a forward pass feeds them); hessian_accumulate() wraps it for host
// spans. Wrong shapes or sizes are ErrorCode::InvalidArgument; beyond 32-bit indices, Unsupported.
//
// Two shader paths (matmul_op.h's MatmulPath): the portable one (hessian_accumulate.comp, fp32
// products and sums, any device; what the calibration uses) and the cooperative-matrix one
// (hessian_scale.comp, hessian_split.comp, hessian_coop.comp: each channel scaled by a power of two
// into fp16's range, split into fp16 hi + lo, hiᵀhi + hiᵀlo + loᵀhi on tensor cores with fp32
// accumulation — close to fp32 accuracy at 1.5 × one fp16 product's work), where resolve_hessian_path() finds the device
// able to; CooperativeEmulated runs that shader with its matrix operations written out, anywhere.
#pragma once

#include <cstdint>
#include <span>

#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/ops/matmul_op.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

struct HessianShape {
  int64_t tokens = 0;    // rows of X
  int64_t channels = 0;  // columns of X; H is channels × channels

  Expected<void> validate() const;
};

// The path a request for `path` runs on `device`: Cooperative only where the device has it.
MatmulPath resolve_hessian_path(const Device& device, MatmulPath path);

// The scratch record_hessian_accumulate needs for `shape` on `path` (0 on the portable path): the
// channels' powers of two and the split fp16 copy of X, about T·C·4 bytes.
uint64_t hessian_scratch_bytes(const Device& device, const HessianShape& shape, MatmulPath path);

// Records H = beta·H + alpha·XᵀX: x holds T·C floats, h C·C floats. Barriers before and after are
// the caller's. The cooperative paths need `scratch` of hessian_scratch_bytes().
Expected<void> record_hessian_accumulate(CommandRecorder& recorder, const HessianShape& shape, float alpha, float beta,
                                         const Buffer& x, const Buffer& h, MatmulPath path = MatmulPath::Portable,
                                         const Buffer* scratch = nullptr);

// The same for host spans: h (C·C floats) is read when beta ≠ 0 and receives the result.
Expected<void> hessian_accumulate(Device& device, std::span<const float> x, int64_t tokens, int64_t channels, float alpha,
                                  float beta, std::span<float> h, MatmulPath path = MatmulPath::Portable);

}  // namespace lowbit::gpu
