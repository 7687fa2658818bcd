#include "app/studio/outlier_page.h"

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>

#include "app/studio/job_support.h"
#include "widgets/plots/channel_max_plot.h"
#include "widgets/plots/curve_plot.h"
#include "widgets/plots/histogram_plot.h"

namespace lowbit {

namespace {

enum Column { kTensor, kBlock, kPart, kKurtosis, kMaxAbs, kStd, kColumns };
constexpr int kIndexRole = Qt::UserRole + 1;  // the histogram's index in OutlierView::weights

// A numeric cell that sorts by value.
QTableWidgetItem* number_item(double v, const QString& text) {
  auto* item = new QTableWidgetItem;
  item->setData(Qt::DisplayRole, v);
  item->setData(Qt::ToolTipRole, text);
  return item;
}

HistogramData histogram_data(const WeightHistogram& w) {
  HistogramData h;
  h.lo = -w.range;
  h.hi = w.range;
  for (int64_t c : w.counts) {
    h.counts.push_back(static_cast<double>(c));
    h.total += static_cast<uint64_t>(c);
  }
  h.mean = w.mean;
  h.stddev = w.std;
  h.abs_max = w.max_abs;
  h.rows_read = h.rows_total = w.rows;
  return h;
}

}  // namespace

OutlierPage::OutlierPage(QWidget* parent) : QWidget(parent) {
  table_ = new QTableWidget(0, kColumns, this);
  table_->setObjectName(QStringLiteral("outlierWeights"));
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(kTensor, QHeaderView::Stretch);
  connect(table_, &QTableWidget::itemSelectionChanged, this, [this] { show_weight(); });
  histogram_ = new HistogramPlot(this);
  histogram_->setObjectName(QStringLiteral("outlierHistogram"));
  histogram_->set_log_counts(true);
  kurtosis_ = new CurvePlot(this);
  kurtosis_->setObjectName(QStringLiteral("outlierKurtosis"));

  input_label_ = new QLabel(this);
  input_combo_ = new QComboBox(this);
  input_combo_->setObjectName(QStringLiteral("outlierInput"));
  input_combo_->setMinimumContentsLength(18);
  connect(input_combo_, &QComboBox::currentIndexChanged, this, [this] { show_input(); });
  channels_ = new ChannelMaxPlot(this);
  channels_->setObjectName(QStringLiteral("outlierChannels"));
  channels_->set_log_y(true);
  top_ = new QLabel(this);
  top_->setWordWrap(true);
  top_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* left = new QSplitter(Qt::Vertical, this);
  left->addWidget(table_);
  left->addWidget(histogram_);
  auto* right = new QWidget(this);
  auto* right_layout = new QVBoxLayout(right);
  right_layout->setContentsMargins(0, 0, 0, 0);
  auto* input_row = new QHBoxLayout;
  input_row->addWidget(input_label_);
  input_row->addWidget(input_combo_);
  input_row->addStretch(1);
  right_layout->addLayout(input_row);
  right_layout->addWidget(channels_, 3);
  right_layout->addWidget(top_);
  right_layout->addWidget(kurtosis_, 2);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(left);
  split->addWidget(right);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(24, 18, 24, 18);
  layout->addWidget(split, 1);
  retranslate();
  set_views(nullptr);
}

void OutlierPage::retranslate() {
  input_label_->setText(tr("Activations of:"));
  table_->setHorizontalHeaderLabels({tr("Tensor"), tr("Block"), tr("Part"), tr("Kurtosis"), tr("Max |w|"), tr("Std")});
  for (int i = 0; i < input_combo_->count() && i < input_count(); ++i)
    input_combo_->setItemText(i, tr("block %1 · %2 input").arg(inputs_[static_cast<size_t>(i)].first)
                                     .arg(QString::fromLatin1(linear_input_name(inputs_[static_cast<size_t>(i)].second))));
  kurtosis_->set_axis_labels(tr("block"), tr("kurtosis"));
  show_input();
}

void OutlierPage::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void OutlierPage::set_views(std::shared_ptr<const ViewsFile> views) {
  views_ = std::move(views);
  inputs_.clear();
  const OutlierView* ov = views_ && views_->data().outliers ? &*views_->data().outliers : nullptr;
  if (ov)
    for (const InputOutliers& in : ov->inputs) inputs_.emplace_back(in.block, in.input);
  {
    const QSignalBlocker block(input_combo_);
    input_combo_->clear();
    for (size_t i = 0; i < inputs_.size(); ++i) input_combo_->addItem(QString());
    input_combo_->setEnabled(!inputs_.empty());
    // First the input with the most outlier channels: the one worth looking at.
    int most = 0;
    for (size_t i = 0; ov && i < ov->inputs.size(); ++i)
      if (ov->inputs[i].outlier_count > ov->inputs[static_cast<size_t>(most)].outlier_count) most = static_cast<int>(i);
    if (!inputs_.empty()) input_combo_->setCurrentIndex(most);
  }
  fill_table();
  // Kurtosis over blocks, a curve per part.
  kurtosis_->show_placeholder(ov ? QString() : tr("Run Analyze with the outlier view"));
  if (ov) {
    for (const SeriesData& s : kurtosis_by_part(ov->weights)) kurtosis_->set_series(s);
  }
  retranslate();
  if (table_->rowCount() > 0) table_->selectRow(0);
  else histogram_->show_placeholder(tr("Run Analyze with the outlier view"));
}

void OutlierPage::fill_table() {
  table_->setSortingEnabled(false);
  table_->setRowCount(0);
  if (!views_ || !views_->data().outliers) return;
  const auto& weights = views_->data().outliers->weights;
  table_->setRowCount(static_cast<int>(weights.size()));
  for (size_t i = 0; i < weights.size(); ++i) {
    const WeightHistogram& w = weights[i];
    const int row = static_cast<int>(i);
    auto* name = new QTableWidgetItem(qstr(w.tensor));
    name->setData(kIndexRole, static_cast<int>(i));
    table_->setItem(row, kTensor, name);
    table_->setItem(row, kBlock, number_item(static_cast<double>(w.block), QString::number(w.block)));
    table_->setItem(row, kPart, new QTableWidgetItem(qstr(w.part)));
    table_->setItem(row, kKurtosis, number_item(w.kurtosis, plot_style::number(w.kurtosis)));
    table_->setItem(row, kMaxAbs, number_item(w.max_abs, plot_style::number(w.max_abs)));
    table_->setItem(row, kStd, number_item(w.std, plot_style::number(w.std)));
  }
  table_->setSortingEnabled(true);
  table_->sortByColumn(kKurtosis, Qt::DescendingOrder);
}

bool OutlierPage::select_weight(const QString& tensor) {
  for (int row = 0; row < table_->rowCount(); ++row)
    if (table_->item(row, kTensor)->text() == tensor) {
      table_->selectRow(row);
      return true;
    }
  return false;
}

void OutlierPage::show_weight() {
  const auto rows = table_->selectionModel()->selectedRows();
  if (!views_ || !views_->data().outliers || rows.isEmpty()) return;
  const int index = table_->item(rows.front().row(), kTensor)->data(kIndexRole).toInt();
  const WeightHistogram& w = views_->data().outliers->weights.at(static_cast<size_t>(index));
  histogram_->set_histogram(histogram_data(w));
  histogram_->set_axis_labels(tr("%1 (%2, block %3): weight").arg(qstr(w.tensor), qstr(w.part)).arg(w.block), tr("count"));
}

bool OutlierPage::select_input(int64_t block, LinearInput input) {
  const auto it = std::find(inputs_.begin(), inputs_.end(), std::pair{block, input});
  if (it == inputs_.end()) return false;
  input_combo_->setCurrentIndex(static_cast<int>(it - inputs_.begin()));
  return true;
}

void OutlierPage::show_input() {
  const int index = input_combo_->currentIndex();
  top_->clear();
  if (!views_ || index < 0 || index >= input_count()) {
    channels_->show_placeholder(tr("Run Analyze with the outlier view"));
    return;
  }
  last_error_.clear();
  const auto [block, input] = inputs_[static_cast<size_t>(index)];
  const InputOutliers& in = views_->data().outliers->inputs[static_cast<size_t>(index)];
  auto max_abs = views_->max_abs(block, input);
  if (!max_abs) {
    last_error_ = qstr(max_abs.error().message);
    channels_->show_placeholder(last_error_);
    return;
  }
  ChannelMaxData data;
  data.max_abs = std::move(*max_abs);
  data.coarse_fence = in.cfp.coarse_threshold;
  data.fine_threshold = in.cfp.threshold;
  data.outliers = in.cfp.outliers;
  data.title = tr("block %1 · %2 input: max |x| per channel").arg(block).arg(QString::fromLatin1(linear_input_name(input))).toStdString();
  channels_->set_channels(std::move(data));
  QStringList top;
  for (const auto& [channel, value] : in.top) top << tr("%1 (%2)").arg(channel).arg(plot_style::number(value));
  top_->setText(in.outlier_count == 0 ? tr("No outlier channels above the fine fence.")
                                      : tr("%n outlier channel(s); the largest: %1", nullptr, static_cast<int>(in.outlier_count))
                                            .arg(top.join(QStringLiteral(", "))));
}

QString OutlierPage::top_channels_text() const { return top_->text(); }

}  // namespace lowbit
