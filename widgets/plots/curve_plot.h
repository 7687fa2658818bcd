// CurvePlot: several named series y(x) with each series' minimum marked — AWQ's loss-vs-α and
// clip-ratio curves of a layer, and CBQ's per-window loss over iterations while the job runs. Points
// may be appended one at a time from a job's progress callback (on the GUI thread): append_point()
// only stores the point and marks the plot dirty, and the batched replot of PlotWidget refits the
// axes and repaints at most ~30 times a second. The y axis can be logarithmic (losses fall over
// decades); the view follows the data until the user drags or zooms, and again after a double-click.
#pragma once

#include <QPointF>
#include <optional>
#include <vector>

#include "widgets/plots/plot_widget.h"
#include "widgets/plots/series_data.h"

class QCPGraph;

namespace lowbit {

class CurvePlot : public PlotWidget {
  Q_OBJECT

 public:
  explicit CurvePlot(QWidget* parent = nullptr);

  // The series named `name`, created (empty, next colour) when there is none. Returns its index.
  int add_series(const QString& name);
  // Replaces the points of the series of that name (or adds it). Points are kept sorted by x.
  int set_series(const SeriesData& series);
  void append_point(const QString& series, double x, double y);
  void append_point(int series, double x, double y);
  // Removes every series and shows `text`.
  void show_placeholder(const QString& text);
  void set_axis_labels(const QString& x, const QString& y);

  bool log_y() const { return log_y_; }
  void set_log_y(bool on);

  int series_count() const { return static_cast<int>(series_.size()); }
  int series_index(const QString& name) const;  // -1 when absent
  QString series_name(int series) const;
  int point_count(int series) const;
  // The marked minimum (x, y) of a series; empty while it has no finite point.
  std::optional<QPointF> series_minimum(int series) const;
  QCPGraph* graph(int series) const;

  // "α window 3 — iteration 120, loss 0.0123" for the point nearest `pixel`; empty when none is near.
  QString hover_text(QPointF pixel) const override;

 signals:
  void log_y_changed(bool on);

 protected:
  void fit_view() override;
  void before_batched_replot() override;
  void retranslate() override;

 private:
  struct Series {
    QCPGraph* line = nullptr;
    QCPGraph* marker = nullptr;  // one point: the minimum
    bool has_min = false;
    double min_x = 0, min_y = 0;
  };
  void update_marker(Series& s);
  void data_changed();

  std::vector<Series> series_;
  QString y_label_;  // without the "(log scale)" suffix
  bool log_y_ = false;
  bool needs_fit_ = false;
  bool default_labels_ = false;       // the axis labels are the constructor's
  bool default_placeholder_ = false;  // the placeholder on screen is the constructor's
};

}  // namespace lowbit
