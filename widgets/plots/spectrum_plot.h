// SpectrumPlot: sorted eigenvalues (or the diagonal) of Hessians on a log y axis, several overlaid
// with a legend — the Hessian view's spectrum of a layer at full precision and at 2, 3 and 4 bits.
// Series 0 is drawn in neutral grey (the fp reference), the rest in the palette. Feed it
// sorted_spectrum() of each set of values, or any SeriesData (x empty: over the rank). On the log
// axis values ≤ 0 (round-off of a semi-definite matrix) cannot be drawn: they are left out and the
// legend entry says how many.
#pragma once

#include <vector>

#include "widgets/plots/plot_widget.h"
#include "widgets/plots/series_data.h"

class QCPGraph;

namespace lowbit {

class SpectrumPlot : public PlotWidget {
  Q_OBJECT

 public:
  explicit SpectrumPlot(QWidget* parent = nullptr);

  // Replaces all series; no series (or only empty ones) shows the placeholder.
  void set_spectra(std::vector<SeriesData> spectra);
  void add_spectrum(SeriesData spectrum);
  void show_placeholder(const QString& text);
  void set_axis_labels(const QString& x, const QString& y);

  bool log_y() const { return log_y_; }
  void set_log_y(bool on);

  int series_count() const { return static_cast<int>(spectra_.size()); }
  int point_count(int series) const;     // points drawn
  int hidden_count(int series) const;    // values ≤ 0 left out on the log axis
  QCPGraph* graph(int series) const;

  // "2 bits — rank 12: 3.2e-04" for the point nearest `pixel`; empty when none is near.
  QString hover_text(QPointF pixel) const override;

 protected:
  void fit_view() override;
  void retranslate() override;

 private:
  void rebuild();

  std::vector<SeriesData> spectra_;
  std::vector<QCPGraph*> graphs_;
  std::vector<int> hidden_;
  QString y_label_;
  bool log_y_ = true;
  bool default_labels_ = false;       // the axis labels are the constructor's
  bool default_placeholder_ = false;  // the placeholder on screen is the constructor's
};

}  // namespace lowbit
