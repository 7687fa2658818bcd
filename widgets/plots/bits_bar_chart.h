// BitsBarChart: bits per weight of every tensor of a layout, one bar per tensor in file order,
// coloured by format (one legend entry per format, ordered by bits) — where a plan spent its bits,
// for the layer table page and the report. The x axis is labelled by decoder block at each block's
// first tensor (thinned to about a dozen labels); tensors outside the blocks carry their own short
// name. The target bits per weight, when given, is a dashed line.
#pragma once

#include <QStringList>
#include <vector>

#include "widgets/plots/bits_data.h"
#include "widgets/plots/plot_widget.h"

class QCPBars;
class QCPItemStraightLine;
class QCPItemText;

namespace lowbit {

class BitsBarChart : public PlotWidget {
  Q_OBJECT

 public:
  static constexpr int kMaxBlockLabels = 12;

  explicit BitsBarChart(QWidget* parent = nullptr);

  void set_bits(BitsData data);
  const BitsData& bits() const { return data_; }
  void show_placeholder(const QString& text);

  int bar_count() const;                // all tensors drawn
  QStringList formats() const;          // in legend order (fewest bits first)
  QColor format_colour(const QString& format) const;  // invalid when the format is not drawn
  int bars_of_format(const QString& format) const;
  QStringList tick_labels() const;      // the x axis labels, left to right
  bool target_visible() const;

  // "blk.3.attn_q.weight — Q4_K, 4.50 bpw"; empty off the bars.
  QString hover_text(QPointF pixel) const override;

 protected:
  void fit_view() override;
  void retranslate() override;

 private:
  void rebuild();

  BitsData data_;
  std::vector<QCPBars*> bars_;  // one per format, in formats_ order
  QStringList formats_;
  QCPItemStraightLine* target_ = nullptr;
  QCPItemText* target_label_ = nullptr;
  bool default_placeholder_ = false;  // the placeholder on screen is the constructor's
};

}  // namespace lowbit
