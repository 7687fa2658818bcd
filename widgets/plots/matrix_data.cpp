#include "widgets/plots/matrix_data.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/util/check.h"

namespace lowbit {

int block_factor(int64_t rows, int64_t cols, int max_cells) {
  LB_CHECK(max_cells >= 1, "block_factor: max_cells must be >= 1");
  const int64_t longest = std::max(rows, cols);
  if (longest <= max_cells) return 1;
  return static_cast<int>((longest + max_cells - 1) / max_cells);
}

ReducedMatrix block_reduce(const MatrixData& matrix, int factor, bool absolute) {
  LB_CHECK(factor >= 1, "block_reduce: factor must be >= 1");
  LB_CHECK(!matrix.empty(), "block_reduce: empty matrix");
  ReducedMatrix r;
  r.factor = factor;
  r.rows = (matrix.rows + factor - 1) / factor;
  r.cols = (matrix.cols + factor - 1) / factor;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  r.values.assign(static_cast<size_t>(r.rows * r.cols), nan);
  // The largest magnitude so far per cell of the current cell row (-1: none yet; NaN never wins a
  // comparison, so it is skipped), and the signed value that had it. The source is read once, in
  // order, block of columns by block of columns (no division per entry).
  std::vector<float> magnitude(static_cast<size_t>(r.cols)), value(static_cast<size_t>(r.cols));
  for (int64_t cell_row = 0; cell_row < r.rows; ++cell_row) {
    std::fill(magnitude.begin(), magnitude.end(), -1.0f);
    const int64_t row_end = std::min(matrix.rows, (cell_row + 1) * factor);
    for (int64_t i = cell_row * factor; i < row_end; ++i) {
      const float* in = matrix.values.data() + i * matrix.cols;
      for (int64_t c = 0; c < r.cols; ++c) {
        const int64_t j_end = std::min(matrix.cols, (c + 1) * factor);
        float best = magnitude[static_cast<size_t>(c)], best_value = value[static_cast<size_t>(c)];
        for (int64_t j = c * factor; j < j_end; ++j) {
          const float a = std::abs(in[j]);
          if (a > best) {
            best = a;
            best_value = in[j];
          }
        }
        magnitude[static_cast<size_t>(c)] = best;
        value[static_cast<size_t>(c)] = best_value;
      }
    }
    double* out = r.values.data() + cell_row * r.cols;
    for (int64_t c = 0; c < r.cols; ++c) {
      const float m = magnitude[static_cast<size_t>(c)];
      if (m >= 0) out[c] = absolute ? double(m) : double(value[static_cast<size_t>(c)]);
    }
  }
  return r;
}

}  // namespace lowbit
