// HistogramData: a fixed-bin histogram of weights with the summary figures the studio shows beside
// it (mean, standard deviation, max |x|, non-finite count). Qt-free so that it can be computed on a
// worker thread and handed to HistogramPlot on the GUI thread. tensor_histogram() reads a stored
// tensor through decode_to_f32; a tensor larger than `max_elements` is sampled by evenly spaced rows
// (every format decodes row by row), so a 128k-vocabulary embedding never becomes a 2 GB buffer.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/jobs/progress.h"
#include "core/tensor/tensor_info.h"
#include "core/util/expected.h"

namespace lowbit {

struct HistogramData {
  double lo = 0, hi = 0;        // the range the bins cover
  std::vector<double> counts;   // one per bin
  uint64_t total = 0;           // finite values counted
  uint64_t non_finite = 0;      // NaN and ±inf, left out of the bins and the figures
  double mean = 0, stddev = 0, abs_max = 0;
  int64_t rows_read = 0, rows_total = 0;  // rows_read < rows_total when the tensor was sampled

  bool empty() const { return counts.empty() || total == 0; }
  double bin_width() const { return counts.empty() ? 0.0 : (hi - lo) / static_cast<double>(counts.size()); }
  double bin_center(size_t i) const { return lo + (static_cast<double>(i) + 0.5) * bin_width(); }
  bool sampled() const { return rows_read < rows_total; }
};

// A histogram of `values` in `bins` equal bins over [min, max] of the finite values (a constant
// input gets a unit-wide range around its value). bins must be >= 1.
HistogramData histogram_of(std::span<const float> values, int bins);

// The histogram of a stored tensor, decoded to fp32, at most `max_elements` of it (whole rows).
// Polls `cancel` (may be null) between rows and returns ErrorCode::Cancelled when it is set.
Expected<HistogramData> tensor_histogram(const TensorInfo& tensor, int bins, int64_t max_elements = int64_t{1} << 22,
                                         const CancelToken* cancel = nullptr);

}  // namespace lowbit
