// GridData: values z over a rectangular grid of (x, y) — the scale-loss landscape, the calibration
// loss over the multipliers (c₁, c₂) of two consecutive blocks' quantization scales, or the
// blocks × blocks Hessian of the loss with respect to per-block scales (x = y = block index).
// Qt-free; LandscapePlot draws it. grid_minimum() is the point the landscape marks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lowbit {

struct GridData {
  std::vector<double> x;  // one per column, ascending (c₁)
  std::vector<double> y;  // one per row, ascending (c₂)
  std::vector<double> z;  // row-major: z[iy · x.size() + ix]
  std::string x_label, y_label, z_label, title;

  bool valid() const { return !x.empty() && !y.empty() && z.size() == x.size() * y.size(); }
  double at(size_t ix, size_t iy) const { return z[iy * x.size() + ix]; }
};

struct GridPoint {
  int64_t ix = -1, iy = -1;
  double value = 0;
  bool found() const { return ix >= 0; }
};

// The smallest finite z (the first in row-major order among equal ones); not found when none is finite.
GridPoint grid_minimum(const GridData& grid);

// True when `v` has one value or steps by the same amount (to 1e-6 of the span) — a colour map can
// then place its cells at the coordinates themselves.
bool evenly_spaced(const std::vector<double>& v);

}  // namespace lowbit
