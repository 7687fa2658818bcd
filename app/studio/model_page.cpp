#include "app/studio/model_page.h"

#include <QAction>
#include <QCheckBox>
#include <QDir>
#include <QEvent>
#include <QFileInfo>
#include <QFrame>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QScrollBar>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "widgets/plots/histogram_plot.h"
#include "widgets/views/tensor_table_model.h"

namespace lowbit {

namespace {

constexpr int kHistogramBins = 128;
constexpr int64_t kHistogramMaxElements = int64_t{1} << 22;  // 4 M values: a 16 MB buffer at most

// The caption's text is set by ModelPage::retranslate().
QLabel* add_fact(QGridLayout* grid, int row, int column, QLabel** caption, QWidget* parent,
                 QLabel** detail = nullptr) {
  auto* box = new QVBoxLayout;
  box->setSpacing(2);
  auto* caption_label = new QLabel(parent);
  *caption = caption_label;
  QFont small = caption_label->font();
  small.setPointSizeF(small.pointSizeF() * 0.8);
  small.setBold(true);
  small.setLetterSpacing(QFont::PercentageSpacing, 106);
  caption_label->setFont(small);
  caption_label->setForegroundRole(QPalette::PlaceholderText);
  auto* value = new QLabel(parent);
  QFont big = value->font();
  big.setPointSizeF(big.pointSizeF() * 1.25);
  value->setFont(big);
  value->setTextInteractionFlags(Qt::TextSelectableByMouse);
  box->addWidget(caption_label);
  box->addWidget(value);
  if (detail) {
    *detail = new QLabel(parent);
    (*detail)->setForegroundRole(QPalette::PlaceholderText);
    (*detail)->setWordWrap(true);
    box->addWidget(*detail);
  }
  box->addStretch(1);
  grid->addLayout(box, row, column);
  return value;
}

QString format_kind(const Checkpoint& ck) {
  switch (ck.kind()) {
    case Checkpoint::Kind::HfFolder: {
      std::set<std::string> files;
      for (const auto& t : ck.tensors()) files.insert(t.file);
      return files.size() > 1 ? ModelPage::tr("Hugging Face folder, %1 shards").arg(files.size())
                              : ModelPage::tr("Hugging Face folder");
    }
    case Checkpoint::Kind::Safetensors: return ModelPage::tr("safetensors file");
    case Checkpoint::Kind::Gguf: return ModelPage::tr("GGUF v%1").arg(ck.gguf() ? ck.gguf()->version() : 3);
  }
  return QString::fromLatin1(ck.kind_name());
}

QString format_dtypes(const Checkpoint& ck) {
  std::map<std::string, int> counts;
  for (const auto& t : ck.tensors()) ++counts[dtype_name(t.dtype)];
  std::vector<std::pair<std::string, int>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  QStringList parts;
  for (const auto& [name, n] : sorted) parts << ModelPage::tr("%1 (%2)").arg(QString::fromStdString(name)).arg(n);
  return parts.join(QStringLiteral(" · "));
}

QString format_number(double v) {
  const double a = std::abs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e4)) return QLocale().toString(v, 'e', 2);
  return QLocale().toString(v, 'f', a < 0.1 ? 4 : 3);
}

}  // namespace

