#include "core/calib/calibration.h"

#include <algorithm>

#include <random>

namespace lowbit {

Expected<void> CalibOptions::validate() const {
  if (samples < 1) return make_error(ErrorCode::InvalidArgument, "--samples must be at least 1");
  if (ctx < 2) return make_error(ErrorCode::InvalidArgument, "--ctx must be at least 2");
  if (samples * ctx > 64'000'000) return make_error(ErrorCode::InvalidArgument, "--samples × --ctx is too large");
  return {};
}

Expected<std::vector<int32_t>> draw_windows(const std::vector<int32_t>& ids, const CalibOptions& o) {
  LB_TRY_VOID(o.validate());
  const auto n = static_cast<int64_t>(ids.size());
  if (n < o.ctx + 1)
    return make_error(ErrorCode::InvalidArgument, "the calibration text has " + std::to_string(n) +
                                                      " tokens, fewer than one window of " + std::to_string(o.ctx) + " + 1");
  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<int64_t> start(0, n - o.ctx - 1);
  std::vector<int32_t> out;
  out.reserve(static_cast<size_t>(o.samples * o.ctx));
  for (int64_t s = 0; s < o.samples; ++s) {
    const int64_t i = start(rng);
    out.insert(out.end(), ids.begin() + i, ids.begin() + i + o.ctx);
  }
  return out;
}

InputStats::InputStats(int64_t channels)
    : xtx_(Eigen::MatrixXd::Zero(channels, channels)),
      mean_abs_sum_(Eigen::VectorXd::Zero(channels)),
      max_abs_(VectorF::Zero(channels)) {}

void InputStats::add(const MatrixRM& x) {
  // Σ x xᵀ in float per chunk (a fast product), accumulated in double across chunks; by panels of
  // channels, so the float product never needs a whole [channels × channels] temporary (485 MB for
  // a 7B model's 11008 FFN channels).
  const Eigen::Index c = x.cols(), panel = 1024;
  for (Eigen::Index r0 = 0; r0 < c; r0 += panel) {
    const Eigen::Index k = std::min(panel, c - r0);
    const Eigen::MatrixXf part = x.middleCols(r0, k).transpose() * x;
    xtx_.middleRows(r0, k) += part.cast<double>();
  }
  const auto a = x.cwiseAbs();
  mean_abs_sum_ += a.colwise().sum().transpose().cast<double>();
  max_abs_ = max_abs_.cwiseMax(a.colwise().maxCoeff().transpose());
  n_ += x.rows();
}

Expected<void> InputStats::add_sums(std::span<const float> xtx, std::span<const float> abs_sum,
                                    std::span<const float> max_abs, int64_t tokens) {
  const Eigen::Index c = channels();
  const auto n = static_cast<size_t>(c);
  if (xtx.size() != n * n || abs_sum.size() != n || max_abs.size() != n || tokens < 0)
    return make_error(ErrorCode::InvalidArgument, "input statistics of " + std::to_string(c) + " channels: sums of the wrong size");
  xtx_ += Eigen::Map<const MatrixRM>(xtx.data(), c, c).cast<double>();
  mean_abs_sum_ += Eigen::Map<const VectorF>(abs_sum.data(), c).cast<double>();
  max_abs_ = max_abs_.cwiseMax(Eigen::Map<const VectorF>(max_abs.data(), c));
  n_ += tokens;
  return {};
}

MatrixRM InputStats::hessian() const {
  if (n_ == 0) return MatrixRM::Zero(channels(), channels());
  return (xtx_ * (2.0 / static_cast<double>(n_))).cast<float>();
}

VectorF InputStats::mean_abs() const {
  if (n_ == 0) return VectorF::Zero(channels());
  return (mean_abs_sum_ / static_cast<double>(n_)).cast<float>();
}

}  // namespace lowbit
