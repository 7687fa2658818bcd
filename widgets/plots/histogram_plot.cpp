#include "widgets/plots/histogram_plot.h"

#include <QEvent>
#include <QVBoxLayout>
#include <algorithm>
#include <qcustomplot.h>

namespace lowbit {

namespace {

const QColor kBarColor(0x3b, 0x7d, 0xd8);
const QColor kGridColor(0xe6, 0xe8, 0xeb);
const QColor kAxisColor(0x8a, 0x90, 0x99);
const QColor kTextColor(0x4a, 0x50, 0x58);

// QCustomPlot replots on every resize; a hidden page laid out at zero size would make it paint into
// empty buffers (and warn). An empty size is skipped: the next real resize replots anyway.
class Canvas : public QCustomPlot {
 public:
  using QCustomPlot::QCustomPlot;

 protected:
  void resizeEvent(QResizeEvent* event) override {
    if (!event->size().isEmpty()) QCustomPlot::resizeEvent(event);
  }
};

void style_axis(QCPAxis* axis) {
  axis->setBasePen(QPen(kAxisColor));
  axis->setTickPen(QPen(kAxisColor));
  axis->setSubTickPen(QPen(kAxisColor));
  axis->setTickLabelColor(kTextColor);
  axis->setLabelColor(kTextColor);
  axis->grid()->setPen(QPen(kGridColor));
  axis->grid()->setZeroLinePen(Qt::NoPen);
}

}  // namespace

HistogramPlot::HistogramPlot(QWidget* parent) : QWidget(parent), plot_(new Canvas(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);

  plot_->setBackground(palette().base());
  plot_->setNoAntialiasingOnDrag(true);
  plot_->axisRect()->setAutoMargins(QCP::msAll);
  style_axis(plot_->xAxis);
  style_axis(plot_->yAxis);
  plot_->xAxis2->setVisible(false);
  plot_->yAxis2->setVisible(false);

  bars_ = new QCPBars(plot_->xAxis, plot_->yAxis);
  bars_->setWidthType(QCPBars::wtPlotCoords);
  bars_->setPen(Qt::NoPen);
  bars_->setBrush(kBarColor);
  bars_->setAntialiased(false);

  zero_line_ = new QCPItemStraightLine(plot_);
  zero_line_->point1->setCoords(0, 0);
  zero_line_->point2->setCoords(0, 1);
  zero_line_->setPen(QPen(QColor(0x20, 0x20, 0x20, 90), 1, Qt::DashLine));
  zero_line_->setClipToAxisRect(true);

  placeholder_ = new QCPItemText(plot_);
  placeholder_->position->setType(QCPItemPosition::ptAxisRectRatio);
  placeholder_->position->setCoords(0.5, 0.5);
  placeholder_->setPositionAlignment(Qt::AlignCenter);
  placeholder_->setColor(kAxisColor);
  placeholder_->setClipToAxisRect(false);

  set_axis_labels(tr("weight value"), tr("count"));
  show_placeholder(tr("No data"));
  default_labels_ = default_placeholder_ = true;
}

void HistogramPlot::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) {
    const bool defaults = default_labels_;
    if (defaults)
      set_axis_labels(tr("weight value"), tr("count"));
    else
      set_axis_labels(plot_->xAxis->label(), count_label_);  // the "(log scale)" suffix
    default_labels_ = defaults;
    if (default_placeholder_ && placeholder_->visible()) placeholder_->setText(tr("No data"));
    queue_replot();
  }
  QWidget::changeEvent(event);
}

void HistogramPlot::set_axis_labels(const QString& x, const QString& y) {
  default_labels_ = false;
  plot_->xAxis->setLabel(x);
  count_label_ = y;
  plot_->yAxis->setLabel(log_counts_ ? tr("%1 (log scale)").arg(y) : y);
  queue_replot();
}

void HistogramPlot::set_histogram(const HistogramData& histogram) {
  histogram_ = histogram;
  QVector<double> keys, values;
  keys.reserve(static_cast<qsizetype>(histogram.counts.size()));
  values.reserve(keys.capacity());
  for (size_t i = 0; i < histogram.counts.size(); ++i) {
    keys << histogram.bin_center(i);
    values << histogram.counts[i];
  }
  bars_->setWidth(histogram.bin_width());
  bars_->setData(keys, values, true);
  const bool has_data = !histogram.empty();
  placeholder_->setVisible(!has_data);
  zero_line_->setVisible(has_data && histogram.lo < 0 && histogram.hi > 0);
  apply_ranges();
  queue_replot();
}

void HistogramPlot::show_placeholder(const QString& text) {
  default_placeholder_ = false;
  histogram_ = {};
  bars_->data()->clear();
  placeholder_->setText(text);
  placeholder_->setVisible(true);
  zero_line_->setVisible(false);
  apply_ranges();
  queue_replot();
}

void HistogramPlot::set_log_counts(bool on) {
  if (on == log_counts_) return;
  log_counts_ = on;
  QCPAxis* y = plot_->yAxis;
  if (on) {
    y->setScaleType(QCPAxis::stLogarithmic);
    auto ticker = QSharedPointer<QCPAxisTickerLog>::create();
    ticker->setLogBase(10);
    y->setTicker(ticker);
    y->setNumberFormat(QStringLiteral("eb"));  // 10ⁿ as a beautifully typeset power
    y->setNumberPrecision(0);
  } else {
    y->setScaleType(QCPAxis::stLinear);
    y->setTicker(QSharedPointer<QCPAxisTicker>::create());
    y->setNumberFormat(QStringLiteral("gb"));
    y->setNumberPrecision(6);
  }
  y->setLabel(on ? tr("%1 (log scale)").arg(count_label_) : count_label_);
  apply_ranges();
  queue_replot();
  emit log_counts_changed(on);
}

int HistogramPlot::bar_count() const { return bars_->data()->size(); }

void HistogramPlot::apply_ranges() {
  if (histogram_.empty()) {
    plot_->xAxis->setRange(-1, 1);
    plot_->yAxis->setRange(log_counts_ ? QCPRange(1, 10) : QCPRange(0, 1));
    return;
  }
  const double pad = histogram_.bin_width() * 2;
  plot_->xAxis->setRange(histogram_.lo - pad, histogram_.hi + pad);
  const double peak = std::max(1.0, *std::max_element(histogram_.counts.begin(), histogram_.counts.end()));
  // On the log axis the bars start below the axis (log 0 is -inf) and are clipped at its bottom.
  plot_->yAxis->setRange(log_counts_ ? QCPRange(0.5, peak * 2.5) : QCPRange(0, peak * 1.08));
}

void HistogramPlot::queue_replot() {
  // A plot not laid out yet has empty paint buffers; QCustomPlot replots itself on its first resize.
  if (plot_->width() > 0 && plot_->height() > 0) plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace lowbit
