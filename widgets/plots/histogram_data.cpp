#include "widgets/plots/histogram_data.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace lowbit {

HistogramData histogram_of(std::span<const float> values, int bins) {
  LB_CHECK(bins >= 1, "histogram_of: bins must be >= 1");
  HistogramData h;
  h.counts.assign(static_cast<size_t>(bins), 0.0);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  double sum = 0;
  for (float v : values) {
    if (!std::isfinite(v)) {
      ++h.non_finite;
      continue;
    }
    lo = std::min(lo, double(v));
    hi = std::max(hi, double(v));
    sum += v;
    ++h.total;
  }
  if (h.total == 0) return h;
  h.mean = sum / static_cast<double>(h.total);
  h.abs_max = std::max(std::abs(lo), std::abs(hi));
  if (hi <= lo) {  // constant input
    lo -= 0.5;
    hi += 0.5;
  }
  h.lo = lo;
  h.hi = hi;
  const double scale = static_cast<double>(bins) / (hi - lo);
  double sq = 0;
  for (float v : values) {
    if (!std::isfinite(v)) continue;
    const auto bin = static_cast<int64_t>((double(v) - lo) * scale);
    h.counts[static_cast<size_t>(std::clamp<int64_t>(bin, 0, bins - 1))] += 1.0;
    sq += (double(v) - h.mean) * (double(v) - h.mean);
  }
  h.stddev = std::sqrt(sq / static_cast<double>(h.total));
  return h;
}

Expected<HistogramData> tensor_histogram(const TensorInfo& tensor, int bins, int64_t max_elements,
                                         const CancelToken* cancel) {
  const int64_t rows = tensor.rows(), cols = tensor.cols();
  const uint32_t block = traits(tensor.dtype).block_size;
  const bool row_addressable = cols > 0 && cols % block == 0 && tensor.data != nullptr;
  std::vector<float> values;
  int64_t rows_read = rows;
  if (tensor.numel() <= max_elements || !row_addressable || rows <= 1) {
    LB_TRY_ASSIGN(values, decode_to_f32(tensor));
  } else {
    // Evenly spaced whole rows: each row of every format starts on a block boundary.
    rows_read = std::max<int64_t>(1, max_elements / cols);
    const uint64_t row_bytes = dtype_bytes(tensor.dtype, static_cast<uint64_t>(cols));
    values.resize(static_cast<size_t>(rows_read * cols));
    TensorInfo row = tensor;
    row.shape = {1, cols};
    row.nbytes = row_bytes;
    for (int64_t i = 0; i < rows_read; ++i) {
      if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "histogram of " + tensor.name + " cancelled");
      const int64_t r = i * rows / rows_read;
      row.data = tensor.data + static_cast<uint64_t>(r) * row_bytes;
      row.file_offset = tensor.file_offset + static_cast<uint64_t>(r) * row_bytes;
      LB_TRY_VOID(decode_to_f32(row, values.data() + i * cols));
    }
  }
  if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "histogram of " + tensor.name + " cancelled");
  HistogramData h = histogram_of(values, bins);
  h.rows_read = rows_read;
  h.rows_total = rows;
  return h;
}

}  // namespace lowbit
