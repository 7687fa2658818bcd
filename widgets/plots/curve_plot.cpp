#include "widgets/plots/curve_plot.h"

#include <cmath>
#include <qcustomplot.h>

namespace lowbit {

namespace {

constexpr int kMaxPointsWithDots = 64;  // denser curves are drawn as plain lines

void show_dots_if_sparse(QCPGraph* line) {
  const bool dots = line->data()->size() <= kMaxPointsWithDots;
  if (dots != (line->scatterStyle().shape() != QCPScatterStyle::ssNone))
    line->setScatterStyle(QCPScatterStyle(dots ? QCPScatterStyle::ssDisc : QCPScatterStyle::ssNone, 4));
}

void style_legend(QCPLegend* legend) {
  legend->setBrush(QColor(255, 255, 255, 220));
  legend->setBorderPen(QPen(plot_style::grid_colour()));
  legend->setTextColor(plot_style::text_colour());
}

}  // namespace

CurvePlot::CurvePlot(QWidget* parent) : PlotWidget(parent) {
  style_legend(plot()->legend);
  plot()->legend->setVisible(false);
  enable_zoom(Qt::Horizontal | Qt::Vertical);
  set_axis_labels(tr("x"), tr("loss"));
  show_placeholder(tr("No data yet"));
  default_labels_ = default_placeholder_ = true;
}

void CurvePlot::retranslate() {
  const bool defaults = default_labels_;
  if (defaults)
    set_axis_labels(tr("x"), tr("loss"));
  else
    set_axis_labels(plot()->xAxis->label(), y_label_);  // the "(log scale)" suffix
  default_labels_ = defaults;
  if (default_placeholder_ && placeholder_visible()) set_placeholder(tr("No data yet"));
}

int CurvePlot::series_index(const QString& name) const {
  for (size_t i = 0; i < series_.size(); ++i)
    if (series_[i].line->name() == name) return static_cast<int>(i);
  return -1;
}

QString CurvePlot::series_name(int series) const { return graph(series) ? graph(series)->name() : QString(); }

QCPGraph* CurvePlot::graph(int series) const {
  return series >= 0 && series < series_count() ? series_[static_cast<size_t>(series)].line : nullptr;
}

int CurvePlot::point_count(int series) const { return graph(series) ? graph(series)->data()->size() : 0; }

std::optional<QPointF> CurvePlot::series_minimum(int series) const {
  if (!graph(series) || !series_[static_cast<size_t>(series)].has_min) return std::nullopt;
  const Series& s = series_[static_cast<size_t>(series)];
  return QPointF(s.min_x, s.min_y);
}

int CurvePlot::add_series(const QString& name) {
  if (const int i = series_index(name); i >= 0) return i;
  const QColor colour = plot_style::series_colour(series_count() + 1);
  Series s;
  s.line = new QCPGraph(plot()->xAxis, plot()->yAxis);
  s.line->setName(name);
  s.line->setPen(QPen(colour, 1.6));
  s.line->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 4));
  s.marker = new QCPGraph(plot()->xAxis, plot()->yAxis);
  s.marker->setLineStyle(QCPGraph::lsNone);
  s.marker->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(colour, 2), Qt::NoBrush, 11));
  s.marker->removeFromLegend();
  series_.push_back(s);
  plot()->legend->setVisible(series_.size() > 1);
  return series_count() - 1;
}

int CurvePlot::set_series(const SeriesData& data) {
  const int index = add_series(QString::fromStdString(data.name));
  Series& s = series_[static_cast<size_t>(index)];
  QVector<double> keys, values;
  keys.reserve(static_cast<qsizetype>(data.size()));
  values.reserve(static_cast<qsizetype>(data.size()));
  for (size_t i = 0; i < data.size() && (data.x.empty() || i < data.x.size()); ++i) {
    keys << data.x_at(i);
    values << data.y[i];
  }
  s.line->setData(keys, values);
  show_dots_if_sparse(s.line);
  // The minimum over the points drawn (an x shorter than y cuts the series), as append_point keeps it.
  s.has_min = false;
  for (qsizetype i = 0; i < keys.size(); ++i) {
    if (std::isfinite(keys[i]) && std::isfinite(values[i]) && (!s.has_min || values[i] < s.min_y)) {
      s.has_min = true;
      s.min_x = keys[i];
      s.min_y = values[i];
    }
  }
  update_marker(s);
  data_changed();
  if (!user_view()) fit_view();  // at once, so that a chart built for the report needs no event loop
  return index;
}

void CurvePlot::append_point(const QString& series, double x, double y) { append_point(add_series(series), x, y); }

void CurvePlot::append_point(int series, double x, double y) {
  if (series < 0 || series >= series_count()) return;
  Series& s = series_[static_cast<size_t>(series)];
  s.line->addData(x, y);
  if (std::isfinite(y) && std::isfinite(x) && (!s.has_min || y < s.min_y)) {
    s.has_min = true;
    s.min_x = x;
    s.min_y = y;
    update_marker(s);
  }
  data_changed();
}

void CurvePlot::show_placeholder(const QString& text) {
  default_placeholder_ = false;
  for (Series& s : series_) {
    plot()->removeGraph(s.line);
    plot()->removeGraph(s.marker);
  }
  series_.clear();
  plot()->legend->setVisible(false);
  plot()->xAxis->setRange(0, 1);
  plot()->yAxis->setRange(log_y_ ? QCPRange(1, 10) : QCPRange(0, 1));
  needs_fit_ = false;
  set_placeholder(text);
}

void CurvePlot::set_axis_labels(const QString& x, const QString& y) {
  default_labels_ = false;
  plot()->xAxis->setLabel(x);
  y_label_ = y;
  plot()->yAxis->setLabel(log_y_ ? tr("%1 (log scale)").arg(y) : y);
  request_replot();
}

void CurvePlot::set_log_y(bool on) {
  if (on == log_y_) return;
  log_y_ = on;
  plot_style::set_log_axis(plot()->yAxis, on);
  const bool defaults = default_labels_;
  set_axis_labels(plot()->xAxis->label(), y_label_);
  default_labels_ = defaults;
  if (!user_view()) fit_view();
  request_replot();
  emit log_y_changed(on);
}

void CurvePlot::update_marker(Series& s) {
  s.marker->data()->clear();
  if (s.has_min) s.marker->addData(s.min_x, s.min_y);
}

void CurvePlot::data_changed() {
  needs_fit_ = true;
  hide_placeholder();
  request_replot();
}

void CurvePlot::before_batched_replot() {
  for (Series& s : series_) show_dots_if_sparse(s.line);
  if (needs_fit_ && !user_view()) fit_view();
  needs_fit_ = false;
}

void CurvePlot::fit_view() {
  needs_fit_ = false;
  bool any = false;
  for (const Series& s : series_) any = any || !s.line->data()->isEmpty();
  if (!any) return;
  plot()->rescaleAxes();
  plot()->xAxis->scaleRange(1.04);
  plot()->yAxis->scaleRange(1.12);
}

QString CurvePlot::hover_text(QPointF pixel) const {
  QList<QCPGraph*> lines;
  for (const Series& s : series_) lines << s.line;
  const GraphHit hit = nearest_graph_point(lines, pixel);
  if (hit.graph < 0) return {};
  return tr("%1 — %2 %3, %4 %5")
      .arg(lines[hit.graph]->name(), plot()->xAxis->label(), plot_style::number(hit.key), y_label_,
           plot_style::number(hit.value));
}

}  // namespace lowbit
