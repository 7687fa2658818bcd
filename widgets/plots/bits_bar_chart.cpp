#include "widgets/plots/bits_bar_chart.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <qcustomplot.h>
#include <utility>

namespace lowbit {

namespace {

// From few bits (warm) to many (cool); formats are spread over it evenly.
const QColor kRamp[] = {{0xd6, 0x27, 0x28}, {0xe6, 0x76, 0x1b}, {0xe8, 0xb5, 0x17}, {0x8f, 0xbf, 0x3a},
                        {0x2c, 0xa0, 0x2c}, {0x17, 0xa2, 0xb8}, {0x3b, 0x7d, 0xd8}, {0x6a, 0x51, 0xa3}};
constexpr int kRampSize = static_cast<int>(std::size(kRamp));

QColor ramp_colour(int index, int count) {
  if (count > kRampSize) return kRamp[index % kRampSize];
  if (count <= 1) return kRamp[kRampSize - 2];
  return kRamp[static_cast<int>(std::lround(double(index) * (kRampSize - 1) / double(count - 1)))];
}

}  // namespace

BitsBarChart::BitsBarChart(QWidget* parent) : PlotWidget(parent) {
  QCustomPlot* p = plot();
  target_ = new QCPItemStraightLine(p);
  target_->setPen(QPen(QColor(0x20, 0x20, 0x20, 150), 1.2, Qt::DashLine));
  target_label_ = new QCPItemText(p);
  target_label_->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
  target_label_->position->setTypeY(QCPItemPosition::ptPlotCoords);
  target_label_->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
  target_label_->setColor(plot_style::text_colour());
  target_label_->setBrush(QColor(255, 255, 255, 210));  // legible over the bars
  target_label_->setClipToAxisRect(true);

  p->legend->setVisible(true);
  p->legend->setBrush(QColor(255, 255, 255, 220));
  p->legend->setBorderPen(QPen(plot_style::grid_colour()));
  p->legend->setTextColor(plot_style::text_colour());
  p->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  p->legend->setWrap(8);
  p->xAxis->setLabel(tr("tensor, by decoder block"));
  p->xAxis->grid()->setVisible(true);
  p->yAxis->setLabel(tr("bits per weight"));
  enable_zoom(Qt::Horizontal);
  show_placeholder(tr("No layout"));
  default_placeholder_ = true;
}

void BitsBarChart::retranslate() {
  plot()->xAxis->setLabel(tr("tensor, by decoder block"));
  plot()->yAxis->setLabel(tr("bits per weight"));
  if (target_label_->visible()) target_label_->setText(tr("target %1 bpw").arg(data_.target_bpw, 0, 'f', 2));
  if (default_placeholder_ && placeholder_visible()) set_placeholder(tr("No layout"));
}

void BitsBarChart::set_bits(BitsData data) {
  data_ = std::move(data);
  rebuild();
}

void BitsBarChart::show_placeholder(const QString& text) {
  default_placeholder_ = false;
  data_ = {};
  rebuild();
  set_placeholder(text);
}

int BitsBarChart::bar_count() const {
  int n = 0;
  for (const QCPBars* b : bars_) n += b->data()->size();
  return n;
}

QStringList BitsBarChart::formats() const { return formats_; }

QColor BitsBarChart::format_colour(const QString& format) const {
  const auto i = formats_.indexOf(format);
  return i < 0 ? QColor() : bars_[static_cast<size_t>(i)]->brush().color();
}

int BitsBarChart::bars_of_format(const QString& format) const {
  const auto i = formats_.indexOf(format);
  return i < 0 ? 0 : bars_[static_cast<size_t>(i)]->data()->size();
}

QStringList BitsBarChart::tick_labels() const {
  auto ticker = plot()->xAxis->ticker().dynamicCast<QCPAxisTickerText>();
  return ticker ? QStringList(ticker->ticks().values()) : QStringList();
}

bool BitsBarChart::target_visible() const { return target_->visible(); }

void BitsBarChart::rebuild() {
  set_title_text(QString::fromStdString(data_.title));
  for (QCPBars* b : bars_) plot()->removePlottable(b);
  bars_.clear();
  formats_.clear();

  // Formats in order of their mean bits per weight (then name), so the colours run warm to cool.
  std::map<QString, std::pair<double, int>> sums;
  for (const TensorBits& t : data_.tensors) {
    auto& [sum, count] = sums[QString::fromStdString(t.format)];
    sum += t.bits_per_weight;
    ++count;
  }
  std::vector<std::pair<double, QString>> order;
  for (const auto& [format, s] : sums) order.emplace_back(s.first / s.second, format);
  std::sort(order.begin(), order.end());
  for (size_t i = 0; i < order.size(); ++i) {
    const QString& format = order[i].second;
    auto* bars = new QCPBars(plot()->xAxis, plot()->yAxis);
    bars->setName(format);
    bars->setWidthType(QCPBars::wtPlotCoords);
    bars->setWidth(0.8);
    bars->setPen(Qt::NoPen);
    bars->setBrush(ramp_colour(static_cast<int>(i), static_cast<int>(order.size())));
    bars->setAntialiased(false);
    formats_ << format;
    bars_.push_back(bars);
  }
  for (size_t i = 0; i < data_.tensors.size(); ++i) {
    const TensorBits& t = data_.tensors[i];
    bars_[static_cast<size_t>(formats_.indexOf(QString::fromStdString(t.format)))]->addData(static_cast<double>(i),
                                                                                           t.bits_per_weight);
  }

  // Block labels at each labelled block's first tensor.
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  std::vector<std::pair<int, size_t>> starts;  // block, first tensor
  for (size_t i = 0; i < data_.tensors.size(); ++i) {
    const int block = data_.tensors[i].block;
    if (block >= 0 && (starts.empty() || starts.back().first != block)) starts.emplace_back(block, i);
  }
  const size_t step = std::max<size_t>(1, (starts.size() + kMaxBlockLabels - 1) / kMaxBlockLabels);
  for (size_t k = 0; k < starts.size(); k += step)
    ticker->addTick(static_cast<double>(starts[k].second), QString::number(starts[k].first));
  plot()->xAxis->setTicker(ticker);

  const bool has_target = data_.target_bpw > 0 && !data_.tensors.empty();
  target_->setVisible(has_target);
  target_label_->setVisible(has_target);
  if (has_target) {
    target_->point1->setCoords(0, data_.target_bpw);
    target_->point2->setCoords(1, data_.target_bpw);
    target_label_->position->setCoords(0.99, data_.target_bpw);
    target_label_->setText(tr("target %1 bpw").arg(data_.target_bpw, 0, 'f', 2));
  }
  plot()->legend->setVisible(!data_.tensors.empty());
  if (!data_.tensors.empty()) hide_placeholder();
  if (!user_view()) fit_view();
  request_replot();
}

void BitsBarChart::fit_view() {
  double hi = data_.target_bpw;
  for (const TensorBits& t : data_.tensors)
    if (std::isfinite(t.bits_per_weight)) hi = std::max(hi, t.bits_per_weight);
  plot()->xAxis->setRange(-1, std::max<double>(1, static_cast<double>(data_.tensors.size())));
  plot()->yAxis->setRange(0, hi > 0 ? hi * 1.25 : 1);  // headroom for the legend
}

QString BitsBarChart::hover_text(QPointF pixel) const {
  if (data_.tensors.empty() || !plot()->axisRect()->rect().contains(pixel.toPoint())) return {};
  const double x = plot()->xAxis->pixelToCoord(pixel.x());
  if (!std::isfinite(x)) return {};
  const auto i = static_cast<int64_t>(std::floor(x + 0.5));
  if (i < 0 || i >= static_cast<int64_t>(data_.tensors.size())) return {};
  const TensorBits& t = data_.tensors[static_cast<size_t>(i)];
  QString text = tr("%1 — %2, %3 bpw")
                     .arg(QString::fromStdString(t.name), QString::fromStdString(t.format))
                     .arg(t.bits_per_weight, 0, 'f', 2);
  if (t.block >= 0) text += tr(" (block %1)").arg(t.block);
  return text;
}

}  // namespace lowbit