ModelPage::ModelPage(QWidget* parent) : QWidget(parent) {
  name_ = new QLabel(this);
  QFont name_font = name_->font();
  name_font.setPointSizeF(name_font.pointSizeF() * 1.6);
  name_font.setBold(true);
  name_->setFont(name_font);
  path_ = new QLabel(this);
  path_->setForegroundRole(QPalette::PlaceholderText);
  path_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* facts = new QFrame(this);
  facts->setObjectName(QStringLiteral("modelFacts"));
  facts->setFrameShape(QFrame::StyledPanel);
  facts->setAutoFillBackground(true);
  facts->setBackgroundRole(QPalette::Base);
  auto* grid = new QGridLayout(facts);
  grid->setContentsMargins(16, 12, 16, 12);
  grid->setHorizontalSpacing(32);
  grid->setVerticalSpacing(12);
  architecture_ = add_fact(grid, 0, 0, &captions_[0], facts, &architecture_detail_);
  parameters_ = add_fact(grid, 0, 1, &captions_[1], facts);
  size_ = add_fact(grid, 0, 2, &captions_[2], facts);
  format_ = add_fact(grid, 1, 0, &captions_[3], facts);
  dtypes_ = add_fact(grid, 1, 1, &captions_[4], facts);
  tokenizer_ = add_fact(grid, 1, 2, &captions_[5], facts);
  grid->setColumnStretch(0, 3);
  grid->setColumnStretch(1, 2);
  grid->setColumnStretch(2, 2);

  // Left: the tensor table and its filter.
  filter_ = new QLineEdit(this);
  filter_->setClearButtonEnabled(true);
  auto* find = new QAction(this);
  find->setShortcut(QKeySequence::Find);
  connect(find, &QAction::triggered, filter_, [this] { filter_->setFocus(Qt::ShortcutFocusReason); filter_->selectAll(); });
  addAction(find);
  count_ = new QLabel(this);
  count_->setForegroundRole(QPalette::PlaceholderText);
  tensor_model_ = new TensorTableModel(this);
  proxy_ = new TensorFilterProxy(this);
  proxy_->setSourceModel(tensor_model_);
  table_ = new QTableView(this);
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(TensorTableModel::NameColumn, Qt::AscendingOrder);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setAlternatingRowColors(true);
  table_->setShowGrid(false);
  table_->setWordWrap(false);
  table_->setTextElideMode(Qt::ElideMiddle);
  table_->verticalHeader()->hide();
  table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 8);
  table_->horizontalHeader()->setHighlightSections(false);
  // Names are what people scan: the name column takes the free width, and fit_table_width() keeps
  // the table wide enough that a name is never elided to "model.layers....proj".
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(TensorTableModel::NameColumn, QHeaderView::Stretch);
  auto* filter_row = new QHBoxLayout;
  filter_row->addWidget(filter_, 1);
  filter_row->addWidget(count_);
  auto* left = new QWidget(this);
  auto* left_layout = new QVBoxLayout(left);
  left_layout->setContentsMargins(0, 0, 0, 0);
  left_layout->addLayout(filter_row);
  left_layout->addWidget(table_, 1);

  // Right: the weight distribution of the selected tensor.
  histogram_title_ = new QLabel(this);
  QFont bold = histogram_title_->font();
  bold.setBold(true);
  histogram_title_->setFont(bold);
  histogram_title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  histogram_title_->setMinimumWidth(1);  // a long name must not widen the panel
  plot_ = new HistogramPlot(this);
  histogram_stats_ = new QLabel(this);
  histogram_stats_->setForegroundRole(QPalette::PlaceholderText);
  histogram_stats_->setWordWrap(true);
  log_counts_ = new QCheckBox(this);
  log_counts_->setChecked(true);
  plot_->set_log_counts(true);
  connect(log_counts_, &QCheckBox::toggled, plot_, &HistogramPlot::set_log_counts);
  auto* title_row = new QHBoxLayout;
  title_row->addWidget(histogram_title_, 1);
  title_row->addWidget(log_counts_);
  auto* right = new QWidget(this);
  auto* right_layout = new QVBoxLayout(right);
  right_layout->setContentsMargins(0, 0, 0, 0);
  right_layout->addLayout(title_row);
  right_layout->addWidget(plot_, 1);
  right_layout->addWidget(histogram_stats_);

  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(left);
  splitter->addWidget(right);
  splitter->setStretchFactor(0, 2);
  splitter->setStretchFactor(1, 1);
  splitter->setChildrenCollapsible(false);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(24, 20, 24, 16);
  layout->setSpacing(10);
  layout->addWidget(name_);
  layout->addWidget(path_);
  layout->addWidget(facts);
  layout->addSpacing(4);
  layout->addWidget(splitter, 1);

  connect(filter_, &QLineEdit::textChanged, this, [this](const QString& text) {
    proxy_->set_filter_text(text);
    update_count_label();
  });
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) { on_current_changed(current); });
  connect(&histogram_watcher_, &QFutureWatcher<HistogramResult>::finished, this, &ModelPage::on_histogram_finished);
  histogram_title_->setText(tr("Weight distribution"));
  plot_->show_placeholder(tr("Select a tensor to see its weight distribution"));
  retranslate();
}

