// Synthetic inputs shared by the tests and the benchmarks: normal weights, and a Hessian of
// correlated, unevenly scaled inputs such as linear layers see. Deterministic for a seed.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/tensor/eigen_types.h"

namespace lowbit::test {

inline std::vector<float> normal_values(size_t n, uint32_t seed, float sigma) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> x(n);
  for (auto& v : x) v = dist(rng);
  return x;
}

// H = 2/n Σ x xᵀ of n tokens whose channels are correlated (an AR(1) walk along the channels) and
// of uneven scale (log-normal per channel), as linear-layer inputs are.
inline std::vector<float> correlated_hessian(int64_t cols, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> scale(static_cast<size_t>(cols));
  for (auto& s : scale) s = std::exp(0.7f * dist(rng));
  MatrixRM X(n, cols);
  for (int64_t t = 0; t < n; ++t) {
    float prev = dist(rng);
    for (int64_t i = 0; i < cols; ++i) {
      prev = 0.8f * prev + 0.6f * dist(rng);
      X(t, i) = prev * scale[static_cast<size_t>(i)];
    }
  }
  const MatrixRM H = (2.0f / static_cast<float>(n)) * (X.transpose() * X);
  return {H.data(), H.data() + H.size()};
}

}  // namespace lowbit::test
