// The outlier view (METHODS.md §7): per linear layer a histogram of its weights over a symmetric
// range [−max|w|, max|w|] in a fixed number of equal bins (int64 counts, so the studio can draw log
// counts) and the kurtosis of its weights — Pearson's (non-excess) kurtosis m₄ / m₂² with central
// population moments, 3 for a Gaussian, 1.8 for a uniform; per linear input (q/k/v, o, gate/up,
// down of each block) the per-channel max |x| over the calibration windows (fp model) with CBQ's
// coarse-to-fine fences (core/analysis/cfp.h) and the outlier channels above the fine fence, largest
// first (at most top_k of them listed).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/analysis/cfp.h"
#include "core/model/forward.h"
#include "core/tensor/eigen_types.h"

namespace lowbit {

struct OutlierOptions {
  int bins = 64;
  int top_k = 16;
  CfpOptions cfp;
  Expected<void> validate() const;
};

struct WeightHistogram {
  std::string tensor;  // checkpoint tensor (a fused one covers several parts)
  int64_t block = 0;
  std::string part;  // q/k/v/o/gate/up/down
  int64_t rows = 0, cols = 0;
  double range = 0;  // bins cover [−range, range]
  std::vector<int64_t> counts;
  double mean = 0, std = 0, max_abs = 0;
  double kurtosis = 0;  // Pearson, non-excess
};

struct InputOutliers {
  int64_t block = 0;
  LinearInput input = LinearInput::kQkv;
  int64_t channels = 0;
  CfpResult cfp;                                // fences over the channels' max |x|
  int64_t outlier_count = 0;                    // cfp.outliers.size()
  std::vector<std::pair<int64_t, float>> top;  // (channel, max |x|) of the first top_k outliers
};

// Pearson kurtosis of a sample (0 for fewer than two values or zero variance).
double pearson_kurtosis(std::span<const float> values);

// Histogram and moments of a weight matrix; `bins` >= 1.
WeightHistogram weight_histogram(const MatrixRM& w, int bins);

InputOutliers input_outliers(int64_t block, LinearInput input, const VectorF& max_abs, const OutlierOptions& options);

}  // namespace lowbit