void ModelPage::retranslate() {
  const QString captions[] = {tr("Architecture"), tr("Parameters"), tr("Size on disk"),
                              tr("Format"),       tr("Data types"), tr("Tokenizer")};
  for (int i = 0; i < 6; ++i) captions_[i]->setText(captions[i].toUpper());
  filter_->setPlaceholderText(tr("Filter tensors by name or type (e.g. q_proj, layers.3., bf16)"));
  log_counts_->setText(tr("Log counts"));
  log_counts_->setToolTip(tr("Show counts on a logarithmic axis, where rare outlier weights stay visible"));
  tensor_model_->retranslate();
  if (!model_) return;
  build_summary();
  update_count_label();
  const QModelIndex current = table_->currentIndex();
  if (!current.isValid()) {
    histogram_title_->setText(tr("Weight distribution"));
    plot_->show_placeholder(tr("Select a tensor to see its weight distribution"));
  } else if (!histogram_busy()) {
    on_current_changed(current);  // the placeholder or the statistics, in the new language
  }
}

void ModelPage::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

ModelPage::~ModelPage() {
  cancel_histograms();
  for (auto& job : histogram_jobs_) job.waitForFinished();
}

void ModelPage::set_model(std::shared_ptr<const OpenedModel> model) {
  cancel_histograms();
  model_ = std::move(model);
  filter_->clear();
  tensor_model_->set_checkpoint(model_ ? model_->checkpoint : nullptr);
  build_summary();
  update_count_label();
  fit_table_width();
  histogram_title_->setText(tr("Weight distribution"));
  histogram_stats_->clear();
  plot_->show_placeholder(tr("Select a tensor to see its weight distribution"));
}

void ModelPage::build_summary() {
  if (!model_) {
    for (QLabel* l : {name_, path_, architecture_, architecture_detail_, parameters_, size_, dtypes_, format_, tokenizer_})
      l->clear();
    return;
  }
  const Checkpoint& ck = *model_->checkpoint;
  name_->setText(model_->name);
  path_->setText(QDir::toNativeSeparators(model_->path));
  if (model_->config) {
    const ModelConfig& c = *model_->config;
    architecture_->setText(QString::fromLatin1(arch_name(c.arch)));
    QString detail = tr("%1 layers · hidden %2 · %3 heads").arg(c.n_layers).arg(c.hidden).arg(c.n_heads);
    if (c.n_kv_heads != c.n_heads) detail += tr(" (%1 KV)").arg(c.n_kv_heads);
    detail += tr(" · vocab %1").arg(QLocale().toString(static_cast<qlonglong>(c.vocab)));
    architecture_detail_->setText(detail);
    architecture_detail_->setToolTip({});
  } else {
    architecture_->setText(tr("unknown"));
    architecture_detail_->setText(tr("The architecture could not be read; tensors are shown as stored."));
    architecture_detail_->setToolTip(model_->config_error);
  }
  const quint64 params = ck.parameter_count();
  parameters_->setText(format_count(params));
  parameters_->setToolTip(tr("%1 parameters").arg(QLocale().toString(static_cast<qulonglong>(params))));
  size_->setText(format_bytes(ck.file_bytes()));
  size_->setToolTip(tr("%1 bytes").arg(QLocale().toString(static_cast<qulonglong>(ck.file_bytes()))));
  format_->setText(format_kind(ck));
  dtypes_->setText(format_dtypes(ck));
  tokenizer_->setText(model_->tokenizer.isEmpty() ? tr("none") : model_->tokenizer);
}

void ModelPage::fit_table_width() {
  // Wide enough for every column's contents (up to a cap for very long names); the splitter gives
  // the rest of the page to the histogram.
  constexpr int kMaxWidth = 760;
  const QAbstractItemView* view = table_;  // QTableView hides the public sizeHintForColumn
  int width = 2 * table_->frameWidth() + table_->verticalScrollBar()->sizeHint().width() + 8;
  for (int c = 0; c < TensorTableModel::ColumnCount; ++c)
    width += std::max(view->sizeHintForColumn(c), table_->horizontalHeader()->sectionSizeHint(c));
  table_->setMinimumWidth(std::min(width, kMaxWidth));
}

void ModelPage::update_count_label() {
  const int total = tensor_model_->rowCount(), shown = proxy_->rowCount();
  const QLocale locale;
  count_->setText(shown == total ? tr("%1 tensors").arg(locale.toString(total))
                                 : tr("%1 of %2 tensors").arg(locale.toString(shown), locale.toString(total)));
}

bool ModelPage::select_tensor(const QString& name) {
  for (int row = 0; row < tensor_model_->rowCount(); ++row) {
    if (QString::fromStdString(tensor_model_->tensor_at(row)->name) != name) continue;
    QModelIndex index = proxy_->mapFromSource(tensor_model_->index(row, 0));
    if (!index.isValid()) {
      filter_->clear();
      index = proxy_->mapFromSource(tensor_model_->index(row, 0));
    }
    table_->setCurrentIndex(index);
    table_->scrollTo(index, QAbstractItemView::PositionAtCenter);
    return true;
  }
  return false;
}

