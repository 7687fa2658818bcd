#include "widgets/plots/comparison_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <qcustomplot.h>
#include <utility>

namespace lowbit {

namespace {

const QColor kUniformColour(0x3b, 0x7d, 0xd8);
const QColor kPlanColour(0xd9, 0x5f, 0x0e);

bool drawable(const LayoutPoint& p) {
  return std::isfinite(p.bytes) && p.bytes > 0 && std::isfinite(p.perplexity) && p.perplexity > 0;
}

}  // namespace

ComparisonChart::ComparisonChart(QWidget* parent) : PlotWidget(parent) {
  QCustomPlot* p = plot();
  uniform_ = new QCPGraph(p->xAxis, p->yAxis);
  uniform_->setName(tr("uniform formats"));
  uniform_->setPen(QPen(kUniformColour, 1.6));
  uniform_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(kUniformColour, 1.6), Qt::white, 8));
  plans_ = new QCPGraph(p->xAxis, p->yAxis);
  plans_->setName(tr("plans"));
  plans_->setLineStyle(QCPGraph::lsNone);
  plans_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, QPen(kPlanColour.darker(130), 1), kPlanColour, 11));

  baseline_ = new QCPItemStraightLine(p);
  baseline_->setPen(QPen(QColor(0x20, 0x20, 0x20, 140), 1, Qt::DashLine));
  baseline_label_ = new QCPItemText(p);
  baseline_label_->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
  baseline_label_->position->setTypeY(QCPItemPosition::ptPlotCoords);
  baseline_label_->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
  baseline_label_->setColor(plot_style::text_colour());
  baseline_label_->setClipToAxisRect(true);

  p->legend->setVisible(true);
  p->legend->setBrush(QColor(255, 255, 255, 220));
  p->legend->setBorderPen(QPen(plot_style::grid_colour()));
  p->legend->setTextColor(plot_style::text_colour());
  p->yAxis->setLabel(tr("perplexity"));
  enable_zoom(Qt::Horizontal | Qt::Vertical);
  show_placeholder(tr("No layouts measured yet"));
  default_placeholder_ = true;
}

void ComparisonChart::retranslate() {
  uniform_->setName(tr("uniform formats"));
  plans_->setName(tr("plans"));
  plot()->yAxis->setLabel(log_y_ ? tr("perplexity (log scale)") : tr("perplexity"));
  plot()->xAxis->setLabel(tr("file size (%1)").arg(unit_));
  if (baseline_label_->visible())
    baseline_label_->setText(tr("unquantized %1").arg(plot_style::number(data_.baseline_perplexity)));
  if (default_placeholder_ && placeholder_visible()) set_placeholder(tr("No layouts measured yet"));
}

void ComparisonChart::set_comparison(ComparisonData data) {
  data_ = std::move(data);
  rebuild();
}

void ComparisonChart::show_placeholder(const QString& text) {
  default_placeholder_ = false;
  data_ = {};
  rebuild();
  set_placeholder(text);
}

void ComparisonChart::set_log_y(bool on) {
  if (on == log_y_) return;
  log_y_ = on;
  plot_style::set_log_axis(plot()->yAxis, on);
  plot()->yAxis->setLabel(on ? tr("perplexity (log scale)") : tr("perplexity"));
  if (!user_view()) fit_view();
  request_replot();
}

int ComparisonChart::uniform_count() const { return uniform_->data()->size(); }
int ComparisonChart::plan_count() const { return plans_->data()->size(); }
bool ComparisonChart::baseline_visible() const { return baseline_->visible(); }

QStringList ComparisonChart::point_labels() const {
  QStringList out;
  for (const QCPItemText* label : labels_) out << label->text();
  return out;
}

