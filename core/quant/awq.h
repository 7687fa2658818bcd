// AWQ, activation-aware weight quantization (METHODS.md §3), on one decoder block's groups of linear
// layers that share an input (q/k/v; o; gate/up; down). For a group with input statistics (the
// Hessian H = 2/n Σ x xᵀ and the per-channel mean |x| = s_x), the scale search tries
// s = s_x^α / sqrt(max · min) (llm-awq's normalization) for α = i / grid, i = 0 … grid − 1, and keeps
// the α minimizing Σ over the group's layers of ‖(Q(W·diag(s))·diag(s)⁻¹ − W) X‖², evaluated exactly
// through the Hessian as tr(ΔW H ΔWᵀ), so X is never materialised. α = 0 (s = 1, plain RTN) is on the
// grid, so the chosen error is never above RTN's. Q is the target format's round-to-nearest (the
// int family's min-max grids; a ggml type's reference quantizer, with its own scale search).
// diag(s)⁻¹ is folded into the operation producing the input: the norm weight (and LayerNorm bias)
// for q/k/v and gate/up, v_proj's rows for o_proj (only when v_proj's outputs are o_proj's inputs,
// i.e. without grouped-query attention), up_proj's rows for down_proj (only in a gated MLP: gpt2's
// GELU sits between up and down). Folding works on ModelWeights, where fused checkpoint tensors
// (phi3 qkv / gate_up, gpt2 c_attn) are already split, so it is exact for every architecture.
// The clip search (int family) then picks, per group of g weights, a shrink ratio of the min-max
// range by coordinate descent on the full Hessian-weighted error of the row, so it never increases it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/model/config.h"
#include "core/model/weights.h"
#include "core/quant/format.h"
#include "core/quant/int_quant.h"
#include "core/tensor/eigen_types.h"
#include "core/util/expected.h"

namespace lowbit {

struct AwqLayer;
// Another backend's evaluation of the α grid (gpu/ops/awq_op.h: vulkan_awq_grid): awq_scaled_error of
// every scale vector in `scales`, in order, for one group; Unsupported for a group it does not handle
// (its formats, its sizes), which the CPU then evaluates. Any other error fails the search.
using AwqGridBackend = std::function<Expected<std::vector<double>>(const std::vector<AwqLayer>& layers, const MatrixRM& h,
                                                                   const std::vector<VectorF>& scales)>;

struct AwqClipResult {
  IntTensor tensor;
  double mean_shrink = 1;   // mean chosen ratio over the groups
  double error_before = 0;  // tr(ΔW H ΔWᵀ) of plain min-max RTN
  double error_after = 0;   // … with the chosen ratios
};

struct AwqOptions;
// Another backend's clip search (gpu/ops/awq_clip_op.h: vulkan_awq_clip): awq_clip_int's result for
// one layer (w, h, format, options, fp16_scales); Unsupported for a layer it does not handle, which
// the CPU then searches. Any other error fails the quantization.
using AwqClipBackend = std::function<Expected<AwqClipResult>(const MatrixRM& w, const MatrixRM& h, const Format& format,
                                                             const AwqOptions& options, bool fp16_scales)>;

struct AwqOptions {
  int alpha_grid = 20;    // α = i / alpha_grid, i = 0 … alpha_grid − 1
  bool clip = true;       // int family: per-group clip search after scaling (awq+gptq: clamp, then GPTQ)
  float clip_min = 0.5f;  // smallest shrink ratio of the min-max range tried
  int clip_steps = 20;    // ratios 1, 1 − (1 − clip_min)/steps, …, clip_min
  AwqGridBackend backend;  // empty: the CPU evaluates the α grid
  AwqClipBackend clip_backend;  // empty: the CPU runs the clip search
  Expected<void> validate() const;
};

// The clip search's k-th ratio, k = 0 … clip_steps: 1 − (1 − clip_min) · k / clip_steps in float.
float awq_clip_ratio(const AwqOptions& options, int k);

// The groups of linear layers of a block that read one input.
enum class AwqGroup { Qkv, O, GateUp, Down };
const char* awq_group_name(AwqGroup g);

// Q(w): the round-to-nearest values of a [rows, cols] matrix in `format` (float types round, the int
// family takes min-max grids, ggml types their reference quantizer). `name` labels errors. `shrink`
// < 1 (int family only): every min-max range shrunk by that one clip ratio (the studio's clip curve).
Expected<MatrixRM> quantize_dequantize(const MatrixRM& w, const Format& format, const std::string& name,
                                       float shrink = 1.0f);

// The scales of one α: s = max(s_x^α, 1e-4), divided by sqrt(max(s) · min(s)).
VectorF awq_scales(const VectorF& mean_abs, double alpha);

// One layer of a group: its weights [out, in] and the format it is quantized into.
struct AwqLayer {
  const MatrixRM* w = nullptr;
  Format format;
  std::string name;
};

// Σ_layers tr(ΔW H ΔWᵀ), ΔW = Q(W·diag(s))·diag(s)⁻¹ − W: the output error of the group after
// scaling by s and rounding (h: [in, in], the Hessian of the unscaled input); `shrink` as above.
Expected<double> awq_scaled_error(const std::vector<AwqLayer>& layers, const MatrixRM& h, const VectorF& s,
                                  float shrink = 1.0f);

struct AwqSearchResult {
  double alpha = 0;
  double error = 0;           // at the chosen α
  double error_rtn = 0;       // at α = 0 (plain RTN)
  std::vector<double> curve;  // error for every α on the grid (the scale-loss landscape)
  VectorF scales;             // at the chosen α
};

// The α search of one group sharing an input with Hessian `h` and mean |x| `mean_abs`.
Expected<AwqSearchResult> awq_search_scale(const std::vector<AwqLayer>& layers, const MatrixRM& h,
                                           const VectorF& mean_abs, const AwqOptions& options);

// Why diag(s)⁻¹ of group `g` cannot be folded into the block (nullopt when it can).
std::optional<std::string> awq_fold_blocker(const ModelConfig& c, const DecoderBlock& b, AwqGroup g);

// W·diag(s) for the group's layers and diag(s)⁻¹ folded into the producer of their input; the
// block computes the same function (up to float rounding). An error when awq_fold_blocker says no.
Expected<void> awq_apply_scale(const ModelConfig& c, DecoderBlock& b, AwqGroup g, const VectorF& s);

// diag(s)⁻¹ H diag(s)⁻¹: the Hessian of the scaled input.
MatrixRM awq_scaled_hessian(const MatrixRM& h, const VectorF& s);


// Int family: per (row, group) shrink ratio of the min-max range, chosen by one sweep of coordinate
// descent over the groups of each row on tr(ΔW H ΔWᵀ) (cross-group terms included): a group keeps a
// ratio only when it lowers the row's error, so error_after ≤ error_before. `fp16_scales`: every
// candidate grid's scale is rounded to fp16 (int_quant.h).
AwqClipResult awq_clip_int(const MatrixRM& w, const MatrixRM& h, const Format& format, const AwqOptions& options,
                           bool fp16_scales = false);
// awq_clip_int on options.clip_backend where there is one and it handles the layer, else on the CPU.
Expected<AwqClipResult> awq_clip(const MatrixRM& w, const MatrixRM& h, const Format& format, const AwqOptions& options,
                                 bool fp16_scales = false);

}  // namespace lowbit
