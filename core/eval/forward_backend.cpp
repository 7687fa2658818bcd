#include "core/eval/forward_backend.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/model/forward.h"

namespace lowbit {

double token_nll(std::span<const float> row, int32_t target) {
  float mx = row[0];
  for (float v : row) mx = std::max(mx, v);
  double sum = 0;
  for (float v : row) sum += std::exp(static_cast<double>(v - mx));
  const double lse = static_cast<double>(mx) + std::log(sum);
  return lse - static_cast<double>(row[static_cast<size_t>(target)]);
}

Expected<void> ForwardBackend::nll(std::span<const int32_t> tokens, int64_t B, int64_t T, int64_t first,
                                   std::span<double> out) {
  const int64_t per_window = T - 1 - first;
  if (first < 0 || per_window < 0 || static_cast<int64_t>(out.size()) != B * per_window ||
      static_cast<int64_t>(tokens.size()) != B * T)
    return make_error(ErrorCode::InvalidArgument, "nll: " + std::to_string(out.size()) + " outputs and " +
                                                      std::to_string(tokens.size()) + " tokens do not fit " +
                                                      std::to_string(B) + " windows of " + std::to_string(T) +
                                                      " scored from position " + std::to_string(first));
  const int64_t vocab = config().vocab;
  return logits(tokens, B, T, [&](int64_t b, std::span<const float> l) {
    for (int64_t p = first; p < T - 1; ++p)
      out[static_cast<size_t>(b * per_window + p - first)] =
          token_nll(l.subspan(static_cast<size_t>(p * vocab), static_cast<size_t>(vocab)),
                    tokens[static_cast<size_t>(b * T + p + 1)]);
  });
}

std::string CpuForward::device() const {
  return "CPU, " + std::to_string(compute_threads()) + " threads";
}

Expected<void> CpuForward::logits(std::span<const int32_t> tokens, int64_t B, int64_t T, const WindowLogitsSink& sink) {
  return forward_windows(*weights_, tokens, B, T, [&](int64_t b, const MatrixRM& l) {
    sink(b, std::span<const float>(l.data(), static_cast<size_t>(l.size())));
  });
}

std::string StreamedCpuForward::device() const { return "CPU, " + std::to_string(compute_threads()) + " threads, streamed"; }

Expected<void> StreamedCpuForward::logits(std::span<const int32_t> tokens, int64_t B, int64_t T, const WindowLogitsSink& sink) {
  ModelWeights& m = *weights_;
  MatrixRM x;
  LB_TRY_VOID(embed_windows(m, tokens, B, T, x));
  for (int64_t b = 0; b < m.config.n_layers; ++b) {
    LB_TRY_VOID(load_block(*ck_, m, b));
    block_forward(m.config, m.blocks[static_cast<size_t>(b)], x, B, T);
    release_block(m, b);
  }
  head_forward(m, x, B, T, [&](int64_t w, const MatrixRM& l) { sink(w, std::span<const float>(l.data(), static_cast<size_t>(l.size()))); });
  return {};
}

Expected<std::unique_ptr<ForwardBackend>> make_forward(const ForwardFactory& factory, const ModelWeights& weights,
                                                      std::string* fallback_note) {
  if (factory) {
    auto made = factory(weights);
    if (made) return std::move(*made);
    if (made.error().code != ErrorCode::Unsupported) return Unexpected{made.error()};
    if (fallback_note) *fallback_note = made.error().message + "; evaluated on the CPU";
  }
  return std::unique_ptr<ForwardBackend>(std::make_unique<CpuForward>(weights));
}

}  // namespace lowbit
