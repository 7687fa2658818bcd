// ComparisonData: layouts of one model measured on the same calibration windows — their file size
// and perplexity — for the Compare page's size-vs-perplexity chart and the PDF report. A uniform
// layout has one format everywhere (Q8_0, Q4_K, …): those form a curve of the plain trade-off, which
// a planned mixed-precision layout should beat by lying below and to the left of it.
#pragma once

#include <string>
#include <vector>

#include "core/eval/compare.h"

namespace lowbit {

struct LayoutPoint {
  std::string name;              // "Q4_K", "plan 4.5 bpw"
  double bytes = 0;              // the exported file's size
  double perplexity = 0;         // measured
  double bits_per_weight = 0;    // 0: not known, left out of the hover text
  bool uniform = true;           // one format for every tensor, or a plan
};

struct ComparisonData {
  std::vector<LayoutPoint> layouts;
  double baseline_perplexity = 0;  // the unquantized model's; 0: no reference line
  std::string title;
};

// The chart's points of a comparison's rows (the Compare page's and the report's): a row named after
// a format is a uniform layout, any other a plan; the size is the GGUF export's (rows without one are
// left out by the chart), bits per weight shown only where they cover the whole file.
ComparisonData comparison_data(const std::vector<CompareRow>& rows, const std::string& title);

}  // namespace lowbit
