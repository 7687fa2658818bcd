#include "core/quant/onebit.h"

#include <algorithm>
#include <cmath>

#include "core/io/onebit_format.h"
#include "core/tensor/half.h"

namespace lowbit {
namespace {

float to_fp16(double x) { return f16_to_f32(f32_to_f16(static_cast<float>(x))); }

// y = |W| x (rows) and z = |W|ᵀ y (cols), accumulated in double.
void abs_matvec(const float* w, int64_t rows, int64_t cols, const std::vector<double>& x, std::vector<double>& y) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < rows; ++i) {
    const float* r = w + i * cols;
    double s = 0;
    for (int64_t j = 0; j < cols; ++j) s += std::fabs(static_cast<double>(r[j])) * x[static_cast<size_t>(j)];
    y[static_cast<size_t>(i)] = s;
  }
}

void abs_matvec_t(const float* w, int64_t rows, int64_t cols, const std::vector<double>& y, std::vector<double>& z) {
  std::fill(z.begin(), z.end(), 0.0);
#pragma omp parallel
  {
    std::vector<double> part(static_cast<size_t>(cols), 0.0);
#pragma omp for schedule(static) nowait
    for (int64_t i = 0; i < rows; ++i) {
      const float* r = w + i * cols;
      const double yi = y[static_cast<size_t>(i)];
      for (int64_t j = 0; j < cols; ++j) part[static_cast<size_t>(j)] += std::fabs(static_cast<double>(r[j])) * yi;
    }
#pragma omp critical
    for (int64_t j = 0; j < cols; ++j) z[static_cast<size_t>(j)] += part[static_cast<size_t>(j)];
  }
}

double norm2(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

}  // namespace

void OneBitLayer::dequantize(float* out) const { onebit_dequantize(signs.data(), g.data(), h.data(), rows, cols, out); }

double OneBitLayer::bits_per_weight() const {
  const double r = static_cast<double>(rows), c = static_cast<double>(cols);
  return 1.0 + 16.0 * (r + c) / (r * c);
}

Rank1 rank1_abs(const float* w, int64_t rows, int64_t cols, double tol, int max_iter) {
  Rank1 r;
  const auto R = static_cast<size_t>(rows), C = static_cast<size_t>(cols);
  std::vector<double> v(C, 1.0 / std::sqrt(static_cast<double>(cols))), u(R), z(C);
  for (r.iterations = 1; r.iterations <= max_iter; ++r.iterations) {
    abs_matvec(w, rows, cols, v, u);
    abs_matvec_t(w, rows, cols, u, z);
    const double n = norm2(z);
    if (n == 0) break;  // |W| = 0: nothing to approximate
    double change = 0;
    for (size_t j = 0; j < C; ++j) {
      z[j] /= n;
      change = std::max(change, std::fabs(z[j] - v[j]));
    }
    v.swap(z);
    if (change < tol) {
      r.converged = true;
      break;
    }
  }
  r.iterations = std::min(r.iterations, max_iter);
  abs_matvec(w, rows, cols, v, u);
  r.sigma = norm2(u);
  r.a.assign(R, 0.0);
  r.b.assign(C, 0.0);
  if (r.sigma == 0) {
    r.converged = true;
    return r;
  }
  // σ u vᵀ with u = |W| v / σ; ‖u‖ = ‖v‖ = 1, so a = √σ κ u and b = √σ v / κ have equal rms for
  // κ² = √(rows / cols). Tiny negative round-off cannot occur: every term is non-negative.
  const double kappa = std::pow(static_cast<double>(rows) / static_cast<double>(cols), 0.25);
  const double s = std::sqrt(r.sigma);
  for (size_t i = 0; i < R; ++i) r.a[i] = s * kappa * u[i] / r.sigma;
  for (size_t j = 0; j < C; ++j) r.b[j] = s / kappa * v[j];
  return r;
}

OneBitLayer onebit_from(const float* latent, const float* h, const float* g, int64_t rows, int64_t cols) {
  OneBitLayer l;
  l.rows = rows;
  l.cols = cols;
  l.signs.resize(static_cast<size_t>(rows * onebit_row_bytes(cols)));
  onebit_pack_signs(latent, rows, cols, l.signs.data());
  l.h.resize(static_cast<size_t>(rows));
  l.g.resize(static_cast<size_t>(cols));
  for (int64_t i = 0; i < rows; ++i) l.h[static_cast<size_t>(i)] = to_fp16(h[i]);
  for (int64_t j = 0; j < cols; ++j) l.g[static_cast<size_t>(j)] = to_fp16(g[j]);
  return l;
}

OneBitLayer svid(const float* w, int64_t rows, int64_t cols) {
  const Rank1 r = rank1_abs(w, rows, cols);
  std::vector<float> h(r.a.begin(), r.a.end()), g(r.b.begin(), r.b.end());
  return onebit_from(w, h.data(), g.data(), rows, cols);
}

Expected<void> OneBitOptions::validate() const {
  auto bad = [](const std::string& m) { return make_error(ErrorCode::InvalidArgument, "onebit: " + m); };
  if (iterations < 0) return bad("iterations per block must be >= 0");
  if (!(lr > 0) || !std::isfinite(lr)) return bad("the learning rate must be a positive number");
  if (!(latent_lr >= 0) || !std::isfinite(latent_lr)) return bad("the latent-weight learning rate must be >= 0");
  if (batch < 1) return bad("the batch must hold at least one window");
  if (kd && (!(kd_weight > 0) || !std::isfinite(kd_weight))) return bad("the KD weight must be a positive number");
  return {};
}

}  // namespace lowbit
