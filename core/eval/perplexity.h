// Perplexity and KL divergence, with the definitions of DESIGN.md:
// - strided: one token stream (no BOS), non-overlapping windows of ctx tokens (tail dropped), every
//   token but the first of each window scored;
// - llama.cpp: as llama-perplexity does it — the stream starts with BOS where the tokenizer adds
//   one, the first token of every chunk is replaced by BOS, and of each chunk's logits only positions
//   ctx/2 .. ctx-2 are scored (ctx - ctx/2 - 1 tokens per chunk).
// KL divergence compares the model with a reference model on the same windows and scored positions:
// mean KL(P_ref || P), its 99th percentile, and the share of positions whose top-1 token agrees.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/eval/forward_backend.h"
#include "core/jobs/progress.h"
#include "core/model/weights.h"

namespace lowbit {

enum class PplMethod { Strided, LlamaCpp };
const char* ppl_method_name(PplMethod m);
std::optional<PplMethod> ppl_method_from_name(const std::string& name);

struct PplOptions {
  int64_t ctx = 256;
  PplMethod method = PplMethod::Strided;
  int64_t max_windows = 0;      // 0: all windows
  int64_t batch_windows = 0;    // windows per forward call; 0: chosen from the model size
  std::optional<int32_t> bos;   // llama.cpp method: the BOS id put first in each chunk (none: keep)
  Expected<void> validate() const;
};

struct KldStats {
  double mean = 0;
  double p99 = 0;
  double top1_agreement = 0;  // 0..1
  int64_t positions = 0;
};

struct PplResult {
  double ppl = 0;
  double nll_mean = 0;      // mean negative log-likelihood (nats)
  double ppl_stderr = 0;    // standard error of ppl, as llama-perplexity prints it
  int64_t tokens_scored = 0;
  int64_t windows = 0;
  double seconds = 0;
  double tokens_per_second = 0;  // tokens evaluated (windows × ctx) per second
  PplMethod method = PplMethod::Strided;
  std::optional<KldStats> kld;
};

// `tokens` is the whole text tokenized as the method expects (llama.cpp: with BOS first when the
// tokenizer adds one). `reference`, when given, is evaluated on the same windows for KLD.
Expected<PplResult> evaluate_perplexity(const ModelWeights& model, std::span<const int32_t> tokens,
                                        const PplOptions& options, Progress* progress = nullptr,
                                        const CancelToken* cancel = nullptr, const ModelWeights* reference = nullptr);
// The same on any backend (core/eval/forward_backend.h): without a reference only the NLL of each
// scored position comes back from the backend; with one, both backends' logits.
Expected<PplResult> evaluate_perplexity(ForwardBackend& model, std::span<const int32_t> tokens,
                                        const PplOptions& options, Progress* progress = nullptr,
                                        const CancelToken* cancel = nullptr, ForwardBackend* reference = nullptr);

}  // namespace lowbit
