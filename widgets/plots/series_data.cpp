#include "widgets/plots/series_data.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

namespace lowbit {

int64_t series_minimum(const SeriesData& series) {
  int64_t best = -1;
  for (size_t i = 0; i < series.y.size(); ++i) {
    const double v = series.y[i];
    if (std::isfinite(v) && (best < 0 || v < series.y[static_cast<size_t>(best)])) best = static_cast<int64_t>(i);
  }
  return best;
}

SeriesData sorted_spectrum(std::string name, std::span<const double> values) {
  SeriesData s;
  s.name = std::move(name);
  s.y.reserve(values.size());
  for (double v : values)
    if (std::isfinite(v)) s.y.push_back(v);
  std::sort(s.y.begin(), s.y.end(), std::greater<>());
  return s;
}

std::vector<SeriesData> kurtosis_by_part(const std::vector<WeightHistogram>& weights) {
  std::vector<SeriesData> parts;
  for (const WeightHistogram& w : weights) {
    auto it = std::find_if(parts.begin(), parts.end(), [&](const SeriesData& s) { return s.name == w.part; });
    if (it == parts.end()) it = parts.insert(parts.end(), SeriesData{w.part, {}, {}});
    it->x.push_back(static_cast<double>(w.block));
    it->y.push_back(w.kurtosis);
  }
  return parts;
}

}  // namespace lowbit
