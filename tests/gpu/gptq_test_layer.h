// Shared by the GPU tests of GPTQ (gptq_op_test, gptq_factor_op_test): a layer's weights and a
// Hessian 2XᵀX/T from correlated inputs with outlier channels, as calibration gives them.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "core/tensor/eigen_types.h"

namespace lowbit::gpu {

struct Layer {
  int64_t rows, cols;
  std::vector<float> w, h;
};

// Weights with a few large ones, and a Hessian from correlated inputs with outlier channels.
inline Layer make_layer(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  Layer l{rows, cols, std::vector<float>(static_cast<size_t>(rows * cols)), {}};
  for (auto& v : l.w) v = n(rng) * 0.02f;
  for (int k = 0; k < 20; ++k) l.w[rng() % l.w.size()] *= 8.0f;
  const int64_t tokens = 2 * cols;
  Eigen::MatrixXf x(tokens, cols);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t c = 0; c < cols; ++c) x(t, c) = n(rng) + (c > 0 ? 0.5f * x(t, c - 1) : 0.0f);
  for (int64_t c = 0; c < cols; c += 37) x.col(c) *= 10.0f;
  const Eigen::MatrixXf h = (x.transpose() * x) * (2.0f / static_cast<float>(tokens));
  l.h.resize(static_cast<size_t>(cols * cols));
  Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(l.h.data(), cols, cols) = h;
  return l;
}

}  // namespace lowbit::gpu
