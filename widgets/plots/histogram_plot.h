// HistogramPlot: a QCustomPlot bar chart of a HistogramData — the weight-distribution preview of the
// model page and, later, the per-layer histograms of the outliers view. Counts can be drawn on a
// logarithmic axis, where the rare large weights that make a layer hard to quantize stay visible.
// Every change only marks the plot for a queued replot (QCustomPlot::rpQueuedReplot), so a burst of
// updates costs one repaint. With no data the plot shows a placeholder line instead of empty axes.
#pragma once

#include <QWidget>

#include "widgets/plots/histogram_data.h"

class QCustomPlot;
class QCPBars;
class QCPItemText;
class QCPItemStraightLine;

namespace lowbit {

class HistogramPlot : public QWidget {
  Q_OBJECT
  Q_PROPERTY(bool logCounts READ log_counts WRITE set_log_counts NOTIFY log_counts_changed)

 public:
  explicit HistogramPlot(QWidget* parent = nullptr);

  void set_histogram(const HistogramData& histogram);
  const HistogramData& histogram() const { return histogram_; }
  // Clears the bars and shows `text` in the middle of the plot ("Select a 2-D tensor").
  void show_placeholder(const QString& text);
  void set_axis_labels(const QString& x, const QString& y);

  bool log_counts() const { return log_counts_; }
  void set_log_counts(bool on);

  int bar_count() const;
  QCustomPlot* plot() const { return plot_; }
  QSize sizeHint() const override { return {420, 260}; }

 signals:
  void log_counts_changed(bool on);

 protected:
  // On QEvent::LanguageChange: the default axis labels and placeholder, and the "(log scale)" suffix.
  void changeEvent(QEvent* event) override;

 private:
  void apply_ranges();
  void queue_replot();

  QCustomPlot* plot_ = nullptr;
  QCPBars* bars_ = nullptr;
  QCPItemText* placeholder_ = nullptr;
  QCPItemStraightLine* zero_line_ = nullptr;
  HistogramData histogram_;
  QString count_label_;
  bool log_counts_ = false;
  bool default_labels_ = false;       // the axis labels are the constructor's
  bool default_placeholder_ = false;  // the placeholder on screen is the constructor's
};

}  // namespace lowbit
