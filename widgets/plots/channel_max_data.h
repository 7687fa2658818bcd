// ChannelMaxData: the largest |x| each input channel of a layer's activations reached on the
// calibration set, with CBQ's coarse-to-fine outlier fences over them (METHODS.md §4 "CFP";
// core/analysis/cfp.h computes them: coarse_threshold = Q3 + λ₁·IQR, threshold = the fine split).
// Plain data for ChannelMaxPlot; the page copies the fields of a CfpResult in.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace lowbit {

struct ChannelMaxData {
  std::vector<float> max_abs;  // one per channel
  double coarse_fence = std::numeric_limits<double>::quiet_NaN();    // Q3 + λ₁·IQR; NaN: not drawn
  double fine_threshold = std::numeric_limits<double>::quiet_NaN();  // the CFP split; NaN: not drawn
  double lambda1 = 1.5;              // named in the coarse fence's label
  std::vector<int64_t> outliers;     // flagged channels; empty: those above fine_threshold
  std::string title;                 // "blk.3 ffn_down input"

  bool empty() const { return max_abs.empty(); }
};

}  // namespace lowbit
