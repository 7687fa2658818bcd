// The AWQ curves of the studio's scale-loss view: for every group of linear layers that shares an
// input (q/k/v, o, gate/up, down of each block), the group's output error Σ tr(ΔW H ΔWᵀ) against
// AWQ's α (the 20-point grid of METHODS.md §3) and against a clip ratio p of the min-max range.
// They come from the AWQ driver itself (core/quant/awq_model.h's observer) run on the model with
// method awq, so block k's curves are measured where AWQ measures them — on windows run through
// blocks < k already scaled and quantized — and the α curve's minimum is the α AWQ picks. The clip
// curve applies one ratio p to every group of the scaled weights (p = 1, 1 − (1 − clip_min)/steps, …,
// clip_min); AWQ's own clip search picks a ratio per (row, group), reported beside it as the error
// it reaches and its mean ratio. Groups AWQ leaves unscaled (o_proj under grouped-query attention,
// down_proj without a gate) get the α curve AWQ would have searched, marked applied = false.
// The model is restored on return.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/calib/analyze.h"
#include "core/jobs/progress.h"
#include "core/model/weights.h"
#include "core/quant/awq.h"

namespace lowbit {

struct AwqGroupCurve {
  int64_t block = 0;
  std::string group;  // "qkv", "o", "gate_up", "down"
  bool applied = true;
  std::string note;
  std::vector<double> alphas, alpha_error;
  double alpha = 0;      // the grid's minimum (strict: ties keep the smaller α), as AWQ picks it
  double error_rtn = 0;  // at α = 0
  std::vector<double> clip_ratios, clip_error;  // at the chosen α (unscaled when not applied)
  double clip_search_error = 0;                 // AWQ's per-group clip search
  double clip_search_mean_ratio = 1;
};

struct AwqCurvesResult {
  int bits = 0;
  std::string format;
  std::vector<AwqGroupCurve> groups;
  double seconds = 0;
};

// `format`: an int-family format every linear layer fits (the clip curve needs min-max grids).
// options.backend evaluates the α grids (AWQ's own, and the unapplied groups'); `walker` runs the
// calibration walk (QuantizeOptions::calib_walker); the clip curve and search run on the CPU.
Expected<AwqCurvesResult> awq_curves(ModelWeights& m, std::span<const int32_t> windows, int64_t ctx, const Format& format,
                                     const AwqOptions& options, Progress* progress = nullptr,
                                     const CancelToken* cancel = nullptr, const BlockWalkerFactory& walker = {});

}  // namespace lowbit
