#include "core/eval/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "core/model/forward.h"

namespace lowbit {
namespace {

// log-softmax of one row, in double for the normalizer.
void log_softmax(const float* logits, int64_t n, std::vector<double>& out) {
  out.resize(static_cast<size_t>(n));
  float mx = logits[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i] - mx));
  const double lse = static_cast<double>(mx) + std::log(sum);
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = static_cast<double>(logits[i]) - lse;
}

int64_t argmax(const float* v, int64_t n) { return std::max_element(v, v + n) - v; }

}  // namespace

const char* ppl_method_name(PplMethod m) { return m == PplMethod::Strided ? "strided" : "llama.cpp"; }

std::optional<PplMethod> ppl_method_from_name(const std::string& name) {
  if (name == "strided") return PplMethod::Strided;
  if (name == "llama.cpp" || name == "llamacpp") return PplMethod::LlamaCpp;
  return std::nullopt;
}

Expected<void> PplOptions::validate() const {
  if (ctx < 4) return make_error(ErrorCode::InvalidArgument, "--ctx must be at least 4, got " + std::to_string(ctx));
  if (max_windows < 0) return make_error(ErrorCode::InvalidArgument, "--max-windows must not be negative");
  if (batch_windows < 0) return make_error(ErrorCode::InvalidArgument, "batch_windows must not be negative");
  return {};
}

Expected<PplResult> evaluate_perplexity(const ModelWeights& model, std::span<const int32_t> tokens, const PplOptions& opt,
                                        Progress* progress, const CancelToken* cancel, const ModelWeights* reference) {
  CpuForward cpu(model);
  std::optional<CpuForward> cpu_reference;
  if (reference) cpu_reference.emplace(*reference);
  return evaluate_perplexity(cpu, tokens, opt, progress, cancel, cpu_reference ? &*cpu_reference : nullptr);
}

