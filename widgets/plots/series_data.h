// SeriesData: one named line of a chart — y over x, or y over its index when x is empty (the rank of
// a sorted spectrum). Qt-free, so pages fill it from core results on any thread: AWQ's loss-vs-α and
// clip-ratio curves, CBQ's per-window losses, the eigenvalues or diagonal of a Hessian. The helpers
// find the minimum a curve marks and sort a spectrum for a log plot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/analysis/outliers.h"

namespace lowbit {

struct SeriesData {
  std::string name;       // the legend entry: "fp", "2 bits", "window 3"
  std::vector<double> x;  // empty: 0, 1, 2, …; otherwise one per y
  std::vector<double> y;

  size_t size() const { return y.size(); }
  bool empty() const { return y.empty(); }
  double x_at(size_t i) const { return x.empty() ? static_cast<double>(i) : x[i]; }
  bool valid() const { return x.empty() || x.size() == y.size(); }
};

// The index of the smallest finite y, the first of equal ones; -1 when there is none.
int64_t series_minimum(const SeriesData& series);

// The finite `values` sorted from largest to smallest, over their rank (x empty): the view of an
// eigenvalue spectrum or of a Hessian's diagonal.
SeriesData sorted_spectrum(std::string name, std::span<const double> values);

// Kurtosis over blocks, one series per part (q, k, …, down) in the order the parts first appear: the
// outlier view's and the report's kurtosis chart.
std::vector<SeriesData> kurtosis_by_part(const std::vector<WeightHistogram>& weights);

}  // namespace lowbit
