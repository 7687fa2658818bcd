// Shared by the tests of the forward-pass ops: random inputs and the error measure every op test
// uses, max |got − want| / max |want| (relative to the largest reference value, so that values near
// zero do not dominate); a non-finite result is an infinite error.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace lowbit::gpu {

inline std::vector<float> random_floats(size_t count, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

template <class Want>
double max_relative_error(std::span<const float> got, const Want& want) {
  double err = 0.0, scale = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double w = static_cast<double>(want[i]);
    if (!std::isfinite(got[i])) return INFINITY;  // std::max would hide a NaN
    err = std::max(err, std::abs(static_cast<double>(got[i]) - w));
    scale = std::max(scale, std::abs(w));
  }
  return err / std::max(scale, 1e-30);
}

}  // namespace lowbit::gpu