Expected<PplResult> evaluate_perplexity(ForwardBackend& model, std::span<const int32_t> tokens, const PplOptions& opt,
                                        Progress* progress, const CancelToken* cancel, ForwardBackend* reference) {
  LB_TRY_VOID(opt.validate());
  const ModelConfig& c = model.config();
  const int64_t ctx = opt.ctx;
  if (c.learned_positions && ctx > c.max_positions)
    return make_error(ErrorCode::InvalidArgument, "--ctx " + std::to_string(ctx) + " exceeds the model's " +
                                                      std::to_string(c.max_positions) + " positions");
  if (reference && reference->config().vocab != c.vocab)
    return make_error(ErrorCode::InvalidArgument, "KLD: the reference model's vocabulary has " + std::to_string(reference->config().vocab) +
                                                      " tokens, the model's " + std::to_string(c.vocab));
  int64_t windows = static_cast<int64_t>(tokens.size()) / ctx;
  if (opt.max_windows > 0) windows = std::min(windows, opt.max_windows);
  if (windows == 0)
    return make_error(ErrorCode::InvalidArgument, "the text has " + std::to_string(tokens.size()) +
                                                      " tokens, fewer than one window of " + std::to_string(ctx));
  const int64_t first = opt.method == PplMethod::Strided ? 0 : ctx / 2;  // first scored logit position
  const int64_t per_window = ctx - 1 - first;

  // Windows per forward call: enough rows for efficient matrix products, bounded logits memory.
  int64_t batch = opt.batch_windows;
  if (batch == 0) batch = std::clamp<int64_t>(1024 / ctx, 1, 16);
  batch = std::min(batch, windows);

  const auto t0 = std::chrono::steady_clock::now();
  double nll = 0, nll2 = 0;
  int64_t count = 0;
  std::vector<double> kl_values;
  int64_t top1_same = 0;
  std::vector<int32_t> batch_tokens;
  std::vector<double> lp, lp_ref, batch_nll;
  std::vector<std::vector<float>> ref_logits;
  const size_t vocab = static_cast<size_t>(c.vocab);

  for (int64_t w0 = 0; w0 < windows; w0 += batch) {
    if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "perplexity cancelled");
    const int64_t nb = std::min(batch, windows - w0);
    batch_tokens.assign(tokens.begin() + w0 * ctx, tokens.begin() + (w0 + nb) * ctx);
    if (opt.method == PplMethod::LlamaCpp && opt.bos)
      for (int64_t b = 0; b < nb; ++b) batch_tokens[static_cast<size_t>(b * ctx)] = *opt.bos;
    // The targets are the original tokens; only position 0 of a window differs (llama.cpp's BOS),
    // and it is never a target.

    if (!reference) {
      batch_nll.resize(static_cast<size_t>(nb * per_window));
      LB_TRY_VOID(model.nll(batch_tokens, nb, ctx, first, batch_nll));
      for (const double l : batch_nll) {
        nll += l;
        nll2 += l * l;
        ++count;
      }
    } else {
      ref_logits.assign(static_cast<size_t>(nb), {});
      LB_TRY_VOID(reference->logits(batch_tokens, nb, ctx, [&](int64_t b, std::span<const float> l) {
        const auto rows = l.subspan(static_cast<size_t>(first) * vocab, static_cast<size_t>(per_window) * vocab);
        ref_logits[static_cast<size_t>(b)].assign(rows.begin(), rows.end());
      }));
      LB_TRY_VOID(model.logits(batch_tokens, nb, ctx, [&](int64_t b, std::span<const float> logits) {
        const int32_t* target = tokens.data() + (w0 + b) * ctx;  // original tokens: llama.cpp restores them
        for (int64_t p = first; p < ctx - 1; ++p) {
          const float* row = logits.data() + static_cast<size_t>(p) * vocab;
          log_softmax(row, c.vocab, lp);
          const double l = -lp[static_cast<size_t>(target[p + 1])];
          nll += l;
          nll2 += l * l;
          ++count;
          const float* rrow = ref_logits[static_cast<size_t>(b)].data() + static_cast<size_t>(p - first) * vocab;
          log_softmax(rrow, c.vocab, lp_ref);
          double kl = 0;
          for (int64_t i = 0; i < c.vocab; ++i) {
            const double pr = std::exp(lp_ref[static_cast<size_t>(i)]);
            kl += pr * (lp_ref[static_cast<size_t>(i)] - lp[static_cast<size_t>(i)]);
          }
          kl_values.push_back(std::max(kl, 0.0));
          top1_same += argmax(row, c.vocab) == argmax(rrow, c.vocab);
        }
      }));
    }
    if (!std::isfinite(nll))  // a NaN or infinite logit: no perplexity to give
      return make_error(ErrorCode::Format, "the log-likelihood of windows " + std::to_string(w0 + 1) + "–" + std::to_string(w0 + nb) +
                                               " is not finite: the model's logits hold NaN or infinite values (a weight, norm or "
                                               "activation out of fp32's range)");
    if (progress) {
      const double done = static_cast<double>(w0 + nb) / static_cast<double>(windows);
      progress->report(done, "window " + std::to_string(w0 + nb) + "/" + std::to_string(windows) +
                                 ", ppl so far " + std::to_string(std::exp(nll / static_cast<double>(count))));
    }
  }
  PplResult r;
  r.method = opt.method;
  r.windows = windows;
  r.tokens_scored = count;
  r.nll_mean = nll / static_cast<double>(count);
  r.ppl = std::exp(r.nll_mean);
  const double var = nll2 / static_cast<double>(count) - r.nll_mean * r.nll_mean;
  if (var > 0 && count > 1) r.ppl_stderr = std::sqrt(var / static_cast<double>(count - 1)) * r.ppl;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.tokens_per_second = r.seconds > 0 ? static_cast<double>(windows * ctx) / r.seconds : 0;
  if (reference) {
    KldStats k;
    k.positions = static_cast<int64_t>(kl_values.size());
    double sum = 0;
    for (double v : kl_values) sum += v;
    k.mean = sum / static_cast<double>(k.positions);
    std::vector<double> sorted = kl_values;
    const size_t idx = std::min(sorted.size() - 1, static_cast<size_t>(0.99 * static_cast<double>(sorted.size())));
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(idx), sorted.end());
    k.p99 = sorted[idx];
    k.top1_agreement = static_cast<double>(top1_same) / static_cast<double>(k.positions);
    r.kld = k;
  }
  return r;
}

}  // namespace lowbit
