// AWQ over a whole model (methods awq and awq+gptq of quantize_model), block by block as GPTQ goes:
// calibration windows run through the blocks already processed (scaled, folded and quantized), the
// input statistics of block k's four linear inputs are collected from them (only one block's
// activations are held), then for each group q/k/v, o, gate/up, down the α search of core/quant/awq.h
// runs on the unmodified block and its scales are folded in; then every layer is quantized from its
// scaled weights and the Hessian of its scaled input, H' = diag(s)⁻¹ H diag(s)⁻¹: method awq rounds
// to nearest (int family: after the clip search; ggml types keep their own scale search, no clip),
// method awq+gptq clamps the weights to the clip search's ranges (llm-awq's apply_clip; int family)
// and runs GPTQ on them. The model is left in the form a checkpoint would store: folded norms and
// v/up rows, and the scaled weights' quantized values. Per-layer reports carry α, the mean clip ratio
// and why a group was left unscaled (o_proj under grouped-query attention, down_proj without a gate).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/quant/quantize_model.h"

namespace lowbit {

// The checks quantize_model's options need for methods awq and awq+gptq.
Expected<void> validate_awq(const QuantizeOptions& options);

// What the driver decided for one group, shown to an observer (the studio's AWQ curves) after the α
// search and the folding, before the block is quantized: `layers` then point at the scaled weights
// and `h` is the Hessian of their scaled input; `search` is null when the group was left unscaled
// (`note` says why; `layers` and `h` are then the unscaled ones and `mean_abs` lets a viewer run the
// search anyway).
struct AwqGroupDecision {
  int64_t block = 0;
  AwqGroup group = AwqGroup::Qkv;
  const AwqSearchResult* search = nullptr;
  std::string note;
  std::vector<AwqLayer> layers;
  const MatrixRM* h = nullptr;
  VectorF mean_abs;  // of the unscaled input
};
using AwqObserver = std::function<Expected<void>(const AwqGroupDecision&)>;

Expected<QuantizeResult> awq_quantize_model(ModelWeights& m, const QuantizeOptions& options,
                                            const std::vector<int32_t>& calib_tokens, Progress* progress = nullptr,
                                            const CancelToken* cancel = nullptr, const AwqObserver& observer = {});

}  // namespace lowbit
