// GPTQ's inverse factor on the Vulkan backend (core's gptq_inverse_factor is the oracle): the upper
// Cholesky factor U of (H + λI)⁻¹, λ = damp · mean diag H, dead columns (H[i][i] = 0) taken as
// H[i][i] = 1, the damping raised ×5 up to 1.0 when H + λI is not positive definite in float
// arithmetic — core's rules and messages. As on the CPU, U = J L⁻¹ J with J(H + λI)J = L Lᵀ (J the
// reversal): a flat reversal of H (gptq_factor_flip.comp), a right-looking blocked Cholesky with
// blocks of 64 (gptq_factor_diag.comp factors and inverts a diagonal block in one workgroup,
// gptq_factor_tri.comp multiplies the panel below it by that inverse, gptq_factor_update.comp
// updates the trailing lower triangle), the triangular inverse by block rows (the same two
// shaders), and a last reversal — one command buffer, about n³/3 + n³/3 flops of matrix products,
// all fp32. The rounding differs from Eigen's (other blocking and order): U agrees with the CPU's to
// float accuracy times the conditioning, not bit for bit, so GPTQ codes from it are nearly all the
// CPU's rather than all of them (gptq_op.h's FactorOn::Cpu keeps the CPU's factor).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/quant/gptq.h"
#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"

namespace lowbit::gpu {

// U on the device, for the sweep (gptq_op.h's gptq_int): [cols, cols] row-major, zero below the diagonal.
struct DeviceGptqFactor {
  Buffer u;
  double damp_used = 0;
  std::vector<int64_t> dead;
  std::vector<std::string> warnings;
};

// h: [cols, cols] row-major, symmetric. InvalidArgument for a wrong size or a NaN/Inf in h, Format
// when even damping 1.0 leaves H + λI indefinite — as the CPU. With `perm` (act-order: perm[j] the
// original column swept j-th), the factor of P H Pᵀ, H[perm[r]][perm[c]] gathered on the device;
// `dead` holds original columns either way.
Expected<DeviceGptqFactor> gptq_factor_on_device(Device& device, std::span<const float> h, int64_t cols, double damp,
                                                 const std::string& tensor_name = "", std::span<const uint32_t> perm = {});

// The same from H already on the device (at least cols² floats, row-major; left as it is): for a
// caller whose H was accumulated there, and the benchmark comparable with the reference GPTQ's
// timing (its H lives on the GPU). Only H's diagonal comes back to the host (dead columns, mean).
Expected<DeviceGptqFactor> gptq_factor_on_device(Device& device, const Buffer& h, int64_t cols, double damp,
                                                 const std::string& tensor_name = "", std::span<const uint32_t> perm = {});

// The same with U read back: core's GptqFactor (tests, benchmarks).
Expected<GptqFactor> gptq_factor(Device& device, std::span<const float> h, int64_t cols, double damp,
                                 const std::string& tensor_name = "", std::span<const uint32_t> perm = {});

}  // namespace lowbit::gpu
