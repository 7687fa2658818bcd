// Sensitivity of a model to quantizing one tensor (METHODS.md §6, DESIGN.md "Layout"): for every
// quantizable tensor (block linears, token embeddings, output head) and every candidate format, the
// tensor alone is quantized (round to nearest; ggml types by ggml's reference quantizer) and the
// model is run over calibration windows; the change against the unquantized model is measured as the
// mean KL divergence of the next-token distributions (the planner's cost) and the change in mean
// negative log-likelihood (what the planner adds up to predict perplexity). Only the blocks from the
// tensor's block on are recomputed: the hidden states entering every block are kept from the
// reference pass. Results are cached in a JSON file by tensor, format, method and a hash of the
// model and the calibration tokens, so a second plan over the same calibration is instant; the file is
// rewritten after each tensor, so an interrupted plan resumes where it stopped.
// The cheap alternative (`kind = Hessian`) needs one calibration pass instead of one per tensor and
// format: the Hessian-weighted output error tr((W − Ŵ) H (W − Ŵ)ᵀ) = 2/n Σ‖(W − Ŵ)x‖² of each block
// linear, from its input Hessian H collected block by block on the unquantized model; it predicts no
// perplexity (dnll is NaN) and does not cover the embeddings and head, which stay as stored; it can
// stream the model (`hooks`: each block loaded before its statistics and freed after).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/calib/analyze.h"
#include "core/jobs/progress.h"
#include "core/model/weights.h"
#include "core/quant/format.h"

namespace lowbit {

struct Sensitivity {
  double kld = 0;   // the cost: mean KL(p_ref ‖ p_quant) over scored positions (nats), or the Hessian-weighted error
  double dnll = 0;  // mean NLL change (nats per token); NaN for the Hessian kind
};

enum class SensitivityKind { Kld, Hessian };

struct SensitivityOptions {
  SensitivityKind kind = SensitivityKind::Kld;
  std::vector<Format> formats;
  bool embeddings = true;             // also the token embeddings and the output head
  std::filesystem::path cache;        // JSON cache file; empty: none
  std::string model_id;               // part of the cache key (the checkpoint path)
  BlockHooks hooks;                   // Hessian kind: streaming (core/model/weights.h); the KLD kind refuses them
  Expected<void> validate() const;
};

struct SensitivityTable {
  SensitivityKind kind = SensitivityKind::Kld;
  std::string calib_hash;
  double nll_ref = 0;  // mean NLL of the unquantized model on the windows
  // tensor → format name → sensitivity; tensors a format does not fit are absent for that format.
  std::map<std::string, std::map<std::string, Sensitivity>> values;
  int64_t measured = 0, cached = 0;
  double seconds = 0;
};

// `windows`: S windows of `ctx` tokens (draw_windows). `m` is restored before returning.
Expected<SensitivityTable> measure_sensitivity(ModelWeights& m, const std::vector<int32_t>& windows, int64_t ctx,
                                               const SensitivityOptions& options, Progress* progress = nullptr,
                                               const CancelToken* cancel = nullptr);

}  // namespace lowbit
