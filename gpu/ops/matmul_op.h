// matmul on the Vulkan backend: Y[M,N] = X[M,K] · W[N,K]ᵀ, with W row-major [out, in] as the core's
// Linear stores it, fp32 activations and outputs, fp32 or fp16 weights (gpu/shaders/matmul.comp,
// variants matmul_f32 and matmul_f16), fp32 accumulation. The pattern every op follows: shapes are
// validated into Errors, record_matmul() records the dispatch on buffers already on the device (what
// a forward pass chains), and matmul() wraps it for host spans: upload, bind, push, dispatch,
// download, all in one submission. Wrong shapes or span sizes are ErrorCode::InvalidArgument; shapes
// beyond the shader's 32-bit indices or the device's limits are ErrorCode::Unsupported.
#pragma once

#include <cstdint>
#include <span>

#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

enum class WeightType { F32, F16 };

struct MatmulShape {
  int64_t m = 0;  // rows of X and Y
  int64_t n = 0;  // rows of W, columns of Y
  int64_t k = 0;  // columns of X and W

  Expected<void> validate() const;
};

// Bytes a weight buffer of `type` needs for N·K weights (fp16 is packed two per 4-byte word).
uint64_t matmul_weight_bytes(WeightType type, const MatmulShape& shape);

// Records Y = X · Wᵀ: x holds M·K floats, w the weights (matmul_weight_bytes), y receives M·N floats.
// Barriers before (after x and w are written) and after (before y is read) are the caller's.
Expected<void> record_matmul(CommandRecorder& recorder, const MatmulShape& shape, WeightType type, const Buffer& x,
                             const Buffer& w, const Buffer& y);

Expected<void> matmul(Device& device, std::span<const float> x, std::span<const float> w, int64_t M, int64_t N,
                      int64_t K, std::span<float> y);
// fp16 weights as IEEE binary16 bit patterns (core/tensor/half.h).
Expected<void> matmul(Device& device, std::span<const float> x, std::span<const uint16_t> w, int64_t M, int64_t N,
                      int64_t K, std::span<float> y);

}  // namespace lowbit::gpu
