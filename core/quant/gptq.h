// GPTQ (METHODS.md §2): chooses codes on a grid minimizing tr((W − Ŵ) H (W − Ŵ)ᵀ) for one linear
// layer, given the Hessian H = 2/n Σ x xᵀ of its inputs. Columns are swept in blocks of 128 with
// lazy batch updates; the inverse Hessian's upper Cholesky factor gives each column's error feedback.
// Damping starts at `damp` × mean(diag H) and is raised (reported as a warning) when the
// factorization fails; columns that never saw input are zeroed. Groups take their grid when the
// sweep reaches their first column (from the weights as corrected at the start of the current
// column block, exactly as the reference code does), or from the original weights (static groups,
// always used with act-order, which sweeps columns by decreasing H[i,i]).
// The target grid is the int family (int{b}g{g}{a|s}: min-max grids per group) or a ggml block type
// (DESIGN.md "Grid and codes"): a row's block of 32 or 256 columns is a group whose grid is what
// ggml's quantizer (reference, or importance-weighted with diag H) picks for that span; GPTQ then
// chooses the codes on it (core/quant/ggml_grid.h) and returns the packed blocks, which are exactly
// what an export writes.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/quant/int_quant.h"
#include "core/util/expected.h"

namespace lowbit {

struct GptqOptions;
struct GptqResult;
// Another backend's GPTQ of one layer (gpu/ops/gptq_op.h: vulkan_gptq): gptq_quantize's contract;
// Unsupported for a layer it does not handle, which then runs on the CPU.
using GptqBackend = std::function<Expected<GptqResult>(std::span<const float> w, int64_t rows, int64_t cols,
                                                       std::span<const float> h, const GptqOptions& options,
                                                       const std::string& tensor_name)>;

struct GptqOptions {
  Format format = Format::integer(4, 128, false);
  int64_t block_size = 128;
  double damp = 0.01;
  bool act_order = false;
  bool static_groups = false;  // implied by act_order when groups are used
  // ggml formats: grids from ggml's importance-weighted quantizer with diag H as the importances
  // (run on one block's span, so the 32-element types take their σ² from the block, not the row).
  bool weighted_grids = false;
  // Int family: grid scales rounded to fp16 before codes are chosen (int_quant.h), so that a GPTQ
  // checkpoint, which stores fp16 scales, holds exactly the result.
  bool fp16_scales = false;
  GptqBackend backend;  // empty: the CPU (quantize_model's drivers use it where set)
  Expected<void> validate() const;
};

struct GptqResult {
  IntTensor tensor;                // int family: codes and grids
  std::vector<uint8_t> ggml;       // ggml formats: the packed blocks, rows × dtype_bytes(type, cols)
  std::vector<float> dequantized;  // Ŵ [rows, cols] row-major, the values the codes stand for (both families)
  double loss = 0;                 // Σ (w − q)² / [H⁻¹]ᵢᵢ / 2 over all weights, as the reference reports
  double damp_used = 0;            // the damping fraction finally used
  int64_t dead_columns = 0;
  double factor_seconds = 0;  // damped inverse Cholesky (with any damping retries)
  double sweep_seconds = 0;   // column sweep, lazy batch updates and packing
  std::vector<std::string> warnings;
};

// w: [rows, cols] row-major (outputs × inputs); h: [cols, cols] row-major, symmetric.
Expected<GptqResult> gptq_quantize(std::span<const float> w, int64_t rows, int64_t cols, std::span<const float> h,
                                   const GptqOptions& options, const std::string& tensor_name = "");

// What gptq_quantize sweeps with, for another backend's sweep (gpu/ops/gptq_op.h): the upper
// Cholesky factor U of (H + λI)⁻¹, λ = damp · mean diag H (raised as gptq_quantize raises it), dead
// columns (H[i][i] = 0) given H[i][i] = 1 — their weights must be zeroed by the caller.
struct GptqFactor {
  std::vector<float> u;       // [cols, cols] row-major
  double damp_used = 0;
  std::vector<int64_t> dead;  // dead columns
  std::vector<std::string> warnings;
};
Expected<GptqFactor> gptq_inverse_factor(std::span<const float> h, int64_t cols, double damp, const std::string& tensor_name = "");

// GPTQ's damping schedule after a factor that failed with `damp` (H + λI not positive definite):
// five times more, at most 1.0, with a warning naming `who`; an error once 1.0 has failed. Core's
// factor and the GPU's (gpu/ops/gptq_factor_op.h) both retry by it.
Expected<double> gptq_next_damp(const std::string& who, double damp, std::vector<std::string>& warnings);

// A ggml type's grids as gptq_quantize fixes them up front (static groups, act-order), for another
// backend's sweep: ggml's quantizer on each row's blocks of w [rows, cols] (row-major, dead columns
// already zeroed), each block on its own — importance-weighted, σ² from the block, when
// `importance` holds one value per column (diag H, a dead column's taken as 1). The packed blocks,
// rows × dtype_bytes(type, cols); their grids and codes are where the sweep starts.
std::vector<uint8_t> gptq_ggml_fixed_blocks(DType type, std::span<const float> w, int64_t rows, int64_t cols,
                                            std::span<const float> importance);

}  // namespace lowbit
