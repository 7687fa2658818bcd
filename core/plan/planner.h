// The mixed-precision planner (METHODS.md §6, DESIGN.md "Layout"): one format per quantizable tensor
// minimizing the total measured cost (the sum of per-tensor KL divergences, core/plan/sensitivity.h)
// under a budget on the whole exported file — bytes, or bits per weight over all parameters, the
// header, embeddings and head included. A multiple-choice knapsack, solved by Lagrangian relaxation
// (each tensor independently minimizes cost + λ·bytes; λ found by bisection as the smallest that
// meets the budget) and then an exact repair: greedy upgrades by best cost decrease per extra byte
// while they fit, so the layout meets the budget and is never over it. With `block_level` all
// linears of a block share one format (one knapsack item per block). Predicted perplexity adds the
// chosen formats' NLL changes: ppl ≈ exp(nll_ref + Σ Δnll), the additive model the planner assumes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/model/model.h"
#include "core/plan/layout.h"
#include "core/plan/sensitivity.h"

namespace lowbit {

struct PlanOptions {
  std::vector<Format> formats;             // the menu (every tensor gets one of these)
  std::optional<double> budget_bpw;        // bits per weight of the whole file
  std::optional<uint64_t> budget_bytes;    // bytes of the whole file
  bool block_level = false;
  bool embeddings = true;                  // embeddings and head are choices too (else kept as stored)
  QuantMethod method = QuantMethod::Rtn;   // written into the layout
  Expected<void> validate() const;
};

struct PlanRow {
  std::string tensor;
  int64_t block = -1;  // -1: embeddings or head
  int64_t rows = 0, cols = 0;
  std::string format;
  uint64_t bytes = 0;
  double kld = 0, dnll = 0;
};

struct PlanResult {
  Layout layout;
  std::vector<PlanRow> rows;
  uint64_t budget_bytes = 0;
  uint64_t file_bytes = 0;   // the exact GGUF size where every format is a GGUF type, else an estimate
  bool exact_size = false;
  int64_t parameters = 0;
  double bits_per_weight = 0;  // 8 · file_bytes / parameters
  double total_kld = 0;
  double total_dnll = 0;
  double lambda = 0;
  std::vector<std::string> warnings;
  // exp(nll_ref + Σ Δnll) for the calibration windows; callers rescale to another text's baseline.
  double predicted_ppl(double nll_ref) const;
};

Expected<PlanResult> plan_layout(const Model& source, const ModelWeights& weights, const SensitivityTable& sensitivity,
                                 const PlanOptions& options);

// Whether the budget and the menu of `options` allow a layout at all, from the sizes alone (every
// sensitivity of `kind` taken as zero): checked before the sensitivities are measured, so that an
// impossible budget or a menu that fits no format to a tensor fails at once, not after the pass.
Expected<void> check_plan_feasible(const Model& source, const ModelWeights& weights, SensitivityKind kind, const PlanOptions& options);

// The knapsack alone (exposed for tests): items × choices of (bytes, cost); returns the chosen index
// per item with Σ bytes ≤ budget, or an error when even the smallest choices exceed it.
struct KnapsackChoice {
  uint64_t bytes = 0;
  double cost = 0;
};
Expected<std::vector<size_t>> solve_knapsack(const std::vector<std::vector<KnapsackChoice>>& items, uint64_t budget,
                                             double* lambda_out = nullptr);

}  // namespace lowbit
