#include "core/recon/lora_round.h"

#include <algorithm>
#include <cmath>

#include "core/util/check.h"

namespace lowbit {
namespace {

constexpr float kSpan = kRoundZeta - kRoundGamma;

// h⁻¹ of the fractional part r ∈ [0, 1): the offset whose rectified sigmoid is r.
inline float base_offset(float r) {
  const float p = (r - kRoundGamma) / kSpan;  // in [1/12, 11/12]
  return std::log(p / (1.0f - p));
}

inline float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }

}  // namespace

int64_t lora_round_default_rank(int64_t rows, int64_t cols) {
  const int64_t m = std::min(rows, cols);
  return std::min<int64_t>(m, std::max<int64_t>(4, static_cast<int64_t>(std::lround(0.05 * static_cast<double>(m)))));
}

LoraRounding::LoraRounding(const MatrixRM& w, const Format& format, int64_t rank, uint64_t seed, std::span<const IntGrid> grids)
    : w_(w), format_(format) {
  LB_CHECK(format.kind == Format::Kind::Int && format.fits(w.cols()), "LoraRounding: needs an int format that fits the columns");
  gs_ = format.group_size(w.cols());
  groups_ = w.cols() / gs_;
  maxq_ = max_code(format.bits);
  const int64_t n = w.rows() * groups_;
  s0_.resize(static_cast<size_t>(n));
  zero_.resize(static_cast<size_t>(n));
  mult_.assign(static_cast<size_t>(n), 1.0f);
  gmult_.assign(static_cast<size_t>(n), 0.0f);
  LB_CHECK(grids.empty() || static_cast<int64_t>(grids.size()) == n, "LoraRounding: one starting grid per (row, group)");
  for (int64_t r = 0; r < w.rows(); ++r)
    for (int64_t g = 0; g < groups_; ++g) {
      const IntGrid grid = grids.empty() ? minmax_grid(w_.row(r).data() + g * gs_, gs_, format.bits, format.symmetric)
                                         : grids[static_cast<size_t>(r * groups_ + g)];
      s0_[static_cast<size_t>(r * groups_ + g)] = grid.scale;
      zero_[static_cast<size_t>(r * groups_ + g)] = grid.zero;
    }
  if (rank <= 0) rank = lora_round_default_rank(w.rows(), w.cols());
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f / std::sqrt(static_cast<float>(rank)));
  a_.resize(w.rows(), rank);
  for (int64_t i = 0; i < a_.size(); ++i) a_.data()[i] = nd(rng);
  b_.setZero(rank, w.cols());
  ga_.setZero(a_.rows(), a_.cols());
  gb_.setZero(b_.rows(), b_.cols());
}

float LoraRounding::step_size(int64_t row, int64_t group) const {
  const size_t i = static_cast<size_t>(row * groups_ + group);
  return s0_[i] * mult_[i];
}

void LoraRounding::soft_weights(float kappa, MatrixRM& w_hat) {
  ab_.resize(w_.rows(), w_.cols());
  ab_.noalias() = a_ * b_;
  w_hat.resize(w_.rows(), w_.cols());
  const int64_t rows = w_.rows();
  const float maxq = static_cast<float>(maxq_);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groups_; ++g) {
      const size_t gi = static_cast<size_t>(r * groups_ + g);
      const float s = s0_[gi] * mult_[gi], z = zero_[gi];
      for (int64_t j = g * gs_; j < (g + 1) * gs_; ++j) {
        const float u = w_(r, j) / s;
        const float f = std::floor(u);
        const float v = kappa * (base_offset(u - f) + ab_(r, j));
        const float h = std::clamp(sigmoid(v) * kSpan + kRoundGamma, 0.0f, 1.0f);
        const float c = std::clamp(f + h + z, 0.0f, maxq);
        w_hat(r, j) = s * (c - z);
      }
    }
}

double LoraRounding::regularizer(float kappa, float beta) const {
  LB_CHECK(ab_.rows() == w_.rows(), "LoraRounding::regularizer before soft_weights");
  const int64_t rows = w_.rows();
  double sum = 0;
#pragma omp parallel for schedule(static) reduction(+ : sum)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groups_; ++g) {
      const size_t gi = static_cast<size_t>(r * groups_ + g);
      const float s = s0_[gi] * mult_[gi];
      for (int64_t j = g * gs_; j < (g + 1) * gs_; ++j) {
        const float u = w_(r, j) / s;
        const float v = kappa * (base_offset(u - std::floor(u)) + ab_(r, j));
        const float h = std::clamp(sigmoid(v) * kSpan + kRoundGamma, 0.0f, 1.0f);
        sum += 1.0 - std::pow(std::fabs(2.0 * h - 1.0), static_cast<double>(beta));
      }
    }
  return sum / static_cast<double>(w_.size());
}

