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
// The KLD kind's forward passes may run on another backend (`kld_backend`, gpu/model/vulkan_kld.h):
// the reference pass and each candidate's rerun happen there and only per-position statistics come
// back; the quantization of the candidates stays on the CPU. A backend that cannot take the model
// leaves the measurement to the CPU, with a warning.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/calib/analyze.h"
#include "core/jobs/progress.h"
#include "core/model/weights.h"
#include "core/quant/awq.h"
#include "core/quant/encoded.h"
#include "core/quant/format.h"

namespace lowbit {

struct Sensitivity {
  double kld = 0;   // the cost: mean KL(p_ref ‖ p_quant) over scored positions (nats), or the Hessian-weighted error
  double dnll = 0;  // mean NLL change (nats per token); NaN for the Hessian kind
  bool operator==(const Sensitivity&) const = default;
};

enum class SensitivityKind { Kld, Hessian };

// Another backend's KLD scoring: made once on the model and the windows (S windows of T tokens), it
// runs the reference pass and keeps what scoring needs (the hidden states entering every block, the
// reference's logits). score() then reruns the model as it stands from the point a candidate changed
// it — the tensors of block `first_block` (read from `m` again), the token embeddings (−1) or the
// output head (the number of blocks) — and returns its mean KL from the reference and mean NLL
// change over positions 0 … T−2 of every window, as the CPU measures them. Parts changed for an
// earlier candidate are read from `m` again (restored by then) before the next one runs.
class KldScorer {
 public:
  virtual ~KldScorer() = default;
  virtual double nll_ref() const = 0;  // the reference's mean NLL over the scored positions
  virtual Expected<Sensitivity> score(const ModelWeights& m, int64_t first_block) = 0;
  virtual std::string name() const = 0;  // "vulkan"
};
using KldScorerFactory = std::function<Expected<std::unique_ptr<KldScorer>>(
    const ModelWeights& m, std::span<const int32_t> windows, int64_t S, int64_t T)>;

struct SensitivityOptions {
  SensitivityKind kind = SensitivityKind::Kld;
  std::vector<Format> formats;
  bool embeddings = true;             // also the token embeddings and the output head
  std::filesystem::path cache;        // JSON cache file; empty: none
  std::string model_id;               // part of the cache key (the checkpoint path)
  BlockHooks hooks;                   // Hessian kind: streaming (core/model/weights.h); the KLD kind refuses them
  KldScorerFactory kld_backend;       // KLD kind: the forward passes elsewhere; empty: the CPU
  RtnBackend rtn_backend;             // KLD kind: the candidates' RTN elsewhere (Unsupported: the CPU)
  // Hessian kind: tr(D H Dᵀ) elsewhere, as AWQ's grid with the one scale vector 1 (Unsupported: the CPU).
  AwqGridBackend error_backend;
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
  std::string backend = "cpu";        // where the forward passes ran (KLD kind)
  std::vector<std::string> warnings;  // a backend that could not take the model
};

// `windows`: S windows of `ctx` tokens (draw_windows). `m` is restored before returning.
Expected<SensitivityTable> measure_sensitivity(ModelWeights& m, const std::vector<int32_t>& windows, int64_t ctx,
                                               const SensitivityOptions& options, Progress* progress = nullptr,
                                               const CancelToken* cancel = nullptr);

}  // namespace lowbit
