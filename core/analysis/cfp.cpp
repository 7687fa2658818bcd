#include "core/analysis/cfp.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace lowbit {

Expected<void> CfpOptions::validate() const {
  if (!std::isfinite(lambda1) || lambda1 < 0)
    return make_error(ErrorCode::InvalidArgument, "CFP: lambda1 must be finite and >= 0, got " + std::to_string(lambda1));
  if (!std::isfinite(lambda2) || lambda2 < 0)
    return make_error(ErrorCode::InvalidArgument, "CFP: lambda2 must be finite and >= 0, got " + std::to_string(lambda2));
  return {};
}

namespace {

// Type-7 quantile of sorted values.
double quantile(const std::vector<double>& sorted, double p) {
  const double h = static_cast<double>(sorted.size() - 1) * p;
  const auto lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace

CfpResult cfp_fences(std::span<const float> values, const CfpOptions& o) {
  CfpResult r;
  // Indices of the finite values, sorted ascending by value (ties by index, for a stable order).
  std::vector<int64_t> idx;
  idx.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    if (std::isfinite(values[i])) idx.push_back(static_cast<int64_t>(i));
  if (idx.empty()) return r;
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return values[a] < values[b]; });
  std::vector<double> x(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) x[i] = values[static_cast<size_t>(idx[i])];

  r.q1 = quantile(x, 0.25);
  r.q3 = quantile(x, 0.75);
  r.iqr = r.q3 - r.q1;
  r.coarse_threshold = r.q3 + o.lambda1 * r.iqr;
  r.threshold = r.coarse_threshold;
  const double T = r.coarse_threshold;
  if (!(x.back() > T)) return r;  // no candidates

  // S = x[s0, n): the values ≥ Q3.
  const size_t n = x.size();
  const size_t s0 = static_cast<size_t>(std::lower_bound(x.begin(), x.end(), r.q3) - x.begin());
  const size_t m = n - s0;
  double scale = r.iqr > 0 ? r.iqr : x.back() - r.q3;
  if (!(scale > 0)) return r;
  // Prefix sums of (x − Q3)/s and its square over S, for O(1) means and variances of any split.
  std::vector<double> p1(m + 1, 0.0), p2(m + 1, 0.0);
  for (size_t i = 0; i < m; ++i) {
    const double z = (x[s0 + i] - r.q3) / scale;
    p1[i + 1] = p1[i] + z;
    p2[i + 1] = p2[i] + z * z;
  }
  auto stats = [&](size_t a, size_t b, double& mean, double& var) {
    const double cnt = static_cast<double>(b - a);
    mean = (p1[b] - p1[a]) / cnt;
    var = std::max(0.0, (p2[b] - p2[a]) / cnt - mean * mean);
  };
  double best_j = 0;
  size_t best_k = 0;  // 0: no split accepted
  for (size_t k = 1; k < m; ++k) {
    const double lo = x[s0 + k - 1], hi = x[s0 + k];
    if (!(hi > T) || !(lo < hi)) continue;
    double ml, vl, mu, vu;
    stats(0, k, ml, vl);
    stats(k, m, mu, vu);
    const double j = (hi - lo) / scale - o.lambda2 * (std::sqrt(vl) + std::sqrt(vu));
    if (j > best_j || (j == best_j && best_k != 0 && j > 0)) {
      best_j = j;
      best_k = k;
    }
  }
  if (best_k == 0) {
    r.threshold = std::max(T, x.back());
    return r;
  }
  r.threshold = std::max(T, x[s0 + best_k - 1]);
  for (size_t i = n; i-- > s0 + best_k;) r.outliers.push_back(idx[i]);
  // Largest value first; equal values by ascending index (idx is ascending by index within ties).
  std::stable_sort(r.outliers.begin(), r.outliers.end(), [&](int64_t a, int64_t b) {
    if (values[a] != values[b]) return values[a] > values[b];
    return a < b;
  });
  return r;
}

}  // namespace lowbit
