#include "app/studio/hessian_page.h"

#include <QComboBox>
#include <QEvent>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "app/studio/job_support.h"
#include "widgets/plots/heatmap_plot.h"
#include "widgets/plots/spectrum_plot.h"

namespace lowbit {

namespace {

enum Column { kLevel, kTrace, kOffdiag, kCorr, kEigMin, kEigMax, kRank, kColumns };

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

}  // namespace

HessianPage::HessianPage(QWidget* parent) : QWidget(parent) {
  layer_label_ = new QLabel(this);
  layer_ = new QComboBox(this);
  layer_->setObjectName(QStringLiteral("hessianLayer"));
  layer_->setMinimumContentsLength(18);
  spectrum_label_ = new QLabel(this);
  spectrum_kind_ = new QComboBox(this);
  spectrum_kind_->addItems({QString(), QString()});
  auto* controls = new QHBoxLayout;
  controls->addWidget(layer_label_);
  controls->addWidget(layer_);
  controls->addSpacing(24);
  controls->addWidget(spectrum_label_);
  controls->addWidget(spectrum_kind_);
  controls->addStretch(1);
  connect(layer_, &QComboBox::currentIndexChanged, this, [this] { show_layer(); });
  connect(spectrum_kind_, &QComboBox::currentIndexChanged, this, [this] { show_spectra(); });  // the heatmaps stay

  heatmap_row_ = new QWidget(this);
  auto* row = new QGridLayout(heatmap_row_);
  row->setContentsMargins(0, 0, 0, 0);
  spectrum_ = new SpectrumPlot(this);
  table_ = new QTableWidget(0, kColumns, this);
  table_->setObjectName(QStringLiteral("hessianSummary"));
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  // The heatmaps (2 × 2 for four levels) take the left, the spectra and the figures the right.
  auto* side = new QSplitter(Qt::Vertical, this);
  side->addWidget(spectrum_);
  side->addWidget(table_);
  side->setStretchFactor(0, 3);
  side->setStretchFactor(1, 2);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(heatmap_row_);
  split->addWidget(side);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(24, 18, 24, 18);
  layout->addLayout(controls);
  layout->addWidget(split, 1);
  retranslate();
  set_views(nullptr);
}

void HessianPage::retranslate() {
  layer_label_->setText(tr("Layer:"));
  spectrum_label_->setText(tr("Spectrum:"));
  spectrum_kind_->setItemText(0, tr("eigenvalues"));
  spectrum_kind_->setItemText(1, tr("diagonal"));
  table_->setHorizontalHeaderLabels({tr("Level"), tr("Trace"), tr("Off-diagonal mass"), tr("Mean |corr|"), tr("λ min"),
                                     tr("λ max"), tr("Effective rank")});
  for (int i = 0; i < layer_->count() && i < layer_count(); ++i)
    layer_->setItemText(i, tr("block %1 · %2 input").arg(layers_[static_cast<size_t>(i)].first)
                               .arg(QString::fromLatin1(linear_input_name(layers_[static_cast<size_t>(i)].second))));
  if (!views_ || layers_.empty()) spectrum_->show_placeholder(tr("Run Analyze with the Hessian view"));
  show_layer();
}

void HessianPage::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

QString HessianPage::level_title(const std::string& level) const {
  if (level == "fp") return tr("full precision");
  return tr("earlier blocks at %1 bits").arg(qstr(level.substr(1)));
}

void HessianPage::set_views(std::shared_ptr<const ViewsFile> views) {
  views_ = std::move(views);
  layers_.clear();
  levels_.clear();
  const HessianView* hv = views_ && views_->data().hessian ? &*views_->data().hessian : nullptr;
  if (hv) {
    levels_ = hv->levels;
    for (const HessianSummary& s : hv->layers)
      if (std::find(layers_.begin(), layers_.end(), std::pair{s.block, s.input}) == layers_.end()) layers_.emplace_back(s.block, s.input);
  }
  // One heatmap per level; their count changes only with a new analysis.
  if (heatmaps_.size() != std::max<size_t>(1, levels_.size())) {
    for (HeatmapPlot* h : heatmaps_) delete h;
    heatmaps_.clear();
    for (size_t i = 0; i < std::max<size_t>(1, levels_.size()); ++i) {
      auto* h = new HeatmapPlot(heatmap_row_);
      h->setObjectName(QStringLiteral("hessianHeatmap%1").arg(i));
      // Two per row: four levels read as a 2 × 2 grid with room for square cells.
      static_cast<QGridLayout*>(heatmap_row_->layout())->addWidget(h, static_cast<int>(i / 2), static_cast<int>(i % 2));
      heatmaps_.push_back(h);
    }
  }
  const QSignalBlocker block(layer_);
  layer_->clear();
  for (size_t i = 0; i < layers_.size(); ++i) layer_->addItem(QString());
  layer_->setEnabled(!layers_.empty());
  retranslate();  // names the layers and shows the first
}

bool HessianPage::select_layer(int64_t block, LinearInput input) {
  const auto it = std::find(layers_.begin(), layers_.end(), std::pair{block, input});
  if (it == layers_.end()) return false;
  layer_->setCurrentIndex(static_cast<int>(it - layers_.begin()));
  return true;
}

int HessianPage::current_layer() const { return layer_->currentIndex(); }

void HessianPage::set_show_eigenvalues(bool on) { spectrum_kind_->setCurrentIndex(on ? 0 : 1); }

void HessianPage::show_layer() {
  const int index = layer_->currentIndex();
  table_->setRowCount(0);
  if (!views_ || index < 0 || index >= layer_count()) {
    for (HeatmapPlot* h : heatmaps_) h->show_placeholder(tr("Run Analyze with the Hessian view"));
    return;
  }
  last_error_.clear();
  const auto [block, input] = layers_[static_cast<size_t>(index)];
  QList<ColourMapPlot*> shared;
  for (size_t l = 0; l < levels_.size(); ++l) {
    const std::string& level = levels_[l];
    const QString title = level_title(level);
    auto h = views_->hessian(block, input, level);
    const HessianSummary* c = nullptr;
    for (const HessianSummary& s : views_->data().hessian->layers)
      if (s.block == block && s.input == input && s.level == level) c = &s;
    if (!h) {
      last_error_ = qstr(h.error().message);
      heatmaps_[l]->show_placeholder(last_error_);
      continue;
    }
    MatrixData m;
    m.rows = m.cols = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(h->size()))));
    m.values = std::move(*h);
    m.title = QStringLiteral("|H| — %1").arg(title).toStdString();
    heatmaps_[l]->set_value_label(QStringLiteral("|H|"));
    heatmaps_[l]->set_matrix(std::move(m));
    shared << heatmaps_[l];
    if (c) {
      const int row = table_->rowCount();
      table_->insertRow(row);
      const double cells[] = {c->trace, c->offdiag_mass, c->mean_abs_corr, c->eig_min, c->eig_max, c->effective_rank};
      table_->setItem(row, kLevel, new QTableWidgetItem(title));
      for (int k = 0; k < 6; ++k) table_->setItem(row, kTrace + k, new QTableWidgetItem(plot_style::number(cells[k])));
    }
  }
  if (shared.size() > 1) ColourMapPlot::share_colour_range(shared);
  show_spectra();
}

void HessianPage::show_spectra() {
  const int index = layer_->currentIndex();
  if (!views_ || index < 0 || index >= layer_count()) return;
  const auto [block, input] = layers_[static_cast<size_t>(index)];
  const bool eigen = spectrum_kind_->currentIndex() == 0;
  std::vector<SeriesData> spectra;
  for (const std::string& level : levels_) {
    auto values = eigen ? views_->hessian_eigenvalues(block, input, level) : views_->hessian_diag(block, input, level);
    if (values) spectra.push_back(sorted_spectrum(level_title(level).toStdString(), to_double(*values)));
  }
  spectrum_->set_axis_labels(tr("rank"), eigen ? tr("eigenvalue") : tr("diagonal entry"));
  spectrum_->set_spectra(std::move(spectra));
}

}  // namespace lowbit