void LoraRounding::backward(const MatrixRM& grad, float kappa, float lambda, float beta) {
  LB_CHECK(grad.rows() == w_.rows() && grad.cols() == w_.cols(), "LoraRounding::backward: gradient shape");
  LB_CHECK(ab_.rows() == w_.rows(), "LoraRounding::backward before soft_weights");
  MatrixRM& dab = dab_;
  dab.resize(w_.rows(), w_.cols());
  const int64_t rows = w_.rows();
  const float maxq = static_cast<float>(maxq_);
  const float reg_scale = lambda / static_cast<float>(w_.size());
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groups_; ++g) {
      const size_t gi = static_cast<size_t>(r * groups_ + g);
      const float s = s0_[gi] * mult_[gi], z = zero_[gi];
      double ds = 0;
      for (int64_t j = g * gs_; j < (g + 1) * gs_; ++j) {
        const float u = w_(r, j) / s;
        const float f = std::floor(u);
        const float v = kappa * (base_offset(u - f) + ab_(r, j));
        const float sg = sigmoid(v);
        const float h_raw = sg * kSpan + kRoundGamma;
        const float h = std::clamp(h_raw, 0.0f, 1.0f);
        const float c_raw = f + h + z;
        const float c = std::clamp(c_raw, 0.0f, maxq);
        const bool inside_c = c_raw > 0.0f && c_raw < maxq;
        const float gw = grad(r, j);
        float dh = inside_c ? gw * s : 0.0f;
        if (lambda != 0.0f) {
          const float t = 2.0f * h - 1.0f, at = std::fabs(t);
          if (at > 0.0f) dh -= reg_scale * beta * std::pow(at, beta - 1.0f) * (t > 0 ? 2.0f : -2.0f);
        }
        const bool inside_h = h_raw > 0.0f && h_raw < 1.0f;
        dab(r, j) = inside_h ? dh * kSpan * sg * (1.0f - sg) * kappa : 0.0f;
        ds += static_cast<double>(gw) * static_cast<double>((c - z) - (inside_c ? u : 0.0f));
      }
      gmult_[gi] += static_cast<float>(ds) * s0_[gi];
    }
  ga_.noalias() += dab * b_.transpose();
  gb_.noalias() += a_.transpose() * dab;
}

void LoraRounding::zero_grad() {
  ga_.setZero();
  gb_.setZero();
  std::fill(gmult_.begin(), gmult_.end(), 0.0f);
}

void LoraRounding::step(Adam& round_a, Adam& round_b, Adam& scale) {
  round_a.step({a_.data(), static_cast<size_t>(a_.size())}, {ga_.data(), static_cast<size_t>(ga_.size())});
  round_b.step({b_.data(), static_cast<size_t>(b_.size())}, {gb_.data(), static_cast<size_t>(gb_.size())});
  if (scale.lr > 0) {
    scale.step(mult_, gmult_);
    for (float& m : mult_) m = std::max(m, 1e-3f);
  }
  zero_grad();
}

IntTensor LoraRounding::harden(bool fp16_scales) const {
  IntTensor t;
  t.format = format_;
  t.rows = w_.rows();
  t.cols = w_.cols();
  t.codes.resize(static_cast<size_t>(w_.size()));
  t.grids.resize(static_cast<size_t>(w_.rows() * groups_));
  const MatrixRM ab = a_ * b_;
  const int64_t rows = w_.rows();
  const float maxq = static_cast<float>(maxq_);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groups_; ++g) {
      const size_t gi = static_cast<size_t>(r * groups_ + g);
      IntGrid grid;
      grid.scale = s0_[gi] * mult_[gi];
      if (fp16_scales) grid.scale = fp16_grid_scale(grid.scale);
      grid.zero = zero_[gi];
      t.grids[gi] = grid;
      for (int64_t j = g * gs_; j < (g + 1) * gs_; ++j) {
        const float u = w_(r, j) / grid.scale;
        const float f = std::floor(u);
        const float up = base_offset(u - f) + ab(r, j) >= 0.0f ? 1.0f : 0.0f;
        t.codes[static_cast<size_t>(r * w_.cols() + j)] = static_cast<uint8_t>(std::clamp(f + up + grid.zero, 0.0f, maxq));
      }
    }
  return t;
}

}  // namespace lowbit
