#include "core/analysis/weight_hessian.h"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/analysis/scaled_rtn.h"

namespace lowbit {

double hessian_offdiag_mass(const MatrixRM& h) {
  double total = 0, diag = 0;
  for (int64_t i = 0; i < h.rows(); ++i) {
    for (int64_t j = 0; j < h.cols(); ++j) total += std::fabs(static_cast<double>(h(i, j)));
    diag += std::fabs(static_cast<double>(h(i, i)));
  }
  return total > 0 ? (total - diag) / total : 0.0;
}

double hessian_mean_abs_corr(const MatrixRM& h) {
  const int64_t c = h.rows();
  std::vector<double> inv(static_cast<size_t>(c), 0.0);
  int64_t live = 0;
  for (int64_t i = 0; i < c; ++i)
    if (h(i, i) > 0) {
      inv[static_cast<size_t>(i)] = 1.0 / std::sqrt(static_cast<double>(h(i, i)));
      ++live;
    }
  if (live < 2) return 0.0;
  double sum = 0;
  for (int64_t i = 0; i < c; ++i) {
    if (inv[static_cast<size_t>(i)] == 0) continue;
    for (int64_t j = 0; j < c; ++j)
      if (j != i && inv[static_cast<size_t>(j)] != 0)
        sum += std::fabs(static_cast<double>(h(i, j))) * inv[static_cast<size_t>(i)] * inv[static_cast<size_t>(j)];
  }
  return sum / (static_cast<double>(live) * static_cast<double>(live - 1));
}

std::string hessian_level_name(int bits) { return bits <= 0 ? "fp" : "b" + std::to_string(bits); }

HessianArrays analyze_hessian(MatrixRM h, int64_t tokens, int64_t block, LinearInput input, const std::string& level) {
  HessianArrays a;
  a.h = std::move(h);
  a.diag = a.h.diagonal();
  const Eigen::MatrixXd hd = a.h.cast<double>();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(hd, Eigen::EigenvaluesOnly);
  const Eigen::VectorXd ev = es.eigenvalues();  // ascending
  a.eigenvalues = ev.reverse().cast<float>();
  HessianSummary& s = a.summary;
  s.block = block;
  s.input = input;
  s.level = level;
  s.channels = a.h.rows();
  s.tokens = tokens;
  s.trace = hd.trace();
  s.offdiag_mass = hessian_offdiag_mass(a.h);
  s.mean_abs_corr = hessian_mean_abs_corr(a.h);
  if (ev.size()) {
    s.eig_min = ev[0];
    s.eig_max = ev[ev.size() - 1];
    const double sq = ev.squaredNorm();
    s.effective_rank = sq > 0 ? ev.sum() * ev.sum() / sq : 0.0;
  }
  return a;
}

std::vector<int64_t> default_hessian_blocks(const ModelConfig& c) {
  int64_t per_block = 0;
  for (LinearInput i : kLinearInputs) {
    const int64_t ch = linear_input_channels(c, i);
    per_block += ch * ch;
  }
  std::vector<int64_t> out;
  const int64_t n = c.n_layers;
  if (per_block * n <= (int64_t{32} << 20)) {
    for (int64_t b = 0; b < n; ++b) out.push_back(b);
    return out;
  }
  for (int64_t b : {int64_t{0}, int64_t{1}, n / 2, n - 1})
    if (b >= 0 && b < n && std::find(out.begin(), out.end(), b) == out.end()) out.push_back(b);
  std::sort(out.begin(), out.end());
  return out;
}

Expected<void> collect_quantized_prefix_stats(ModelWeights& m, std::span<const int32_t> windows, int64_t ctx,
                                              const Format* format, const BlockStatsSink& sink, Progress* progress,
                                              const CancelToken* cancel, const BlockHooks& hooks) {
  if (!format) return collect_block_stats(m, windows, ctx, sink, progress, cancel, hooks);
  for (size_t b = 0; b < m.blocks.size(); ++b)
    LB_TRY_VOID(check_scaled_rtn(m.blocks[b], *format, "block " + std::to_string(b)));
  // The fp32 block currently replaced by its quantized form, put back when the walk leaves it.
  struct Restore {
    ModelWeights& m;
    std::optional<int64_t> index;
    DecoderBlock saved;
    void put_back() {
      if (index) m.blocks[static_cast<size_t>(*index)] = std::move(saved);
      index.reset();
    }
    ~Restore() { put_back(); }
  } restore{m, std::nullopt, {}};
  auto quantizing_sink = [&](int64_t b, BlockStats& stats) -> Expected<void> {
    restore.put_back();  // the windows have passed block b − 1
    LB_TRY_VOID(sink(b, stats));
    DecoderBlock& blk = m.blocks[static_cast<size_t>(b)];
    restore.saved = blk;
    restore.index = b;
    scaled_rtn_block(blk, *format, 1.0f);
    return {};
  };
  return collect_block_stats(m, windows, ctx, quantizing_sink, progress, cancel, hooks);
}

}  // namespace lowbit
