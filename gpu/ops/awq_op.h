// AWQ's α grid on the Vulkan backend (core/quant/awq.h is the oracle): for a group of int-family
// layers sharing an input with Hessian H [in, in], the error tr(ΔW H ΔWᵀ), ΔW = Q(W·diag(s))·diag(s)⁻¹
// − W, of every scale vector s of the grid. H, the layers' weights and all the scale vectors are
// uploaded once; for each (s, layer) awq_delta.comp forms ΔW, matmul.comp (fp32 weights: H is
// symmetric, so ΔW·Hᵀ = ΔW·H) the product and row_dot.comp its row sums with ΔW, all in one command
// buffer; the host adds the rows in double. Errors agree with the CPU's to float rounding (tested
// with relative tolerances).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/quant/awq.h"
#include "core/util/expected.h"
#include "gpu/device/device.h"

namespace lowbit::gpu {

// Σ over `layers` of tr(ΔW H ΔWᵀ) for each scale vector of `scales` (each in floats), `shrink` the
// fixed clip ratio of the min-max range (1: none). Layers may be in the int family or any ggml block
// type (legacy or K-quant: ggml's reference quantizer and dequantizer on the device, the CPU's codes
// and stored scales). InvalidArgument for inconsistent sizes; Unsupported for other formats, rows
// that are not whole groups or blocks, a clip ratio with a ggml type, and sizes past the shaders'
// 32-bit indices.
Expected<std::vector<double>> awq_grid_errors(Device& device, const std::vector<AwqLayer>& layers, const MatrixRM& h,
                                              const std::vector<VectorF>& scales, float shrink = 1.0f);

// AwqOptions::backend on `device` (which must outlive the returned function).
AwqGridBackend vulkan_awq_grid(Device& device);

}  // namespace lowbit::gpu
