#include "widgets/plots/plot_widget.h"

#include <QEvent>
#include <QTimer>
#include <QToolTip>
#include <QVBoxLayout>
#include <cmath>
#include <iterator>
#include <utility>
#include <qcustomplot.h>

namespace lowbit {

namespace {

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

}  // namespace

PlotWidget::PlotWidget(QWidget* parent) : QWidget(parent), plot_(new Canvas(this)), replot_timer_(new QTimer(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);

  plot_->setBackground(palette().base());
  plot_->setNoAntialiasingOnDrag(true);
  plot_->axisRect()->setAutoMargins(QCP::msAll);
  plot_style::style_axis(plot_->xAxis);
  plot_style::style_axis(plot_->yAxis);
  plot_->xAxis2->setVisible(false);
  plot_->yAxis2->setVisible(false);
  plot_->setMouseTracking(true);
  plot_->installEventFilter(this);

  placeholder_ = new QCPItemText(plot_);
  placeholder_->position->setType(QCPItemPosition::ptAxisRectRatio);
  placeholder_->position->setCoords(0.5, 0.5);
  placeholder_->setPositionAlignment(Qt::AlignCenter);
  placeholder_->setColor(plot_style::axis_colour());
  placeholder_->setClipToAxisRect(false);
  placeholder_->setVisible(false);

  replot_timer_->setSingleShot(true);
  replot_timer_->setInterval(kReplotIntervalMs);
  connect(replot_timer_, &QTimer::timeout, this, &PlotWidget::flush);
  connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* event) {
    if (event->buttons() & Qt::LeftButton && plot_->interactions().testFlag(QCP::iRangeDrag)) user_view_ = true;
    on_mouse_move(event);
  });
  connect(plot_, &QCustomPlot::mouseWheel, this, [this](QWheelEvent*) {
    if (plot_->interactions().testFlag(QCP::iRangeZoom)) user_view_ = true;
  });
  connect(plot_, &QCustomPlot::mouseDoubleClick, this, [this](QMouseEvent*) { reset_view(); });
}

QString PlotWidget::title_text() const { return title_ ? title_->text() : QString(); }

void PlotWidget::set_title_text(const QString& text) {
  if (text.isEmpty()) {
    if (title_ != nullptr) {
      plot_->plotLayout()->remove(title_);  // deletes it
      plot_->plotLayout()->simplify();
      title_ = nullptr;
      request_replot();
    }
    return;
  }
  if (title_ == nullptr) {
    QFont bold = font();
    bold.setBold(true);
    title_ = new QCPTextElement(plot_, text, bold);
    title_->setTextColor(plot_style::text_colour());
    plot_->plotLayout()->insertRow(0);
    plot_->plotLayout()->addElement(0, 0, title_);
  }
  title_->setText(text);
  request_replot();
}

bool PlotWidget::placeholder_visible() const { return placeholder_->visible(); }
QString PlotWidget::placeholder_text() const { return placeholder_->text(); }

void PlotWidget::reset_view() {
  user_view_ = false;
  fit_view();
  request_replot();
}

void PlotWidget::set_view(const QCPRange& x, const QCPRange& y) {
  user_view_ = true;
  plot_->xAxis->setRange(x);
  plot_->yAxis->setRange(y);
  request_replot();
}

void PlotWidget::request_replot() {
  dirty_ = true;
  if (!replot_timer_->isActive()) replot_timer_->start();
}

void PlotWidget::flush() {
  if (!dirty_) return;
  dirty_ = false;
  before_batched_replot();
  // A plot not laid out yet has empty paint buffers; QCustomPlot replots itself on its first resize.
  if (plot_->width() > 0 && plot_->height() > 0) plot_->replot(QCustomPlot::rpQueuedReplot);
}

void PlotWidget::set_placeholder(const QString& text) {
  placeholder_->setText(text);
  placeholder_->setVisible(true);
  set_hover({});
  request_replot();
}

void PlotWidget::hide_placeholder() {
  if (!placeholder_->visible()) return;
  placeholder_->setVisible(false);
  request_replot();
}

void PlotWidget::enable_zoom(Qt::Orientations orientations) {
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->axisRect()->setRangeDrag(orientations);
  plot_->axisRect()->setRangeZoom(orientations);
}

