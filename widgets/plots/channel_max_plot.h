// ChannelMaxPlot: the largest |x| of every input channel of a layer's activations, one bar (or, for
// thousands of channels, one impulse) per channel, with CBQ's two outlier fences as horizontal lines —
// the coarse fence Q3 + λ₁·IQR and the fine CFP threshold — and the outlier channels in red. These
// few channels are what activation scaling (AWQ, CFP) exists for; the log y option keeps the bulk
// visible beside them. Outliers are the channels the analysis flagged or, when it passed none, those
// above the fine threshold (CFP's definition).
#pragma once

#include <cstdint>
#include <vector>

#include "widgets/plots/channel_max_data.h"
#include "widgets/plots/plot_widget.h"

class QCPBars;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;

namespace lowbit {

class ChannelMaxPlot : public PlotWidget {
  Q_OBJECT

 public:
  enum class Style { Auto, Bars, Impulses };  // Auto: bars up to kMaxBars channels
  static constexpr int kMaxBars = 256;

  explicit ChannelMaxPlot(QWidget* parent = nullptr);

  void set_channels(ChannelMaxData data);
  const ChannelMaxData& channels() const { return data_; }
  void show_placeholder(const QString& text);

  bool log_y() const { return log_y_; }
  void set_log_y(bool on);
  Style style() const { return style_; }
  void set_style(Style style);
  bool drawn_as_bars() const;

  int channel_count() const { return static_cast<int>(data_.max_abs.size()); }
  int outlier_count() const { return static_cast<int>(outliers_.size()); }
  bool is_outlier(int64_t channel) const;
  // The fence lines: visible when their value is finite (and > 0 on the log axis).
  bool coarse_fence_visible() const;
  bool fine_threshold_visible() const;
  // Channels drawn in the normal and in the outlier colour.
  int normal_points() const;
  int outlier_points() const;

  // "channel 123: max |x| 45.6 (outlier)"; empty off the channels.
  QString hover_text(QPointF pixel) const override;

 protected:
  void fit_view() override;
  void retranslate() override;

 private:
  void rebuild();
  void place_fences();

  ChannelMaxData data_;
  std::vector<int64_t> outliers_;  // sorted
  QCPBars* bars_ = nullptr;
  QCPBars* outlier_bars_ = nullptr;
  QCPGraph* impulses_ = nullptr;
  QCPGraph* outlier_impulses_ = nullptr;
  QCPItemStraightLine* coarse_line_ = nullptr;
  QCPItemStraightLine* fine_line_ = nullptr;
  QCPItemText* coarse_label_ = nullptr;
  QCPItemText* fine_label_ = nullptr;
  Style style_ = Style::Auto;
  bool log_y_ = false;
  bool default_placeholder_ = false;  // the placeholder on screen is the constructor's
};

}  // namespace lowbit
