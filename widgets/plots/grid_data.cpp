#include "widgets/plots/grid_data.h"

#include <cmath>

namespace lowbit {

GridPoint grid_minimum(const GridData& grid) {
  GridPoint best;
  if (!grid.valid()) return best;
  for (size_t iy = 0; iy < grid.y.size(); ++iy) {
    for (size_t ix = 0; ix < grid.x.size(); ++ix) {
      const double v = grid.at(ix, iy);
      if (std::isfinite(v) && (!best.found() || v < best.value)) best = {int64_t(ix), int64_t(iy), v};
    }
  }
  return best;
}

bool evenly_spaced(const std::vector<double>& v) {
  if (v.size() <= 2) return v.size() < 2 || v[1] > v[0];
  const double span = v.back() - v.front();
  if (!(span > 0)) return false;
  const double step = span / static_cast<double>(v.size() - 1);
  for (size_t i = 1; i < v.size(); ++i)
    if (std::abs((v[i] - v[i - 1]) - step) > 1e-6 * span) return false;
  return true;
}

}  // namespace lowbit
