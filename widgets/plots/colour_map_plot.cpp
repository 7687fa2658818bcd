#include "widgets/plots/colour_map_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <qcustomplot.h>

namespace lowbit {

namespace {

// A perceptually even sequential gradient (the stops of matplotlib's viridis): dark is small.
QCPColorGradient sequential_gradient() {
  QCPColorGradient g;
  g.clearColorStops();
  g.setColorStopAt(0.0, QColor(0x44, 0x01, 0x54));
  g.setColorStopAt(0.25, QColor(0x3b, 0x52, 0x8b));
  g.setColorStopAt(0.5, QColor(0x21, 0x91, 0x8c));
  g.setColorStopAt(0.75, QColor(0x5e, 0xc9, 0x62));
  g.setColorStopAt(1.0, QColor(0xfd, 0xe7, 0x25));
  g.setNanHandling(QCPColorGradient::nhNanColor);
  g.setNanColor(QColor(0xd0, 0xd0, 0xd0));
  return g;
}

// Blue below 0, white at 0, red above (ColorBrewer RdBu), for a range symmetric about 0.
QCPColorGradient diverging_gradient() {
  QCPColorGradient g;
  g.clearColorStops();
  g.setColorStopAt(0.0, QColor(0x21, 0x66, 0xac));
  g.setColorStopAt(0.25, QColor(0x92, 0xc5, 0xde));
  g.setColorStopAt(0.5, QColor(0xf7, 0xf7, 0xf7));
  g.setColorStopAt(0.75, QColor(0xf4, 0xa5, 0x82));
  g.setColorStopAt(1.0, QColor(0xb2, 0x18, 0x2b));
  g.setNanHandling(QCPColorGradient::nhNanColor);
  g.setNanColor(QColor(0xd0, 0xd0, 0xd0));
  return g;
}

}  // namespace

ColourMapPlot::ColourMapPlot(QWidget* parent) : PlotWidget(parent) {
  QCustomPlot* p = plot();
  // The axis rect and the colour scale in a grid of their own, one cell of the plot layout, so that
  // the title row above them (PlotWidget) widens neither column: in one grid a long title would
  // push the scale out of the widget.
  QCPAxisRect* rect = p->axisRect();
  p->plotLayout()->take(rect);
  p->plotLayout()->simplify();
  auto* body = new QCPLayoutGrid;
  p->plotLayout()->addElement(0, 0, body);
  body->addElement(0, 0, rect);

  scale_ = new QCPColorScale(p);
  scale_->setType(QCPAxis::atRight);
  scale_->setBarWidth(12);
  scale_->setRangeDrag(false);
  scale_->setRangeZoom(false);
  plot_style::style_axis(scale_->axis());
  body->addElement(0, 1, scale_);

  map_ = new QCPColorMap(p->xAxis, p->yAxis);
  map_->setInterpolate(false);
  map_->setTightBoundary(false);
  map_->setColorScale(scale_);
  scale_->setGradient(sequential_gradient());

  auto* group = new QCPMarginGroup(p);
  p->axisRect()->setMarginGroup(QCP::msTop | QCP::msBottom, group);
  scale_->setMarginGroup(QCP::msTop | QCP::msBottom, group);

  enable_zoom(Qt::Horizontal | Qt::Vertical);
  value_label_ = tr("value");
  apply_colour_range();
}

void ColourMapPlot::set_scale_mode(ColourScale mode) {
  if (mode == mode_) return;
  mode_ = mode;
  const bool log = mode == ColourScale::Log;
  scale_->setDataScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
  plot_style::set_log_axis(scale_->axis(), log);
  scale_->setGradient(mode == ColourScale::Diverging ? diverging_gradient() : sequential_gradient());
  compute_natural_range();
  refill();
  apply_colour_range();
  request_replot();
  emit scale_mode_changed(mode);
}

void ColourMapPlot::retranslate() {
  if (default_value_label_) value_label_ = tr("value");
  apply_colour_range();  // the scale's label
}

void ColourMapPlot::set_value_label(const QString& label) {
  default_value_label_ = false;
  value_label_ = label;
  apply_colour_range();
  request_replot();
}

QCPRange ColourMapPlot::natural_range() const { return {natural_lo_, natural_hi_}; }

QCPRange ColourMapPlot::colour_range() const { return scale_->dataRange(); }

void ColourMapPlot::set_shared_range(double lower, double upper) {
  shared_ = true;
  shared_lo_ = std::min(lower, upper);
  shared_hi_ = std::max(lower, upper);
  apply_colour_range();
  request_replot();
}

void ColourMapPlot::clear_shared_range() {
  shared_ = false;
  apply_colour_range();
  request_replot();
}

void ColourMapPlot::share_colour_range(const QList<ColourMapPlot*>& plots) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const ColourMapPlot* p : plots) {
    if (p->cells_.empty()) continue;
    lo = std::min(lo, p->natural_lo_);
    hi = std::max(hi, p->natural_hi_);
  }
  if (!(lo <= hi)) return;  // no plot has data
  for (ColourMapPlot* p : plots) p->set_shared_range(lo, hi);
}