QString ModelPage::representative_tensor() const {
  QString first_2d, first;
  for (int row = 0; row < proxy_->rowCount(); ++row) {
    const TensorInfo* t = tensor_model_->tensor_at(proxy_->mapToSource(proxy_->index(row, 0)).row());
    const QString name = QString::fromStdString(t->name);
    if (first.isEmpty()) first = name;
    if (t->shape.size() != 2) continue;
    if (first_2d.isEmpty()) first_2d = name;
    for (const char* block0 : {"layers.0.", "blk.0.", "h.0."})
      if (name.contains(QLatin1String(block0))) return name;
  }
  return first_2d.isEmpty() ? first : first_2d;
}

void ModelPage::on_current_changed(const QModelIndex& current) {
  const TensorInfo* t = current.isValid() ? tensor_model_->tensor_at(proxy_->mapToSource(current).row()) : nullptr;
  if (!t) return;
  const QString name = QString::fromStdString(t->name);
  histogram_title_->setText(name);
  histogram_title_->setToolTip(name);
  if (t->shape.size() != 2) {
    cancel_histograms();
    histogram_stats_->clear();
    plot_->show_placeholder(tr("Histograms are shown for 2-D weight tensors; this one is %1-D.").arg(t->shape.size()));
    emit histogram_shown(name);
    return;
  }
  start_histogram(*t);
}

void ModelPage::cancel_histograms() {
  if (histogram_cancel_) histogram_cancel_->cancel();
  histogram_cancel_.reset();
  ++histogram_generation_;  // whatever is still running is now stale
}

void ModelPage::start_histogram(const TensorInfo& tensor) {
  cancel_histograms();
  histogram_cancel_ = std::make_shared<CancelToken>();
  histogram_jobs_.removeIf([](const QFuture<HistogramResult>& f) { return f.isFinished(); });
  histogram_stats_->setText(tr("Reading %1…").arg(QString::fromStdString(tensor.name)));
  // The job keeps the checkpoint alive: `tensor.data` points into its mapping.
  auto job = [checkpoint = model_->checkpoint, cancel = histogram_cancel_, tensor, generation = histogram_generation_] {
    HistogramResult r;
    r.generation = generation;
    r.tensor = QString::fromStdString(tensor.name);
    Expected<HistogramData> h = make_error(ErrorCode::Format, "");
    try {
      h = tensor_histogram(tensor, kHistogramBins, kHistogramMaxElements, cancel.get());
    } catch (const std::exception& e) {  // a result, not an exception out of the job (it would abort in the slot)
      h = make_error(ErrorCode::Format, std::string("cannot read the tensor: ") + e.what());
    }
    if (h) {
      r.histogram = std::move(h).value();
    } else {
      r.cancelled = h.error().code == ErrorCode::Cancelled;
      r.error = QString::fromStdString(h.error().message);
    }
    return r;
  };
  QFuture<HistogramResult> future = QtConcurrent::run(std::move(job));
  histogram_jobs_.append(future);
  histogram_watcher_.setFuture(future);
}

void ModelPage::on_histogram_finished() {
  const HistogramResult r = histogram_watcher_.result();
  if (r.generation != histogram_generation_ || r.cancelled) return;
  if (!r.error.isEmpty()) {
    histogram_stats_->setText(r.error);
    plot_->show_placeholder(tr("No histogram for this tensor"));
  } else if (r.histogram.empty()) {
    histogram_stats_->clear();
    plot_->show_placeholder(tr("This tensor has no finite values"));
  } else {
    const HistogramData& h = r.histogram;
    plot_->set_histogram(h);
    QString stats = tr("mean %1 · std %2 · max |w| %3 · %4 values")
                        .arg(format_number(h.mean), format_number(h.stddev), format_number(h.abs_max),
                             QLocale().toString(static_cast<qulonglong>(h.total)));
    if (h.sampled())
      stats += tr(" (sampled %1 of %2 rows)").arg(QLocale().toString(static_cast<qlonglong>(h.rows_read)),
                                                 QLocale().toString(static_cast<qlonglong>(h.rows_total)));
    if (h.non_finite) stats += tr(" · %1 non-finite").arg(QLocale().toString(static_cast<qulonglong>(h.non_finite)));
    histogram_stats_->setText(stats);
  }
  emit histogram_shown(r.tensor);
}

}  // namespace lowbit
