// LandscapePlot: values over a 2-D grid as a colour map with the minimum marked — the scale-loss
// landscape (the calibration loss over the multipliers c₁, c₂ of two consecutive blocks' scales:
// flat at 4 bits, a narrow valley at 2) and, with ColourScale::Diverging, the signed blocks × blocks
// Hessian of the loss with respect to per-block scales. Evenly spaced coordinates are drawn at their
// values; an uneven grid is drawn cell by cell with its coordinates as tick labels. The hover text
// names both coordinates and the value of the nearest grid point. Iso-lines are not drawn.
#pragma once

#include "widgets/plots/colour_map_plot.h"
#include "widgets/plots/grid_data.h"

class QCPGraph;
class QCPItemText;

namespace lowbit {

class LandscapePlot : public ColourMapPlot {
  Q_OBJECT

 public:
  explicit LandscapePlot(QWidget* parent = nullptr);

  // An invalid grid (sizes that disagree, or empty) shows the placeholder.
  void set_grid(GridData grid);
  const GridData& grid() const { return grid_; }
  void show_placeholder(const QString& text);

  // The marked minimum (not found without data) and where its marker sits on the axes.
  GridPoint minimum() const { return minimum_; }
  QPointF minimum_marker_position() const;
  bool show_minimum() const { return show_minimum_; }
  void set_show_minimum(bool on);
  bool evenly_spaced_axes() const { return even_; }

  // "c₁ 0.95, c₂ 1.05: loss 2.345" for the grid point nearest `pixel`; empty off the grid.
  QString hover_text(QPointF pixel) const override;

 protected:
  void fit_view() override;
  void retranslate() override;

 private:
  void place_minimum();
  // The axis coordinate of grid index i along x (or y), and back (rounded to the nearest index).
  double axis_coord(const std::vector<double>& v, double i) const;
  int64_t nearest_index(const std::vector<double>& v, double coord) const;

  GridData grid_;
  GridPoint minimum_;
  QCPGraph* min_marker_ = nullptr;
  QCPItemText* min_label_ = nullptr;
  bool even_ = true;
  bool show_minimum_ = true;
  bool default_placeholder_ = false;  // the placeholder on screen is the constructor's
};

}  // namespace lowbit