QString ColourMapPlot::scale_label() const {
  QString s = value_label_;
  if (mode_ == ColourScale::Log) {
    s = tr("%1, log scale").arg(s);
    if (!cells_.empty() && !(min_positive_ > 0)) {
      s += tr(" (no positive values)");
    } else if (clamped_ > 0) {
      s += tr(" (%n cell(s) ≤ 0 shown at %1)", nullptr, static_cast<int>(std::min<int64_t>(clamped_, INT32_MAX)))
               .arg(plot_style::number(min_positive_));
    }
  } else if (mode_ == ColourScale::Diverging) {
    s = tr("%1, centred at 0").arg(s);
  }
  return s;
}


double ColourMapPlot::cell_value(int col, int row) const {
  if (col < 0 || row < 0 || col >= cols_ || row >= rows_) return std::numeric_limits<double>::quiet_NaN();
  return cells_[static_cast<size_t>(row) * static_cast<size_t>(cols_) + static_cast<size_t>(col)];
}

void ColourMapPlot::set_cells(std::vector<double> cells, int cols, int rows, double key_first, double key_last,
                              double value_first, double value_last) {
  cells_ = std::move(cells);
  cols_ = cols;
  rows_ = rows;
  // A single cell along an axis has no spacing to infer its width from: give it one unit.
  if (cols == 1) {
    key_first -= 0.5;
    key_last += 0.5;
  }
  if (rows == 1) {
    value_first -= 0.5;
    value_last += 0.5;
  }
  map_->data()->setSize(cols, rows);
  map_->data()->setRange(QCPRange(key_first, key_last), QCPRange(value_first, value_last));
  compute_natural_range();
  refill();
  apply_colour_range();
  hide_placeholder();
  request_replot();
}

void ColourMapPlot::clear_cells() {
  cells_.clear();
  cols_ = rows_ = 0;
  map_->data()->clear();
  compute_natural_range();
  apply_colour_range();
  request_replot();
}

void ColourMapPlot::compute_natural_range() {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, min_pos = lo, max_abs = 0;
  int64_t non_positive = 0;
  for (double v : cells_) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    max_abs = std::max(max_abs, std::abs(v));
    if (v > 0) {
      min_pos = std::min(min_pos, v);
    } else {
      ++non_positive;
    }
  }
  min_positive_ = std::isfinite(min_pos) ? min_pos : 0;
  clamped_ = 0;
  switch (mode_) {
    case ColourScale::Linear:
      if (!(lo <= hi)) {  // no finite cell
        lo = 0;
        hi = 1;
      } else if (hi <= lo) {  // constant: a range around it
        const double d = lo == 0 ? 0.5 : std::abs(lo) * 0.5;
        lo -= d;
        hi += d;
      }
      break;
    case ColourScale::Log:
      if (min_positive_ > 0) {
        clamped_ = non_positive;
        lo = min_positive_;
        if (hi <= lo) {  // one positive value: a factor of 2 either side
          lo = min_positive_ / 2;
          hi = min_positive_ * 2;
        }
      } else {
        lo = 1;
        hi = 10;
      }
      break;
    case ColourScale::Diverging:
      hi = max_abs > 0 ? max_abs : 1;
      lo = -hi;
      break;
  }
  natural_lo_ = lo;
  natural_hi_ = hi;
}

void ColourMapPlot::refill() {
  QCPColorMapData* data = map_->data();
  const bool clamp = mode_ == ColourScale::Log && min_positive_ > 0;
  for (int r = 0; r < rows_; ++r) {
    const double* row = cells_.data() + static_cast<size_t>(r) * static_cast<size_t>(cols_);
    for (int c = 0; c < cols_; ++c) {
      const double v = row[c];
      data->setCell(c, r, clamp && v <= 0 ? min_positive_ : v);
    }
  }
}

void ColourMapPlot::apply_colour_range() {
  double lo = natural_lo_, hi = natural_hi_;
  if (shared_) {
    lo = shared_lo_;
    hi = shared_hi_;
    if (mode_ == ColourScale::Log && lo <= 0) lo = std::min(natural_lo_, hi / 10);
    if (hi <= lo) hi = lo + (lo == 0 ? 1 : std::abs(lo));
  }
  scale_->setDataRange(QCPRange(lo, hi));
  scale_->axis()->setLabel(scale_label());
}

}  // namespace lowbit