bool PlotWidget::eventFilter(QObject* watched, QEvent* event) {
  if (watched == plot_ && event->type() == QEvent::Leave) set_hover({});
  return QWidget::eventFilter(watched, event);
}

void PlotWidget::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) {
    retranslate();
    request_replot();
  }
  QWidget::changeEvent(event);
}

void PlotWidget::on_mouse_move(QMouseEvent* event) {
  set_hover(hover_text(event->position()));
  if (hover_.isEmpty()) {
    QToolTip::hideText();
  } else {
    QToolTip::showText(event->globalPosition().toPoint(), hover_, plot_);
  }
}

void PlotWidget::set_hover(const QString& text) {
  if (text == hover_) return;
  hover_ = text;
  emit hovered(hover_);
}

GraphHit nearest_graph_point(const QList<QCPGraph*>& graphs, QPointF pixel, double max_px) {
  GraphHit hit;
  double best = max_px * max_px;
  for (int g = 0; g < graphs.size(); ++g) {
    const QCPGraph* graph = graphs[g];
    if (graph == nullptr || !graph->visible() || graph->data()->isEmpty()) continue;
    const QCPAxis* key_axis = graph->keyAxis();
    const double along = key_axis->orientation() == Qt::Horizontal ? pixel.x() : pixel.y();
    double lo = key_axis->pixelToCoord(along - max_px), hi = key_axis->pixelToCoord(along + max_px);
    if (lo > hi) std::swap(lo, hi);
    const auto end = graph->data()->findEnd(hi, true);
    for (auto it = graph->data()->findBegin(lo, true); it != end; ++it) {
      if (!std::isfinite(it->value)) continue;
      const QPointF p = graph->coordsToPixels(it->key, it->value);
      const double d = (p.x() - pixel.x()) * (p.x() - pixel.x()) + (p.y() - pixel.y()) * (p.y() - pixel.y());
      if (d <= best) {
        best = d;
        hit = {g, it->key, it->value};
      }
    }
  }
  return hit;
}

namespace plot_style {

QColor text_colour() { return {0x4a, 0x50, 0x58}; }
QColor axis_colour() { return {0x8a, 0x90, 0x99}; }
QColor grid_colour() { return {0xe6, 0xe8, 0xeb}; }

QColor series_colour(int index) {
  static const QColor kPalette[] = {{0x3b, 0x7d, 0xd8}, {0xd9, 0x5f, 0x0e}, {0x2c, 0xa0, 0x2c}, {0x94, 0x67, 0xbd},
                                    {0xd6, 0x27, 0x28}, {0x17, 0xbe, 0xcf}, {0x8c, 0x56, 0x4b}, {0xe3, 0x77, 0xc2}};
  if (index <= 0) return {0x33, 0x33, 0x33};
  return kPalette[(index - 1) % static_cast<int>(std::size(kPalette))];
}

void style_axis(QCPAxis* axis) {
  axis->setBasePen(QPen(axis_colour()));
  axis->setTickPen(QPen(axis_colour()));
  axis->setSubTickPen(QPen(axis_colour()));
  axis->setTickLabelColor(text_colour());
  axis->setLabelColor(text_colour());
  axis->grid()->setPen(QPen(grid_colour()));
  axis->grid()->setZeroLinePen(Qt::NoPen);
}

void set_log_axis(QCPAxis* axis, bool on) {
  if (on) {
    axis->setScaleType(QCPAxis::stLogarithmic);
    auto ticker = QSharedPointer<QCPAxisTickerLog>::create();
    ticker->setLogBase(10);
    axis->setTicker(ticker);
    axis->setNumberFormat(QStringLiteral("eb"));  // 10ⁿ as a typeset power
    axis->setNumberPrecision(0);
  } else {
    axis->setScaleType(QCPAxis::stLinear);
    axis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    axis->setNumberFormat(QStringLiteral("gb"));
    axis->setNumberPrecision(6);
  }
}

QString number(double value) {
  if (!std::isfinite(value)) return QString::number(value);
  if (value == 0) return QStringLiteral("0");
  const double a = std::abs(value);
  if (a >= 1e5 || a < 1e-3) return QString::number(value, 'e', 3);
  return QString::number(value, 'g', 5);
}

}  // namespace plot_style

}  // namespace lowbit
