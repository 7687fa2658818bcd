// ColourMapPlot: what HeatmapPlot and LandscapePlot share — one QCPColorMap beside a QCPColorScale
// under a title, with three colour scales: linear; logarithmic, where cells ≤ 0 (zeros of |H|) are
// drawn at the smallest positive value and the scale's label says how many were; and diverging
// (blue–white–red, symmetric about 0) for signed values such as the blocks × blocks scale Hessian.
// set_shared_range() fixes the colour range so that plots side by side (fp, 2, 3, 4 bits) read on
// one scale; share_colour_range() gives a group the union of their natural ranges. Subclasses hand
// over the cells row-major with the axis coordinates of the first and last cell centres and answer
// the hover text; the cells are kept as given, so switching scales never loses the signs.
#pragma once

#include <QList>
#include <cstdint>
#include <vector>

#include "widgets/plots/plot_widget.h"

class QCPColorMap;
class QCPColorScale;
class QCPRange;

namespace lowbit {

enum class ColourScale { Linear, Log, Diverging };

class ColourMapPlot : public PlotWidget {
  Q_OBJECT

 public:
  ColourScale scale_mode() const { return mode_; }
  void set_scale_mode(ColourScale mode);
  // The quantity the colours stand for: "|H|", "loss".
  void set_value_label(const QString& label);
  QString value_label() const { return value_label_; }

  // The range the cells span under the current scale: [min, max]; log: [smallest positive, max];
  // diverging: [−max |v|, max |v|]. Non-finite cells are ignored.
  QCPRange natural_range() const;
  // The colour range in use: the shared one when set, else the natural one.
  QCPRange colour_range() const;
  void set_shared_range(double lower, double upper);
  void clear_shared_range();
  bool has_shared_range() const { return shared_; }
  // Sets the union of the plots' natural ranges on all of them (each under its own scale mode).
  static void share_colour_range(const QList<ColourMapPlot*>& plots);

  int64_t clamped_cells() const { return clamped_; }  // drawn at the smallest positive value (log)
  QString scale_label() const;
  int cell_cols() const { return cols_; }
  int cell_rows() const { return rows_; }
  // A cell as given (before any clamping); NaN outside.
  double cell_value(int col, int row) const;
  QCPColorMap* colour_map() const { return map_; }
  QCPColorScale* colour_scale() const { return scale_; }

 signals:
  void scale_mode_changed(lowbit::ColourScale mode);

 protected:
  explicit ColourMapPlot(QWidget* parent = nullptr);
  void retranslate() override;
  // `cells`: cols × rows, row-major; the first and last cell centres lie at key_first..key_last on
  // the x axis and value_first..value_last on the y axis.
  void set_cells(std::vector<double> cells, int cols, int rows, double key_first, double key_last,
                 double value_first, double value_last);
  void clear_cells();

 private:
  void refill();
  void apply_colour_range();
  void compute_natural_range();

  QCPColorMap* map_ = nullptr;
  QCPColorScale* scale_ = nullptr;
  std::vector<double> cells_;
  int cols_ = 0, rows_ = 0;
  ColourScale mode_ = ColourScale::Linear;
  QString value_label_;
  bool default_value_label_ = true;  // "value", until set_value_label()
  double natural_lo_ = 0, natural_hi_ = 1, min_positive_ = 0;
  double shared_lo_ = 0, shared_hi_ = 1;
  bool shared_ = false;
  int64_t clamped_ = 0;
};

}  // namespace lowbit
