// Calibration data: token windows drawn from a tokenized text with a seed (as the GPTQ code draws
// them: uniform random start offsets, windows may overlap), and the per-layer statistics collected
// from a linear layer's inputs — the Hessian H = 2/n Σ x xᵀ and per-channel mean |x| and max |x|.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/tensor/eigen_types.h"
#include "core/util/expected.h"

namespace lowbit {

struct CalibOptions {
  int64_t samples = 128;
  int64_t ctx = 256;
  uint64_t seed = 0;
  Expected<void> validate() const;
};

// `samples` windows of `ctx` tokens, concatenated ([samples × ctx]).
Expected<std::vector<int32_t>> draw_windows(const std::vector<int32_t>& ids, const CalibOptions& options);

// Running statistics of one linear input (columns = input channels).
class InputStats {
 public:
  explicit InputStats(int64_t channels = 0);
  void add(const MatrixRM& x);  // rows are tokens
  // Adds sums collected elsewhere (a GPU walk) over `tokens` tokens: xtx = Σ x xᵀ [channels ×
  // channels] row-major, abs_sum = Σ |x| and max_abs = max |x| per channel; sizes that do not match
  // the channels are InvalidArgument.
  Expected<void> add_sums(std::span<const float> xtx, std::span<const float> abs_sum, std::span<const float> max_abs, int64_t tokens);
  int64_t tokens() const { return n_; }
  int64_t channels() const { return static_cast<int64_t>(mean_abs_sum_.size()); }
  // H = 2/n Σ x xᵀ, [channels × channels] row-major (symmetric).
  MatrixRM hessian() const;
  VectorF mean_abs() const;
  const VectorF& max_abs() const { return max_abs_; }

 private:
  Eigen::MatrixXd xtx_;  // Σ x xᵀ (lower triangle accumulated, double for long runs)
  Eigen::VectorXd mean_abs_sum_;
  VectorF max_abs_;
  int64_t n_ = 0;
};

}  // namespace lowbit
