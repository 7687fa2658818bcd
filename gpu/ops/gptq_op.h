// GPTQ's sweep on the Vulkan backend (core/quant/gptq.h is the oracle): the weights W [rows, cols]
// and the upper Cholesky factor U of (H + λI)⁻¹ (core's gptq_inverse_factor) in, the codes, grids,
// quantized weights and loss out. For each block of 128 columns, gptq_block.comp sweeps the block
// with the rows in parallel (grids from the block-start weights, as the reference GPTQ) and
// gptq_update.comp applies its errors to the later columns as a tiled matrix product; the whole
// layer is one command buffer. The integer family with groups that divide the block (int{b}g{32,64,
// 128}{a|s}) and every ggml block type (q4_0 … q8_0 and the K-quants q2_k … q6_k: grids and codes at
// the fix from ggml's reference quantizer, as core's GgmlTarget; a K-quant super-block is fixed in
// the first of its two column blocks), no act-order; every float operation is core's sweep's, in its
// order, so codes, grids and weights are the CPU's bit for bit.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/quant/format.h"
#include "core/quant/gptq.h"
#include "core/quant/int_quant.h"
#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"

namespace lowbit::gpu {

inline constexpr int64_t kGptqBlock = 128;  // the shaders' BLOCK

struct GptqIntShape {
  int64_t rows = 0;
  int64_t cols = 0;
  Format format;
  bool fp16_scales = false;
  // Grids fixed up front (GptqStaticGrids): act-order, static groups; the int family's one grid per
  // row or groups of any width too.
  bool static_grids = false;
  // A ggml type's fix in the sweep through ggml's importance-weighted quantizer, importances one per
  // column (H[i][i]; GptqOptions::weighted_grids). Not with static grids (their fix is the host's).
  bool weighted_grids = false;
  Expected<void> validate() const;
};

// What a sweep with static grids takes: the grids fixed from the original (dead-zeroed) weights —
// the int family's [rows, groups] (minmax_grid as core's IntTarget::fix), a ggml type's as the
// blocks ggml's quantizer made of them (gptq_ggml_fixed_blocks: their sub-block grids, and their
// codes, which a weight keeps while it still equals its original value) — and the sweep's column
// order (perm[j]: the original column swept j-th; w and U come in that order, codes and weights go
// out in it, the packed blocks in the original order).
struct GptqStaticGrids {
  std::span<const IntGrid> grids;
  std::span<const uint32_t> perm;
  std::span<const uint8_t> ggml_blocks;
};

struct GptqIntResult {
  IntTensor tensor;                // the int family: codes and grids
  std::vector<uint8_t> ggml;       // a ggml type: the packed blocks
  std::vector<float> dequantized;  // rows·cols, row-major: the grid values
  double loss = 0;                 // Σ (w − q)² / U[j][j]² / 2, as core's GptqResult::loss
};

// w: rows·cols floats row-major; u: cols·cols floats row-major (upper triangle read); `fixed` when
// shape.static_grids, `importance` (cols floats) when shape.weighted_grids.
Expected<GptqIntResult> gptq_int(Device& device, const GptqIntShape& shape, std::span<const float> w, std::span<const float> u,
                                 const GptqStaticGrids* fixed = nullptr, std::span<const float> importance = {});
// The same with U already on the device (gptq_factor_op.h), at least cols·cols floats.
Expected<GptqIntResult> gptq_int(Device& device, const GptqIntShape& shape, std::span<const float> w, const Buffer& u,
                                 const GptqStaticGrids* fixed = nullptr, std::span<const float> importance = {});

// The same with W on the device too (at least rows·cols floats; left as it is, the sweep works on a
// copy): not for a ggml type's grids fixed up front, which the host reads from W.
Expected<GptqIntResult> gptq_int(Device& device, const GptqIntShape& shape, const Buffer& w, const Buffer& u,
                                 const GptqStaticGrids* fixed = nullptr, std::span<const float> importance = {});

// Where vulkan_gptq computes U: on the device (gptq_factor_op.h; the default: a 7B down
// projection's factor is seconds of CPU time — on the CPU, with a warning, when the factor's
// scratch does not fit in device memory) or on the CPU (core's gptq_inverse_factor, so that the
// layer's codes are the CPU run's bit for bit).
enum class FactorOn { Device, Cpu };

// GPTQ of one layer with the sweep on `device` (GptqOptions::backend): the factor where `factor`
// says, the sweep by gptq_int, every format and option of core's gptq_quantize — with act-order or
// static groups the grids (a ggml type's blocks: gptq_ggml_fixed_blocks) and the column order from
// the host, H gathered in that order on the device. Unsupported (the layer then runs on the CPU)
// only where GptqIntShape::validate says so. The device must outlive the returned function.
GptqBackend vulkan_gptq(Device& device, FactorOn factor = FactorOn::Device);

}  // namespace lowbit::gpu
