#include "widgets/plots/landscape_plot.h"

#include <algorithm>
#include <cmath>
#include <qcustomplot.h>
#include <utility>

namespace lowbit {

namespace {

constexpr int kMaxTextTicks = 12;

// Tick labels for an uneven grid drawn over its indices: the coordinates, thinned to a dozen.
QSharedPointer<QCPAxisTickerText> index_ticker(const std::vector<double>& v) {
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  const size_t step = std::max<size_t>(1, (v.size() + kMaxTextTicks - 1) / kMaxTextTicks);
  for (size_t i = 0; i < v.size(); i += step) ticker->addTick(static_cast<double>(i), plot_style::number(v[i]));
  return ticker;
}

// Ticks for evenly spaced coordinates; whole-number ones (block indices) get whole-number ticks.
QSharedPointer<QCPAxisTicker> even_ticker(const std::vector<double>& v) {
  const bool whole = std::all_of(v.begin(), v.end(), [](double c) { return c == std::round(c); });
  if (!whole) return QSharedPointer<QCPAxisTicker>::create();
  auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
  ticker->setTickStep(1.0);
  ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  return ticker;
}

QString or_default(const std::string& s, const QString& fallback) {
  return s.empty() ? fallback : QString::fromStdString(s);
}

}  // namespace

LandscapePlot::LandscapePlot(QWidget* parent) : ColourMapPlot(parent) {
  plot()->xAxis->grid()->setVisible(false);
  plot()->yAxis->grid()->setVisible(false);

  min_marker_ = new QCPGraph(plot()->xAxis, plot()->yAxis);
  min_marker_->setLineStyle(QCPGraph::lsNone);
  min_marker_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCrossCircle, QPen(Qt::black, 1.5), QBrush(Qt::white), 13));
  min_marker_->removeFromLegend();

  min_label_ = new QCPItemText(plot());
  min_label_->position->setType(QCPItemPosition::ptPlotCoords);
  min_label_->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
  min_label_->setPadding(QMargins(3, 1, 3, 1));
  min_label_->setBrush(QColor(255, 255, 255, 200));
  min_label_->setColor(Qt::black);
  min_label_->setClipToAxisRect(true);

  show_placeholder(tr("No landscape"));
  default_placeholder_ = true;
}

void LandscapePlot::retranslate() {
  if (grid_.valid())
    set_value_label(or_default(grid_.z_label, tr("value")));
  else
    ColourMapPlot::retranslate();
  place_minimum();
  if (default_placeholder_ && placeholder_visible()) set_placeholder(tr("No landscape"));
}

void LandscapePlot::set_grid(GridData grid) {
  if (!grid.valid()) {
    show_placeholder(tr("No landscape: the grid is empty or its sizes disagree"));
    return;
  }
  const bool same_shape = grid.x.size() == grid_.x.size() && grid.y.size() == grid_.y.size();
  grid_ = std::move(grid);
  even_ = evenly_spaced(grid_.x) && evenly_spaced(grid_.y);
  const auto nx = static_cast<double>(grid_.x.size()), ny = static_cast<double>(grid_.y.size());
  set_cells(grid_.z, static_cast<int>(grid_.x.size()), static_cast<int>(grid_.y.size()), axis_coord(grid_.x, 0),
            axis_coord(grid_.x, nx - 1), axis_coord(grid_.y, 0), axis_coord(grid_.y, ny - 1));

  QCPAxis* x = plot()->xAxis;
  QCPAxis* y = plot()->yAxis;
  x->setLabel(QString::fromStdString(grid_.x_label));
  y->setLabel(QString::fromStdString(grid_.y_label));
  if (even_) {
    x->setTicker(even_ticker(grid_.x));
    y->setTicker(even_ticker(grid_.y));
  } else {
    x->setTicker(index_ticker(grid_.x));
    y->setTicker(index_ticker(grid_.y));
  }
  set_value_label(or_default(grid_.z_label, tr("value")));
  set_title_text(QString::fromStdString(grid_.title));

  minimum_ = grid_minimum(grid_);
  place_minimum();
  if (!same_shape) {
    reset_view();
  } else if (!user_view()) {
    fit_view();
  }
}

void LandscapePlot::show_placeholder(const QString& text) {
  default_placeholder_ = false;
  grid_ = {};
  minimum_ = {};
  clear_cells();
  set_title_text(QString());
  place_minimum();
  plot()->xAxis->setRange(0, 1);
  plot()->yAxis->setRange(0, 1);
  set_placeholder(text);
}

void LandscapePlot::set_show_minimum(bool on) {
  show_minimum_ = on;
  place_minimum();
}

QPointF LandscapePlot::minimum_marker_position() const {
  if (min_marker_->data()->isEmpty()) return {qQNaN(), qQNaN()};
  const auto& point = *min_marker_->data()->constBegin();
  return {point.key, point.value};
}

void LandscapePlot::place_minimum() {
  min_marker_->data()->clear();
  const bool visible = show_minimum_ && minimum_.found();
  min_label_->setVisible(visible);
  if (visible) {
    const double mx = axis_coord(grid_.x, static_cast<double>(minimum_.ix));
    const double my = axis_coord(grid_.y, static_cast<double>(minimum_.iy));
    min_marker_->addData(mx, my);
    min_label_->position->setCoords(mx, my);
    min_label_->setText(tr("min %1").arg(plot_style::number(minimum_.value)));
  }
  request_replot();
}

void LandscapePlot::fit_view() {
  if (!grid_.valid()) return;
  const auto nx = static_cast<double>(grid_.x.size()), ny = static_cast<double>(grid_.y.size());
  plot()->xAxis->setRange(axis_coord(grid_.x, -0.5), axis_coord(grid_.x, nx - 0.5));
  plot()->yAxis->setRange(axis_coord(grid_.y, -0.5), axis_coord(grid_.y, ny - 0.5));
}

double LandscapePlot::axis_coord(const std::vector<double>& v, double i) const {
  if (!even_) return i;
  if (v.size() < 2) return v.empty() ? i : v.front() + i;
  return v.front() + i * (v.back() - v.front()) / static_cast<double>(v.size() - 1);
}

int64_t LandscapePlot::nearest_index(const std::vector<double>& v, double coord) const {
  double i = coord;
  if (even_ && !v.empty()) {
    i = v.size() < 2 ? coord - v.front() : (coord - v.front()) * static_cast<double>(v.size() - 1) / (v.back() - v.front());
  }
  if (!std::isfinite(i) || i < -0.5 || i >= static_cast<double>(v.size()) - 0.5) return -1;
  return static_cast<int64_t>(std::floor(i + 0.5));
}

QString LandscapePlot::hover_text(QPointF pixel) const {
  if (!grid_.valid() || !plot()->axisRect()->rect().contains(pixel.toPoint())) return {};
  const int64_t ix = nearest_index(grid_.x, plot()->xAxis->pixelToCoord(pixel.x()));
  const int64_t iy = nearest_index(grid_.y, plot()->yAxis->pixelToCoord(pixel.y()));
  if (ix < 0 || iy < 0) return {};
  const auto ux = static_cast<size_t>(ix), uy = static_cast<size_t>(iy);
  return tr("%1 %2, %3 %4: %5 %6")
      .arg(or_default(grid_.x_label, QStringLiteral("x")), plot_style::number(grid_.x[ux]),
           or_default(grid_.y_label, QStringLiteral("y")), plot_style::number(grid_.y[uy]),
           or_default(grid_.z_label, tr("value")), plot_style::number(grid_.at(ux, uy)));
}

}  // namespace lowbit