void ComparisonChart::rebuild() {
  set_title_text(QString::fromStdString(data_.title));
  for (QCPItemText* label : labels_) plot()->removeItem(label);
  labels_.clear();
  drawn_.clear();
  for (const LayoutPoint& p : data_.layouts)
    if (drawable(p)) drawn_.push_back(p);

  double largest = 0;
  for (const LayoutPoint& p : drawn_) largest = std::max(largest, p.bytes);
  const double kib = 1024, mib = kib * 1024, gib = mib * 1024;
  unit_bytes_ = largest >= gib ? gib : largest >= mib ? mib : kib;
  unit_ = largest >= gib ? QStringLiteral("GiB") : largest >= mib ? QStringLiteral("MiB") : QStringLiteral("KiB");
  plot()->xAxis->setLabel(tr("file size (%1)").arg(unit_));

  QVector<double> uk, uv, pk, pv;
  for (const LayoutPoint& p : drawn_) {
    const double x = p.bytes / unit_bytes_;
    (p.uniform ? uk : pk) << x;
    (p.uniform ? uv : pv) << p.perplexity;
    auto* label = new QCPItemText(plot());
    label->position->setType(QCPItemPosition::ptPlotCoords);
    label->position->setCoords(x, p.perplexity);
    label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
    label->setPadding(QMargins(7, 0, 0, 5));
    label->setColor(plot_style::text_colour());
    label->setClipToAxisRect(true);
    label->setText(QString::fromStdString(p.name));
    labels_.push_back(label);
  }
  uniform_->setData(uk, uv);  // sorted by size: the line runs from the smallest file to the largest
  plans_->setData(pk, pv);

  const double base = data_.baseline_perplexity;
  const bool has_base = std::isfinite(base) && base > 0 && !drawn_.empty();
  baseline_->setVisible(has_base);
  baseline_label_->setVisible(has_base);
  if (has_base) {
    baseline_->point1->setCoords(0, base);
    baseline_->point2->setCoords(1, base);
    baseline_label_->position->setCoords(0.01, base);
    baseline_label_->setText(tr("unquantized %1").arg(plot_style::number(base)));
  }
  plot()->legend->setVisible(!drawn_.empty());
  if (!drawn_.empty()) hide_placeholder();
  if (!user_view()) fit_view();
  request_replot();
}

void ComparisonChart::fit_view() {
  if (drawn_.empty()) {
    plot()->xAxis->setRange(0, 1);
    plot()->yAxis->setRange(log_y_ ? QCPRange(1, 10) : QCPRange(0, 1));
    return;
  }
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const LayoutPoint& p : drawn_) {
    x_lo = std::min(x_lo, p.bytes / unit_bytes_);
    x_hi = std::max(x_hi, p.bytes / unit_bytes_);
    y_lo = std::min(y_lo, p.perplexity);
    y_hi = std::max(y_hi, p.perplexity);
  }
  if (baseline_->visible()) {
    y_lo = std::min(y_lo, data_.baseline_perplexity);
    y_hi = std::max(y_hi, data_.baseline_perplexity);
  }
  const double x_span = x_hi > x_lo ? x_hi - x_lo : std::max(x_hi, 1e-9);
  plot()->xAxis->setRange(x_lo - 0.08 * x_span, x_hi + 0.3 * x_span);  // room for the names on the right
  if (log_y_) {
    plot()->yAxis->setRange(y_lo / 1.15, y_hi * 1.3);
  } else {
    const double y_span = y_hi > y_lo ? y_hi - y_lo : std::max(y_hi, 1e-9);
    plot()->yAxis->setRange(y_lo - 0.08 * y_span, y_hi + 0.15 * y_span);
  }
}

const LayoutPoint* ComparisonChart::layout_at(int graph, double key, double value) const {
  for (const LayoutPoint& p : drawn_)
    if (p.uniform == (graph == 0) && p.bytes / unit_bytes_ == key && p.perplexity == value) return &p;
  return nullptr;
}

QString ComparisonChart::hover_text(QPointF pixel) const {
  const GraphHit hit = nearest_graph_point({uniform_, plans_}, pixel);
  if (hit.graph < 0) return {};
  const LayoutPoint* p = layout_at(hit.graph, hit.key, hit.value);
  if (p == nullptr) return {};
  QString text = tr("%1 — %2 %3").arg(QString::fromStdString(p->name), plot_style::number(hit.key), unit_);
  if (p->bits_per_weight > 0) text += tr(", %1 bpw").arg(p->bits_per_weight, 0, 'f', 2);
  text += tr(", perplexity %1").arg(p->perplexity, 0, 'f', 2);
  if (!p->uniform) text += tr(" (plan)");
  return text;
}

}  // namespace lowbit
