#include "core/analysis/outliers.h"

#include <algorithm>
#include <cmath>

namespace lowbit {

Expected<void> OutlierOptions::validate() const {
  if (bins < 1 || bins > 1 << 20)
    return make_error(ErrorCode::InvalidArgument, "outliers: the histogram needs 1 to 2^20 bins, got " + std::to_string(bins));
  if (top_k < 0) return make_error(ErrorCode::InvalidArgument, "outliers: top_k must be >= 0");
  return cfp.validate();
}

namespace {

struct Moments {
  double mean = 0, m2 = 0, m4 = 0;
};

Moments central_moments(const float* v, int64_t n) {
  Moments m;
  if (n == 0) return m;
  double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
  for (int64_t i = 0; i < n; ++i) s += v[i];
  m.mean = s / static_cast<double>(n);
  double s2 = 0, s4 = 0;
  const double mu = m.mean;
#pragma omp parallel for reduction(+ : s2, s4) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const double d = v[i] - mu, d2 = d * d;
    s2 += d2;
    s4 += d2 * d2;
  }
  m.m2 = s2 / static_cast<double>(n);
  m.m4 = s4 / static_cast<double>(n);
  return m;
}

}  // namespace

double pearson_kurtosis(std::span<const float> values) {
  if (values.size() < 2) return 0.0;
  const Moments m = central_moments(values.data(), static_cast<int64_t>(values.size()));
  return m.m2 > 0 ? m.m4 / (m.m2 * m.m2) : 0.0;
}

WeightHistogram weight_histogram(const MatrixRM& w, int bins) {
  WeightHistogram h;
  h.rows = w.rows();
  h.cols = w.cols();
  const int64_t n = w.size();
  const float* v = w.data();
  const Moments m = central_moments(v, n);
  h.mean = m.mean;
  h.std = std::sqrt(m.m2);
  h.kurtosis = n >= 2 && m.m2 > 0 ? m.m4 / (m.m2 * m.m2) : 0.0;
  h.max_abs = n ? static_cast<double>(w.cwiseAbs().maxCoeff()) : 0.0;
  h.range = h.max_abs > 0 ? h.max_abs : 1.0;
  h.counts.assign(static_cast<size_t>(std::max(bins, 1)), 0);
  const double scale = static_cast<double>(h.counts.size()) / (2 * h.range);
  const int64_t last = static_cast<int64_t>(h.counts.size()) - 1;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) continue;
    const auto b = static_cast<int64_t>(std::floor((static_cast<double>(v[i]) + h.range) * scale));
    ++h.counts[static_cast<size_t>(std::clamp<int64_t>(b, 0, last))];
  }
  return h;
}

InputOutliers input_outliers(int64_t block, LinearInput input, const VectorF& max_abs, const OutlierOptions& o) {
  InputOutliers r;
  r.block = block;
  r.input = input;
  r.channels = max_abs.size();
  r.cfp = cfp_fences(std::span<const float>(max_abs.data(), static_cast<size_t>(max_abs.size())), o.cfp);
  r.outlier_count = static_cast<int64_t>(r.cfp.outliers.size());
  for (size_t i = 0; i < r.cfp.outliers.size() && static_cast<int>(i) < o.top_k; ++i)
    r.top.emplace_back(r.cfp.outliers[i], max_abs[r.cfp.outliers[i]]);
  return r;
}

}  // namespace lowbit
