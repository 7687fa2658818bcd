#include "core/analysis/scale_loss.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>

#include "core/analysis/scaled_rtn.h"
#include "core/model/forward.h"

namespace lowbit {

namespace {

Unexpected cancelled() { return make_error(ErrorCode::Cancelled, "analysis cancelled"); }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

ScaleLossModel::ScaleLossModel(const ModelWeights& m, std::span<const int32_t> windows, int64_t ctx, const Format& format,
                               bool fixed_codes)
    : m_(m), windows_(windows.begin(), windows.end()), ctx_(ctx), format_(format), fixed_codes_(fixed_codes) {}

Expected<std::unique_ptr<ScaleLossModel>> ScaleLossModel::build(const ModelWeights& m, std::span<const int32_t> windows,
                                                                int64_t ctx, const Format& format, bool fixed_codes,
                                                                const CancelToken* cancel) {
  if (ctx < 2 || windows.empty() || windows.size() % static_cast<size_t>(ctx) != 0)
    return make_error(ErrorCode::InvalidArgument, "scale views: calibration tokens do not form whole windows of " +
                                                      std::to_string(ctx) + " (at least 2) tokens");
  for (size_t b = 0; b < m.blocks.size(); ++b)
    LB_TRY_VOID(check_scaled_rtn(m.blocks[b], format, "scale views, block " + std::to_string(b)));
  std::unique_ptr<ScaleLossModel> s(new ScaleLossModel(m, windows, ctx, format, fixed_codes));
  const int64_t S = static_cast<int64_t>(windows.size()) / ctx;
  s->count_ = S * (ctx - 1);
  MatrixRM x;
  LB_TRY_VOID(embed_windows(m, windows, S, ctx, x));
  s->inputs_.reserve(m.blocks.size() + 1);
  s->inputs_.push_back(x);
  for (const DecoderBlock& b : m.blocks) {
    if (cancel && cancel->cancelled()) return cancelled();
    DecoderBlock q = b;
    scaled_rtn_block(q, format, 1.0f);
    s->run_block(q, x);
    s->inputs_.push_back(x);
    s->quantized_.push_back(std::move(q));
  }
  s->base_loss_ = s->head_loss(x);
  return s;
}

DecoderBlock ScaleLossModel::perturbed(int64_t block, float c) const {
  DecoderBlock b = m_.blocks[static_cast<size_t>(block)];
  scaled_rtn_block(b, format_, c, fixed_codes_);
  return b;
}

void ScaleLossModel::run_block(const DecoderBlock& b, MatrixRM& x) const {
  const int64_t T = ctx_;
  const int64_t S = x.rows() / T;
  const int64_t chunk = std::max<int64_t>(1, 4096 / T);
  if (chunk >= S) {
    block_forward(m_.config, b, x, S, T);
    return;
  }
  for (int64_t s0 = 0; s0 < S; s0 += chunk) {
    const int64_t n = std::min(chunk, S - s0);
    MatrixRM xs = x.middleRows(s0 * T, n * T);
    block_forward(m_.config, b, xs, n, T);
    x.middleRows(s0 * T, n * T) = xs;
  }
}

double ScaleLossModel::head_loss(const MatrixRM& x) const {
  const int64_t T = ctx_;
  const int64_t S = x.rows() / T;
  const int64_t vocab = m_.config.vocab;
  const int64_t chunk = std::max<int64_t>(1, 4096 / T);
  double nll = 0;
  for (int64_t s0 = 0; s0 < S; s0 += chunk) {
    const int64_t n = std::min(chunk, S - s0);
    const MatrixRM xs = x.middleRows(s0 * T, n * T);
    head_forward(m_, xs, n, T, [&](int64_t w, const MatrixRM& logits) {
      const int32_t* next = windows_.data() + (s0 + w) * T + 1;
      double part = 0;
#pragma omp parallel for reduction(+ : part) schedule(static)
      for (int64_t p = 0; p < T - 1; ++p) {
        const float* row = logits.row(p).data();
        float mx = row[0];
        for (int64_t i = 1; i < vocab; ++i) mx = std::max(mx, row[i]);
        double sum = 0;
        for (int64_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(row[i] - mx));
        part += static_cast<double>(mx) + std::log(sum) - static_cast<double>(row[next[p]]);
      }
      nll += part;
    });
  }
  return nll / static_cast<double>(count_);
}

double ScaleLossModel::finish(int64_t from, MatrixRM x) const {
  for (int64_t k = from; k < blocks(); ++k) run_block(quantized_[static_cast<size_t>(k)], x);
  return head_loss(x);
}

Expected<double> ScaleLossModel::loss(std::vector<std::pair<int64_t, float>> mult) const {
  if (mult.empty()) return base_loss_;
  std::sort(mult.begin(), mult.end());
  for (size_t i = 0; i < mult.size(); ++i)
    if (mult[i].first < 0 || mult[i].first >= blocks() || (i > 0 && mult[i].first == mult[i - 1].first) ||
        !(mult[i].second > 0))
      return make_error(ErrorCode::InvalidArgument, "scale views: multiplier " + std::to_string(mult[i].second) +
                                                        " for block " + std::to_string(mult[i].first) +
                                                        " (blocks must be distinct and in range, multipliers > 0)");
  MatrixRM x = inputs_[static_cast<size_t>(mult.front().first)];
  size_t next = 0;
  for (int64_t k = mult.front().first; k < blocks(); ++k) {
    if (next < mult.size() && mult[next].first == k) {
      run_block(perturbed(k, mult[next].second), x);
      ++next;
    } else {
      run_block(quantized_[static_cast<size_t>(k)], x);
    }
  }
  return head_loss(x);
}

Expected<ScaleHessianResult> ScaleLossModel::scale_hessian(double step, Progress* progress,
                                                           const CancelToken* cancel) const {
  if (!(step > 0 && step < 0.5))
    return make_error(ErrorCode::InvalidArgument, "scale Hessian: the step must be in (0, 0.5), got " + std::to_string(step));
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t n = blocks();
  const std::array<float, 2> cs = {static_cast<float>(1.0 + step), static_cast<float>(1.0 - step)};
  const double h = (static_cast<double>(cs[0]) - static_cast<double>(cs[1])) / 2;  // the step the floats take
  std::vector<std::array<DecoderBlock, 2>> pert(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k)
    for (int s = 0; s < 2; ++s) pert[static_cast<size_t>(k)][static_cast<size_t>(s)] = perturbed(k, cs[static_cast<size_t>(s)]);
  // diag[i][s] = L(c_i = cs[s]); pair[i][j][si][sj] = L(c_i = cs[si], c_j = cs[sj]) for i < j.
  std::vector<std::array<double, 2>> diag(static_cast<size_t>(n));
  std::vector<std::vector<std::array<std::array<double, 2>, 2>>> pair(
      static_cast<size_t>(n), std::vector<std::array<std::array<double, 2>, 2>>(static_cast<size_t>(n)));
  ScaleHessianResult r;
  r.format = format_.name();
  r.bits = format_.bits;
  r.fixed_codes = fixed_codes_;
  r.step = step;
  r.base_loss = base_loss_;
  const double total = static_cast<double>(2 * n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int si = 0; si < 2; ++si) {
      if (cancel && cancel->cancelled()) return cancelled();
      MatrixRM y = inputs_[static_cast<size_t>(i)];
      run_block(pert[static_cast<size_t>(i)][static_cast<size_t>(si)], y);
      diag[static_cast<size_t>(i)][static_cast<size_t>(si)] = finish(i + 1, y);
      ++r.evaluations;
      for (int64_t j = i + 1; j < n; ++j) {
        if (cancel && cancel->cancelled()) return cancelled();
        for (int sj = 0; sj < 2; ++sj) {
          MatrixRM w = y;
          run_block(pert[static_cast<size_t>(j)][static_cast<size_t>(sj)], w);
          pair[static_cast<size_t>(i)][static_cast<size_t>(j)][static_cast<size_t>(si)][static_cast<size_t>(sj)] =
              finish(j + 1, std::move(w));
          ++r.evaluations;
        }
        run_block(quantized_[static_cast<size_t>(j)], y);
      }
      if (progress)
        progress->report(static_cast<double>(r.evaluations) / total,
                         "scale Hessian " + format_.name() + ": block " + std::to_string(i + 1) + "/" + std::to_string(n) +
                             (si == 0 ? " (+h)" : " (−h)"));
    }
  r.matrix.assign(static_cast<size_t>(n), std::vector<double>(static_cast<size_t>(n), 0.0));
  for (int64_t i = 0; i < n; ++i) {
    const auto& d = diag[static_cast<size_t>(i)];
    r.matrix[static_cast<size_t>(i)][static_cast<size_t>(i)] = (d[0] - 2 * base_loss_ + d[1]) / (h * h);
    for (int64_t j = i + 1; j < n; ++j) {
      const auto& p = pair[static_cast<size_t>(i)][static_cast<size_t>(j)];
      const double v = (p[0][0] - p[0][1] - p[1][0] + p[1][1]) / (4 * h * h);
      r.matrix[static_cast<size_t>(i)][static_cast<size_t>(j)] = v;
      r.matrix[static_cast<size_t>(j)][static_cast<size_t>(i)] = v;
    }
  }
  r.seconds = seconds_since(t0);
  return r;
}

Expected<LandscapeResult> ScaleLossModel::landscape(int64_t a, const std::vector<double>& values, Progress* progress,
                                                    const CancelToken* cancel) const {
  if (a < 0 || a + 1 >= blocks())
    return make_error(ErrorCode::InvalidArgument, "landscape: blocks " + std::to_string(a) + " and " + std::to_string(a + 1) +
                                                      " are not two blocks of a model with " + std::to_string(blocks()));
  for (double v : values)
    if (!(v > 0)) return make_error(ErrorCode::InvalidArgument, "landscape: multipliers must be > 0");
  const auto t0 = std::chrono::steady_clock::now();
  LandscapeResult r;
  r.format = format_.name();
  r.bits = format_.bits;
  r.fixed_codes = fixed_codes_;
  r.block_a = a;
  r.block_b = a + 1;
  r.values = values;
  r.base_loss = base_loss_;
  const size_t k = values.size();
  std::vector<DecoderBlock> second;
  second.reserve(k);
  for (double v : values) second.push_back(perturbed(a + 1, static_cast<float>(v)));
  r.loss.assign(k, std::vector<double>(k, 0.0));
  for (size_t i = 0; i < k; ++i) {
    MatrixRM y = inputs_[static_cast<size_t>(a)];
    run_block(perturbed(a, static_cast<float>(values[i])), y);
    for (size_t j = 0; j < k; ++j) {
      if (cancel && cancel->cancelled()) return cancelled();
      MatrixRM w = y;
      run_block(second[j], w);
      r.loss[i][j] = finish(a + 2, std::move(w));
    }
    if (progress)
      progress->report(static_cast<double>(i + 1) / static_cast<double>(k),
                       "landscape " + format_.name() + ": row " + std::to_string(i + 1) + "/" + std::to_string(k));
  }
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace lowbit
