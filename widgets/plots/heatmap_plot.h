// HeatmapPlot: a dense matrix as a colour map — the Hessian view's |H| of a layer, at full precision
// and at 2, 3 and 4 bits side by side (set_shared_range / share_colour_range give them one colour
// scale). Row 0 is at the top, cells are square (the aspect is kept through resizes, drags and
// wheel zooms), and the default colour scale is logarithmic, since |H| spans many decades (zeros are
// drawn at the smallest positive value, as the scale's label says). A matrix longer than kMaxCells on
// a side is drawn reduced: each cell is the largest |entry| of its block (block_reduce), which the
// title says; the hover text still reads the exact entry under the mouse from the full matrix.
#pragma once

#include "widgets/plots/colour_map_plot.h"
#include "widgets/plots/matrix_data.h"

namespace lowbit {

class HeatmapPlot : public ColourMapPlot {
  Q_OBJECT

 public:
  static constexpr int kMaxCells = 1024;  // per side, drawn

  explicit HeatmapPlot(QWidget* parent = nullptr);

  // Takes the matrix (move it in: a 4096² Hessian is 64 MB). An empty matrix shows the placeholder.
  void set_matrix(MatrixData matrix);
  const MatrixData& matrix() const { return matrix_; }
  void show_placeholder(const QString& text);

  // Draw |value| (the default) or the signed value (pair with ColourScale::Diverging).
  bool absolute() const { return absolute_; }
  void set_absolute(bool on);

  int block_size() const { return factor_; }  // entries per cell side; 1 = not reduced

  // "i 12, j 40: -3.214e-04" (and the cell's block maximum when reduced); empty off the matrix.
  QString hover_text(QPointF pixel) const override;

 protected:
  void fit_view() override;
  void retranslate() override;

 private:
  void rebuild();
  void keep_square_cells();

  MatrixData matrix_;
  int factor_ = 1;
  bool absolute_ = true;
  bool default_placeholder_ = false;  // the placeholder on screen is the constructor's
};

}  // namespace lowbit
