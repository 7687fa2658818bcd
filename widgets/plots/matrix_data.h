// MatrixData: a dense matrix for HeatmapPlot — a layer's weight Hessian H (c × c, as
// CalibrationStats::hessian returns it), the quantization-error-weighted Hessian at b bits, any
// row-major float matrix. Qt-free so that a page can build it, and reduce it, on a worker thread.
// block_reduce() makes the display copy of a large matrix: a 4096 × 4096 Hessian is drawn as at most
// 1024 × 1024 cells, each the largest magnitude of its block, so an isolated bright entry survives
// the reduction where a mean or a stride would hide it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lowbit {

struct MatrixData {
  int64_t rows = 0, cols = 0;
  std::vector<float> values;  // row-major, rows × cols
  std::string title;          // "blk.3 attn_q: H at 2 bits"

  bool empty() const {
    return rows <= 0 || cols <= 0 || values.size() != static_cast<size_t>(rows) * static_cast<size_t>(cols);
  }
  float at(int64_t row, int64_t col) const { return values[static_cast<size_t>(row * cols + col)]; }
};

// The smallest factor f ≥ 1 with ⌈rows/f⌉ ≤ max_cells and ⌈cols/f⌉ ≤ max_cells (one factor for both
// sides keeps the cells square).
int block_factor(int64_t rows, int64_t cols, int max_cells);

struct ReducedMatrix {
  int64_t rows = 0, cols = 0;  // ⌈rows/factor⌉ × ⌈cols/factor⌉
  int factor = 1;              // each cell covers factor × factor entries (fewer at the last row/column)
  std::vector<double> values;  // row-major
};

// Cell = the largest |value| of its block (`absolute`), or the value of largest magnitude with its
// sign. NaN entries are skipped; a block of NaN only is NaN. factor 1 copies.
ReducedMatrix block_reduce(const MatrixData& matrix, int factor, bool absolute);

}  // namespace lowbit
