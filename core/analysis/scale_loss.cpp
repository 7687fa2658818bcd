#include "core/analysis/scale_loss.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>

#include "core/analysis/scaled_rtn.h"
#include "core/jobs/progress.h"
#include "core/model/forward.h"

namespace lowbit {

namespace {

Unexpected cancelled() { return make_error(ErrorCode::Cancelled, "analysis cancelled"); }

// Blocks added to a runner for one computation, dropped when it returns.
struct BlockHandles {
  ScaleLossRunner& r;
  std::vector<int64_t> handles;
  ~BlockHandles() {
    for (int64_t h : handles) r.drop_block(h);
  }
};

// The CPU's runner: blocks and hidden states in host memory, blocks run in chunks of windows.
class CpuScaleLossRunner final : public ScaleLossRunner {
 public:
  CpuScaleLossRunner(const ModelWeights& m, std::span<const int32_t> windows, int64_t ctx, int slots)
      : m_(m), windows_(windows.begin(), windows.end()), ctx_(ctx), slots_(static_cast<size_t>(slots)) {}
  std::string name() const override { return "cpu"; }
  Expected<int64_t> add_block(const DecoderBlock& b) override {
    blocks_.push_back(b);
    return static_cast<int64_t>(blocks_.size()) - 1;
  }
  void drop_block(int64_t handle) override { blocks_[static_cast<size_t>(handle)] = DecoderBlock{}; }
  Expected<void> embed(int slot) override {
    return embed_windows(m_, windows_, static_cast<int64_t>(windows_.size()) / ctx_, ctx_, slots_[static_cast<size_t>(slot)]);
  }
  Expected<void> copy(int from, int to) override {
    slots_[static_cast<size_t>(to)] = slots_[static_cast<size_t>(from)];
    return {};
  }
  Expected<void> run(int64_t block, int slot) override {
    const DecoderBlock& b = blocks_[static_cast<size_t>(block)];
    MatrixRM& x = slots_[static_cast<size_t>(slot)];
    const int64_t T = ctx_, S = x.rows() / T;
    const int64_t chunk = std::max<int64_t>(1, 4096 / T);
    if (chunk >= S) {
      block_forward(m_.config, b, x, S, T);
      return {};
    }
    for (int64_t s0 = 0; s0 < S; s0 += chunk) {
      const int64_t n = std::min(chunk, S - s0);
      MatrixRM xs = x.middleRows(s0 * T, n * T);
      block_forward(m_.config, b, xs, n, T);
      x.middleRows(s0 * T, n * T) = xs;
    }
    return {};
  }
  Expected<double> loss(int slot) override {
    const MatrixRM& x = slots_[static_cast<size_t>(slot)];
    const int64_t T = ctx_, S = x.rows() / T;
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
    return nll / static_cast<double>(S * (T - 1));
  }

