// ScaleLossPage: the scale-loss view (DESIGN.md "The studio", METHODS.md §7) — for the chosen bit
// width, the calibration loss over the scale multipliers (c_a, c_b) of two consecutive blocks (flat
// at 4 bits, a narrow valley at 2) and the blocks × blocks Hessian of that loss over per-block scales
// (signed, on a diverging colour scale); for the chosen AWQ group (block · qkv/o/gate_up/down), AWQ's
// output error against α and against the clip ratio, one curve per bit width, each minimum marked.
// Everything comes from an analysis' views.json (core/analysis/views_file.h), except CBQ's loss over
// the Adam steps of each window of blocks, which comes from the last CBQ run (an Export of a CBQ layout).
#pragma once

#include <QWidget>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/analysis/views_file.h"
#include "core/quant/cbq.h"

class QComboBox;
class QLabel;

namespace lowbit {

class CurvePlot;
class LandscapePlot;

class ScaleLossPage : public QWidget {
  Q_OBJECT

 public:
  explicit ScaleLossPage(QWidget* parent = nullptr);

  void set_views(std::shared_ptr<const ViewsFile> views);
  // CBQ's per-window loss curves (one series per window of blocks); an empty report clears them.
  void set_cbq_report(const CbqReport& report);
  // The bit widths any scale view was computed at, ascending.
  const std::vector<int>& bits() const { return bits_; }
  bool select_bits(int bits);
  int group_count() const { return static_cast<int>(groups_.size()); }
  bool select_group(int64_t block, const std::string& group);

  LandscapePlot* landscape() const { return landscape_; }
  LandscapePlot* scale_hessian() const { return scale_hessian_; }
  CurvePlot* alpha_curves() const { return alpha_; }
  CurvePlot* clip_curves() const { return clip_; }
  CurvePlot* cbq_curves() const { return cbq_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void retranslate();
  void show_scales();
  void show_awq();
  void show_cbq();

  std::shared_ptr<const ViewsFile> views_;
  std::vector<int> bits_;
  std::vector<std::pair<int64_t, std::string>> groups_;
  QLabel* bits_label_ = nullptr;
  QLabel* group_label_ = nullptr;
  QComboBox* bits_combo_ = nullptr;
  QComboBox* group_combo_ = nullptr;
  LandscapePlot* landscape_ = nullptr;
  LandscapePlot* scale_hessian_ = nullptr;
  CurvePlot* alpha_ = nullptr;
  CurvePlot* clip_ = nullptr;
  CurvePlot* cbq_ = nullptr;
  CbqReport cbq_report_;
};

}  // namespace lowbit
