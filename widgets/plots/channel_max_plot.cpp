#include "widgets/plots/channel_max_plot.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <qcustomplot.h>
#include <utility>

namespace lowbit {

namespace {

const QColor kChannelColour(0x3b, 0x7d, 0xd8);
const QColor kOutlierColour(0xd6, 0x27, 0x28);
const QColor kCoarseColour(0xe0, 0x8a, 0x1e);
const QColor kFineColour(0xa3, 0x1d, 0x1d);

QCPBars* make_bars(QCustomPlot* plot, const QColor& colour, const QString& name) {
  auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
  bars->setWidthType(QCPBars::wtPlotCoords);
  bars->setWidth(0.8);
  bars->setPen(Qt::NoPen);
  bars->setBrush(colour);
  bars->setAntialiased(false);
  bars->setName(name);
  return bars;
}

QCPGraph* make_impulses(QCustomPlot* plot, const QColor& colour, const QString& name) {
  auto* graph = new QCPGraph(plot->xAxis, plot->yAxis);
  graph->setLineStyle(QCPGraph::lsImpulse);
  graph->setPen(QPen(colour, 1));
  graph->setName(name);
  return graph;
}

void make_fence(QCustomPlot* plot, const QColor& colour, QCPItemStraightLine** line, QCPItemText** label) {
  *line = new QCPItemStraightLine(plot);
  (*line)->setPen(QPen(colour, 1.2, Qt::DashLine));
  *label = new QCPItemText(plot);
  (*label)->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
  (*label)->position->setTypeY(QCPItemPosition::ptPlotCoords);
  (*label)->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
  (*label)->setColor(colour);
  (*label)->setBrush(QColor(255, 255, 255, 210));  // legible over the bars
  (*label)->setClipToAxisRect(true);
}

}  // namespace

ChannelMaxPlot::ChannelMaxPlot(QWidget* parent) : PlotWidget(parent) {
  QCustomPlot* p = plot();
  bars_ = make_bars(p, kChannelColour, tr("channels"));
  outlier_bars_ = make_bars(p, kOutlierColour, tr("outlier channels"));
  impulses_ = make_impulses(p, kChannelColour, tr("channels"));
  outlier_impulses_ = make_impulses(p, kOutlierColour, tr("outlier channels"));
  make_fence(p, kCoarseColour, &coarse_line_, &coarse_label_);
  make_fence(p, kFineColour, &fine_line_, &fine_label_);
  p->legend->setVisible(true);
  p->legend->setBrush(QColor(255, 255, 255, 220));
  p->legend->setBorderPen(QPen(plot_style::grid_colour()));
  p->legend->setTextColor(plot_style::text_colour());
  p->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
  p->xAxis->setLabel(tr("input channel"));
  p->yAxis->setLabel(tr("max |x|"));
  enable_zoom(Qt::Horizontal | Qt::Vertical);
  show_placeholder(tr("No activation statistics"));
  default_placeholder_ = true;
}

void ChannelMaxPlot::retranslate() {
  bars_->setName(tr("channels"));
  impulses_->setName(tr("channels"));
  plot()->xAxis->setLabel(tr("input channel"));
  plot()->yAxis->setLabel(log_y_ ? tr("max |x| (log scale)") : tr("max |x|"));
  const QString outlier_name = tr("outlier channels (%1)").arg(outliers_.size());
  outlier_bars_->setName(outlier_name);
  outlier_impulses_->setName(outlier_name);
  place_fences();
  if (default_placeholder_ && placeholder_visible()) set_placeholder(tr("No activation statistics"));
}

void ChannelMaxPlot::set_channels(ChannelMaxData data) {
  data_ = std::move(data);
  rebuild();
}

void ChannelMaxPlot::show_placeholder(const QString& text) {
  default_placeholder_ = false;
  data_ = {};
  rebuild();
  set_placeholder(text);
}

void ChannelMaxPlot::set_log_y(bool on) {
  if (on == log_y_) return;
  log_y_ = on;
  plot_style::set_log_axis(plot()->yAxis, on);
  plot()->yAxis->setLabel(on ? tr("max |x| (log scale)") : tr("max |x|"));
  place_fences();
  if (!user_view()) fit_view();
  request_replot();
}

void ChannelMaxPlot::set_style(Style style) {
  style_ = style;
  rebuild();
}

bool ChannelMaxPlot::drawn_as_bars() const {
  return style_ == Style::Bars || (style_ == Style::Auto && channel_count() <= kMaxBars);
}

bool ChannelMaxPlot::is_outlier(int64_t channel) const {
  return std::binary_search(outliers_.begin(), outliers_.end(), channel);
}

bool ChannelMaxPlot::coarse_fence_visible() const { return coarse_line_->visible(); }
bool ChannelMaxPlot::fine_threshold_visible() const { return fine_line_->visible(); }

int ChannelMaxPlot::normal_points() const {
  return drawn_as_bars() ? bars_->data()->size() : impulses_->data()->size();
}

int ChannelMaxPlot::outlier_points() const {
  return drawn_as_bars() ? outlier_bars_->data()->size() : outlier_impulses_->data()->size();
}

void ChannelMaxPlot::rebuild() {
  set_title_text(QString::fromStdString(data_.title));
  const auto n = static_cast<int64_t>(data_.max_abs.size());
  outliers_.clear();
  if (!data_.outliers.empty()) {
    for (int64_t c : data_.outliers)
      if (c >= 0 && c < n) outliers_.push_back(c);
    std::sort(outliers_.begin(), outliers_.end());
    outliers_.erase(std::unique(outliers_.begin(), outliers_.end()), outliers_.end());
  } else if (std::isfinite(data_.fine_threshold)) {
    for (int64_t c = 0; c < n; ++c)
      if (data_.max_abs[static_cast<size_t>(c)] > data_.fine_threshold) outliers_.push_back(c);
  }

  QVector<double> keys, values, out_keys, out_values;
  keys.reserve(static_cast<qsizetype>(n));
  values.reserve(static_cast<qsizetype>(n));
  for (int64_t c = 0; c < n; ++c) {
    const auto key = static_cast<double>(c);
    const double v = data_.max_abs[static_cast<size_t>(c)];
    if (is_outlier(c)) {
      out_keys << key;
      out_values << v;
    } else {
      keys << key;
      values << v;
    }
  }
  const bool bars = drawn_as_bars();
  for (QCPBars* b : {bars_, outlier_bars_}) b->data()->clear();
  for (QCPGraph* g : {impulses_, outlier_impulses_}) g->data()->clear();
  if (bars) {
    bars_->setData(keys, values, true);
    outlier_bars_->setData(out_keys, out_values, true);
  } else {
    impulses_->setData(keys, values, true);
    outlier_impulses_->setData(out_keys, out_values, true);
  }
  // Only the drawn pair is shown and listed in the legend.
  const std::initializer_list<QCPAbstractPlottable*> all = {bars_, outlier_bars_, impulses_, outlier_impulses_};
  for (QCPAbstractPlottable* p : all) {
    const bool drawn = bars == (p == bars_ || p == outlier_bars_);
    p->setVisible(drawn);
    if (drawn) {
      p->addToLegend();
    } else {
      p->removeFromLegend();
    }
  }
  const QString outlier_name = tr("outlier channels (%1)").arg(outliers_.size());
  outlier_bars_->setName(outlier_name);
  outlier_impulses_->setName(outlier_name);
  plot()->legend->setVisible(n > 0);

  place_fences();
  if (n > 0) hide_placeholder();
  if (!user_view()) fit_view();
  request_replot();
}

void ChannelMaxPlot::place_fences() {
  const bool has_data = !data_.empty();
  auto place = [&](QCPItemStraightLine* line, QCPItemText* label, double y, const QString& text) {
    const bool visible = has_data && std::isfinite(y) && (!log_y_ || y > 0);
    line->setVisible(visible);
    label->setVisible(visible);
    if (!visible) return;
    line->point1->setCoords(0, y);
    line->point2->setCoords(1, y);
    label->position->setCoords(0.99, y);
    label->setText(text);
  };
  place(coarse_line_, coarse_label_, data_.coarse_fence,
        tr("coarse fence Q3 + %1·IQR = %2").arg(data_.lambda1).arg(plot_style::number(data_.coarse_fence)));
  place(fine_line_, fine_label_, data_.fine_threshold,
        tr("CFP threshold %1").arg(plot_style::number(data_.fine_threshold)));
}

void ChannelMaxPlot::fit_view() {
  const auto n = static_cast<double>(data_.max_abs.size());
  plot()->xAxis->setRange(-1, std::max(1.0, n));
  double hi = 0, min_pos = std::numeric_limits<double>::infinity();
  for (float v : data_.max_abs) {
    if (!std::isfinite(v)) continue;
    hi = std::max(hi, double(v));
    if (v > 0) min_pos = std::min(min_pos, double(v));
  }
  for (double fence : {data_.coarse_fence, data_.fine_threshold})
    if (std::isfinite(fence)) hi = std::max(hi, fence);
  if (log_y_) {
    plot()->yAxis->setRange(std::isfinite(min_pos) ? QCPRange(min_pos / 2, std::max(hi, min_pos) * 2) : QCPRange(1, 10));
  } else {
    plot()->yAxis->setRange(0, hi > 0 ? hi * 1.1 : 1);
  }
}

QString ChannelMaxPlot::hover_text(QPointF pixel) const {
  if (data_.empty() || !plot()->axisRect()->rect().contains(pixel.toPoint())) return {};
  const double x = plot()->xAxis->pixelToCoord(pixel.x());
  if (!std::isfinite(x)) return {};
  const auto c = static_cast<int64_t>(std::floor(x + 0.5));
  if (c < 0 || c >= channel_count()) return {};
  QString text = tr("channel %1: max |x| %2").arg(c).arg(plot_style::number(data_.max_abs[static_cast<size_t>(c)]));
  if (is_outlier(c)) text += tr(" (outlier)");
  return text;
}

}  // namespace lowbit