 private:
  const ModelWeights& m_;
  std::vector<int32_t> windows_;
  int64_t ctx_;
  std::vector<DecoderBlock> blocks_;
  std::vector<MatrixRM> slots_;
};

}  // namespace

Expected<std::unique_ptr<ScaleLossRunner>> cpu_scale_loss_runner(const ModelWeights& m, std::span<const int32_t> windows,
                                                                 int64_t ctx, int slots) {
  return std::unique_ptr<ScaleLossRunner>(new CpuScaleLossRunner(m, windows, ctx, slots));
}

ScaleLossModel::ScaleLossModel(const ModelWeights& m, const Format& format, bool fixed_codes)
    : m_(m), format_(format), fixed_codes_(fixed_codes) {}

Expected<std::unique_ptr<ScaleLossModel>> ScaleLossModel::build(const ModelWeights& m, std::span<const int32_t> windows,
                                                                int64_t ctx, const Format& format, bool fixed_codes,
                                                                const CancelToken* cancel, const ScaleLossRunnerFactory& runner,
                                                                std::string* note) {
  if (ctx < 2 || windows.empty() || windows.size() % static_cast<size_t>(ctx) != 0)
    return make_error(ErrorCode::InvalidArgument, "scale views: calibration tokens do not form whole windows of " +
                                                      std::to_string(ctx) + " (at least 2) tokens");
  for (size_t b = 0; b < m.blocks.size(); ++b)
    LB_TRY_VOID(check_scaled_rtn(m.blocks[b], format, "scale views, block " + std::to_string(b)));
  std::unique_ptr<ScaleLossModel> s(new ScaleLossModel(m, format, fixed_codes));
  const int slots = static_cast<int>(m.blocks.size()) + 3;  // every block's input, the head's, two scratch
  if (runner) {
    auto made = runner(m, windows, ctx, slots);
    if (made) {
      s->runner_ = std::move(*made);
    } else if (made.error().code != ErrorCode::Unsupported && made.error().code != ErrorCode::OutOfMemory) {
      return Unexpected{made.error()};
    } else if (note) {
      *note = made.error().message;
    }
  }
  if (!s->runner_) {
    LB_TRY_ASSIGN(s->runner_, cpu_scale_loss_runner(m, windows, ctx, slots));
  }
  ScaleLossRunner& r = *s->runner_;
  LB_TRY_VOID(r.embed(s->input_slot(0)));
  for (size_t k = 0; k < m.blocks.size(); ++k) {
    if (cancel && cancel->cancelled()) return cancelled();
    DecoderBlock q = m.blocks[k];
    scaled_rtn_block(q, format, 1.0f);
    LB_TRY_ASSIGN(const int64_t handle, r.add_block(q));
    s->quantized_.push_back(handle);
    const int64_t b = static_cast<int64_t>(k);
    LB_TRY_VOID(r.copy(s->input_slot(b), s->input_slot(b + 1)));
    LB_TRY_VOID(r.run(handle, s->input_slot(b + 1)));
  }
  LB_TRY_ASSIGN(s->base_loss_, r.loss(s->input_slot(s->blocks())));
  return s;
}

DecoderBlock ScaleLossModel::perturbed(int64_t block, float c) const {
  DecoderBlock b = m_.blocks[static_cast<size_t>(block)];
  scaled_rtn_block(b, format_, c, fixed_codes_);
  return b;
}

Expected<double> ScaleLossModel::finish(int64_t from, int slot) const {
  for (int64_t k = from; k < blocks(); ++k) LB_TRY_VOID(runner_->run(quantized_[static_cast<size_t>(k)], slot));
  return runner_->loss(slot);
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
  ScaleLossRunner& r = *runner_;
  LB_TRY_VOID(r.copy(input_slot(mult.front().first), y_slot()));
  size_t next = 0;
  for (int64_t k = mult.front().first; k < blocks(); ++k) {
    if (next < mult.size() && mult[next].first == k) {
      LB_TRY_ASSIGN(const int64_t h, r.add_block(perturbed(k, mult[next].second)));
      auto ran = r.run(h, y_slot());
      r.drop_block(h);
      LB_TRY_VOID(ran);
      ++next;
    } else {
      LB_TRY_VOID(r.run(quantized_[static_cast<size_t>(k)], y_slot()));
    }
  }
  return r.loss(y_slot());
}

Expected<ScaleHessianResult> ScaleLossModel::scale_hessian(double step, Progress* progress,
                                                           const CancelToken* cancel) const {
  if (!(step > 0 && step < 0.5))
    return make_error(ErrorCode::InvalidArgument, "scale Hessian: the step must be in (0, 0.5), got " + std::to_string(step));
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t n = blocks();
  const std::array<float, 2> cs = {static_cast<float>(1.0 + step), static_cast<float>(1.0 - step)};
  const double h = (static_cast<double>(cs[0]) - static_cast<double>(cs[1])) / 2;  // the step the floats take
  ScaleLossRunner& run = *runner_;
  // The perturbed blocks, kept by the runner for the whole Hessian (dropped on every return).
  BlockHandles pert{run, {}};
  for (int64_t k = 0; k < n; ++k)
    for (int s = 0; s < 2; ++s) {
      LB_TRY_ASSIGN(const int64_t h, run.add_block(perturbed(k, cs[static_cast<size_t>(s)])));
      pert.handles.push_back(h);
    }
  auto pert_of = [&](int64_t k, int s) { return pert.handles[static_cast<size_t>(2 * k + s)]; };
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
  const int Y = y_slot(), W = w_slot();
  for (int64_t i = 0; i < n; ++i)
    for (int si = 0; si < 2; ++si) {
      if (cancel && cancel->cancelled()) return cancelled();
      LB_TRY_VOID(run.copy(input_slot(i), Y));
      LB_TRY_VOID(run.run(pert_of(i, si), Y));
      LB_TRY_VOID(run.copy(Y, W));
      LB_TRY_ASSIGN(diag[static_cast<size_t>(i)][static_cast<size_t>(si)], finish(i + 1, W));
      ++r.evaluations;
      for (int64_t j = i + 1; j < n; ++j) {
        if (cancel && cancel->cancelled()) return cancelled();
        for (int sj = 0; sj < 2; ++sj) {
          LB_TRY_VOID(run.copy(Y, W));
          LB_TRY_VOID(run.run(pert_of(j, sj), W));
          LB_TRY_ASSIGN(pair[static_cast<size_t>(i)][static_cast<size_t>(j)][static_cast<size_t>(si)][static_cast<size_t>(sj)],
                        finish(j + 1, W));
          ++r.evaluations;
        }
        LB_TRY_VOID(run.run(quantized_[static_cast<size_t>(j)], Y));
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
  ScaleLossRunner& run = *runner_;
  BlockHandles second{run, {}};
  for (double v : values) {
    LB_TRY_ASSIGN(const int64_t h, run.add_block(perturbed(a + 1, static_cast<float>(v))));
    second.handles.push_back(h);
  }
  r.loss.assign(k, std::vector<double>(k, 0.0));
  const int Y = y_slot(), W = w_slot();
  for (size_t i = 0; i < k; ++i) {
    LB_TRY_VOID(run.copy(input_slot(a), Y));
    {
      BlockHandles first{run, {}};
      LB_TRY_ASSIGN(const int64_t h, run.add_block(perturbed(a, static_cast<float>(values[i]))));
      first.handles.push_back(h);
      LB_TRY_VOID(run.run(h, Y));
    }
    for (size_t j = 0; j < k; ++j) {
      if (cancel && cancel->cancelled()) return cancelled();
      LB_TRY_VOID(run.copy(Y, W));
      LB_TRY_VOID(run.run(second.handles[j], W));
      LB_TRY_ASSIGN(r.loss[i][j], finish(a + 2, W));
    }
    if (progress)
      progress->report(static_cast<double>(i + 1) / static_cast<double>(k),
                       "landscape " + format_.name() + ": row " + std::to_string(i + 1) + "/" + std::to_string(k));
  }
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace lowbit
