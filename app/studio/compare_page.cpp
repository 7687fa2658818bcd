#include "app/studio/compare_page.h"

#include <QDir>
#include <QElapsedTimer>
#include <QEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include "app/backend/backend_device.h"
#include "app/studio/job_center.h"
#include "app/studio/job_support.h"
#include "app/studio/studio_paths.h"
#include "app/studio/studio_settings.h"
#include "core/calib/calibration.h"
#include "core/io/mapped_file.h"
#include "core/model/model.h"
#include "widgets/plots/comparison_chart.h"

namespace lowbit {

namespace {

const char* const kUniformMenu[] = {"q2_k", "q3_k", "q4_0", "q4_k", "q5_k", "q6_k", "q8_0"};
enum Column { kName, kMethod, kBytes, kBpw, kPpl, kPredicted, kKld, kTop1, kSeconds, kColumns };

}  // namespace

CompareJobResult run_compare_job(const CompareJobInput& in, Progress& progress, const CancelToken& cancel) {
  CompareJobResult r;
  QElapsedTimer clock;
  clock.start();
  auto failed = [&r](const Error& e) { return job_failed(r, e); };
  auto loaded = open_and_load(in.model_path, progress);
  if (!loaded) return failed(loaded.error());
  const Model& model = loaded->model;
  std::vector<CompareCandidate> candidates = in.candidates;
  for (const CompareCandidate& c : candidates)
    if (auto v = c.layout.validate(loaded->weights); !v) return failed({v.error().code, c.name + ": " + v.error().message});
  for (const Format& f : in.uniform)
    candidates.push_back({f.name(), Layout::uniform(loaded->weights, f, QuantMethod::Rtn, false)});
  if (candidates.empty()) return failed({ErrorCode::InvalidArgument, "nothing to compare"});

  auto ids = tokenize_file(*model.tokenizer, path_str(in.text_path));
  if (!ids) return failed(ids.error());
  std::vector<int32_t> windows;
  if (compare_needs_calibration(candidates)) {
    auto w = calibration_windows(*model.tokenizer, path_str(in.calib_path), in.options.calib);
    if (!w) return failed(w.error());
    windows = std::move(*w);
  }
  // The candidates' quantization and evaluations on the Settings' backend: a Vulkan device opened in
  // the job (it outlives the engines compare_layouts makes on it), else the CPU with a warning.
  CompareOptions options = in.options;
  BackendDevice device;
  if (in.backend == QLatin1String("vulkan")) {
    std::vector<std::string> w;
    device.open(in.device, 0, w);
    for (const auto& s : w) r.warnings << qstr(s);
    options.forward = device.forward();
    options.quantize = device.quantize();
  }
  Progress run = progress.sub(0.05, 1.0);
  auto rows = compare_layouts(model, loaded->weights, candidates, *ids, windows, options, &run, &cancel);
  if (!rows) return failed(rows.error());
  r.rows = std::move(*rows);
  r.backend = r.rows.empty() ? QStringLiteral("cpu") : qstr(r.rows.front().backend);
  for (const CompareRow& row : r.rows)
    for (const std::string& w : row.warnings) r.warnings << qstr(row.name + ": " + w);
  r.seconds = static_cast<double>(clock.elapsed()) / 1e3;
  return r;
}

ComparePage::ComparePage(JobCenter* jobs, QWidget* parent) : QWidget(parent), jobs_(jobs) {
  build_ui();
  connect(&watcher_, &QFutureWatcher<CompareJobResult>::finished, this, &ComparePage::on_finished);
}

ComparePage::~ComparePage() { watcher_.waitForFinished(); }

void ComparePage::build_ui() {
  candidates_ = new QListWidget(this);
  candidates_->setObjectName(QStringLiteral("compareCandidates"));
  add_plan_button_ = new QPushButton(this);
  add_file_button_ = new QPushButton(this);
  remove_button_ = new QPushButton(this);
  connect(add_plan_button_, &QPushButton::clicked, this, [this] { add_plan(); });
  connect(add_file_button_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Add a Layout"), QString(), tr("Layouts (*.json)"));
    if (!path.isEmpty()) add_layout_file(path);
  });
  connect(remove_button_, &QPushButton::clicked, this, [this] {
    const int row = candidates_->currentRow();
    if (row < 0 || row >= static_cast<int>(layouts_.size())) return;
    layouts_.erase(layouts_.begin() + row);
    delete candidates_->takeItem(row);
  });
  auto* cand_buttons = new QHBoxLayout;
  cand_buttons->addWidget(add_plan_button_);
  cand_buttons->addWidget(add_file_button_);
  cand_buttons->addWidget(remove_button_);
  cand_buttons->addStretch(1);
  candidates_box_ = new QGroupBox(this);
  auto* cand_box = candidates_box_;
  auto* cand_layout = new QVBoxLayout(cand_box);
  cand_layout->addWidget(candidates_);
  cand_layout->addLayout(cand_buttons);

  uniform_ = new QListWidget(this);
  uniform_->setObjectName(QStringLiteral("compareUniform"));
  for (const char* f : kUniformMenu) {
    auto* item = new QListWidgetItem(QString::fromLatin1(f), uniform_);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
    item->setCheckState(Qt::Unchecked);
  }
  uniform_box_ = new QGroupBox(this);
  auto* uniform_box = uniform_box_;
  auto* uniform_layout = new QVBoxLayout(uniform_box);
  uniform_layout->addWidget(uniform_);

  text_file_ = new QLineEdit(this);
  browse_ = new QPushButton(this);
  connect(browse_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Evaluation Text"), QString(), tr("Text files (*.txt);;All files (*)"));
    if (!path.isEmpty()) text_file_->setText(QDir::toNativeSeparators(path));
  });
  ctx_ = new QSpinBox(this);
  ctx_->setRange(8, 32768);
  ctx_->setValue(256);
  max_windows_ = new QSpinBox(this);
  max_windows_->setRange(0, 1000000);
  auto* text_row = new QHBoxLayout;
  text_row->addWidget(text_file_, 1);
  text_row->addWidget(browse_);
  evaluation_box_ = new QGroupBox(this);
  auto* eval_box = evaluation_box_;
  auto* form = new QFormLayout(eval_box);
  text_label_ = new QLabel(this);
  ctx_label_ = new QLabel(this);
  windows_label_ = new QLabel(this);
  form->addRow(text_label_, text_row);
  form->addRow(ctx_label_, ctx_);
  form->addRow(windows_label_, max_windows_);

  auto* top = new QHBoxLayout;
  top->addWidget(cand_box, 2);
  top->addWidget(uniform_box, 1);
  top->addWidget(eval_box, 2);

  run_button_ = new QPushButton(this);
  run_button_->setDefault(true);
  connect(run_button_, &QPushButton::clicked, this, [this] { start_compare(); });
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  auto* run_row = new QHBoxLayout;
  run_row->addWidget(run_button_);
  run_row->addWidget(status_, 1);

  table_ = new QTableWidget(0, kColumns, this);
  table_->setObjectName(QStringLiteral("compareTable"));
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSortingEnabled(true);
  table_->horizontalHeader()->setSectionResizeMode(kName, QHeaderView::Stretch);

  chart_ = new ComparisonChart(this);  // size against perplexity, beside the table
  chart_->setObjectName(QStringLiteral("compareChart"));
  chart_->setMinimumWidth(320);
  auto* results = new QSplitter(Qt::Horizontal, this);
  results->addWidget(table_);
  results->addWidget(chart_);
  results->setStretchFactor(0, 3);
  results->setStretchFactor(1, 2);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(24, 18, 24, 18);
  layout->addLayout(top);
  layout->addLayout(run_row);
  layout->addWidget(results, 1);
  retranslate();
}

void ComparePage::retranslate() {
  candidates_box_->setTitle(tr("Layouts"));
  uniform_box_->setTitle(tr("Uniform formats (RTN)"));
  evaluation_box_->setTitle(tr("Evaluation"));
  add_plan_button_->setText(tr("Add Current Plan"));
  add_file_button_->setText(tr("Add Layout File…"));
  remove_button_->setText(tr("Remove"));
  text_file_->setPlaceholderText(tr("a text file"));
  browse_->setText(tr("Browse…"));
  max_windows_->setSpecialValueText(tr("all"));
  text_label_->setText(tr("Text:"));
  ctx_label_->setText(tr("Context:"));
  windows_label_->setText(tr("Windows:"));
  run_button_->setText(tr("Compare"));
  table_->setHorizontalHeaderLabels({tr("Layout"), tr("Method"), tr("Bytes"), tr("Bits/weight"), tr("Perplexity"),
                                     tr("Predicted"), tr("KLD"), tr("Top-1"), tr("Time (s)")});
}

void ComparePage::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) {
    retranslate();
    show_rows();  // "—" for unknown sizes
  }
  QWidget::changeEvent(event);
}

void ComparePage::set_model(std::shared_ptr<const OpenedModel> model) {
  if (busy()) jobs_->cancel(job_id_);  // the comparison of the model before: its rows would not be this one's
  ++generation_;
  model_ = std::move(model);
  layouts_.clear();
  candidates_->clear();
  rows_.clear();
  show_rows();
  status_->clear();
  if (model_) {
    const QString text = default_calibration_text(model_->path);
    if (!text.isEmpty()) text_file_->setText(QDir::toNativeSeparators(text));
    if (model_->config && model_->config->max_positions > 0)
      ctx_->setValue(static_cast<int>(std::min<int64_t>(256, model_->config->max_positions)));
  }
  run_button_->setEnabled(model_ != nullptr && !busy());
}

bool ComparePage::add_plan() {
  std::optional<Layout> plan = plan_source_ ? plan_source_() : std::nullopt;
  if (!plan) {
    fail(tr("There is no plan yet: plan a layout on the Budget and plan page first."));
    return false;
  }
  int n = 1;
  for (const CompareCandidate& c : layouts_) n += c.name.rfind("plan", 0) == 0 ? 1 : 0;
  const std::string name = "plan " + std::to_string(n);
  layouts_.push_back({name, std::move(*plan)});
  candidates_->addItem(qstr(name));
  return true;
}

bool ComparePage::add_layout_file(const QString& path) {
  auto layout = read_layout(path_str(path));
  if (!layout) {
    fail(qstr(layout.error().message));
    return false;
  }
  layouts_.push_back({path_str(QFileInfo(path).fileName()), std::move(*layout)});
  candidates_->addItem(QFileInfo(path).fileName());
  candidates_->item(candidates_->count() - 1)->setToolTip(QDir::toNativeSeparators(path));
  return true;
}

void ComparePage::add_layout(const std::string& name, Layout layout) {
  layouts_.push_back({name, std::move(layout)});
  candidates_->addItem(qstr(name));
}

void ComparePage::set_rows(std::vector<CompareRow> rows) {
  rows_ = std::move(rows);
  show_rows();
}

QString ComparePage::evaluation_text() const { return QDir::fromNativeSeparators(text_file_->text().trimmed()); }
int ComparePage::evaluation_ctx() const { return ctx_->value(); }

void ComparePage::set_uniform_formats(const QStringList& formats) {
  for (int i = 0; i < uniform_->count(); ++i)
    uniform_->item(i)->setCheckState(formats.contains(uniform_->item(i)->text()) ? Qt::Checked : Qt::Unchecked);
}

int ComparePage::candidate_count() const {
  int n = static_cast<int>(layouts_.size());
  for (int i = 0; i < uniform_->count(); ++i) n += uniform_->item(i)->checkState() == Qt::Checked ? 1 : 0;
  return n;
}

void ComparePage::set_evaluation(const QString& text_file, int ctx, int max_windows) {
  text_file_->setText(QDir::toNativeSeparators(text_file));
  ctx_->setValue(ctx);
  max_windows_->setValue(max_windows);
}

bool ComparePage::start_compare() {
  if (busy()) {
    fail(tr("A comparison is already running."));
    return false;
  }
  last_error_.clear();
  if (!model_) {
    fail(tr("Open a model first."));
    return false;
  }
  if (candidate_count() == 0) {
    fail(tr("Add a layout or check a uniform format to compare."));
    return false;
  }
  CompareJobInput in;
  in.model_path = model_->path;
  in.candidates = layouts_;
  for (int i = 0; i < uniform_->count(); ++i)
    if (uniform_->item(i)->checkState() == Qt::Checked)
      if (auto f = Format::parse(uniform_->item(i)->text().toStdString())) in.uniform.push_back(*f);
  in.text_path = QDir::fromNativeSeparators(text_file_->text().trimmed());
  if (in.text_path.isEmpty() || !QFileInfo(in.text_path).isFile()) {
    fail(in.text_path.isEmpty() ? tr("Choose an evaluation text file.")
                                : tr("The evaluation file %1 does not exist.").arg(QDir::toNativeSeparators(in.text_path)));
    return false;
  }
  in.calib_path = default_calibration_text(model_->path);
  const StudioSettings settings = StudioSettings::load();
  in.backend = settings.backend;
  in.device = settings.device;
  in.options.ppl.ctx = ctx_->value();
  in.options.ppl.max_windows = max_windows_->value();
  // Layouts from the planner carry their calibration settings; GPTQ/AWQ candidates use them.
  for (const CompareCandidate& c : in.candidates)
    if (c.layout.predicted.is_object() && c.layout.predicted.contains("calibration")) {
      const auto& cal = c.layout.predicted["calibration"];
      if (cal.contains("file") && cal["file"].is_string()) in.calib_path = qstr(cal["file"].get<std::string>());
      if (cal.contains("samples") && cal["samples"].is_number_integer()) in.options.calib.samples = cal["samples"].get<int64_t>();
      if (cal.contains("ctx") && cal["ctx"].is_number_integer()) in.options.calib.ctx = cal["ctx"].get<int64_t>();
      break;
    }
  if (auto v = in.options.validate(); !v) {
    fail(qstr(v.error().message));
    return false;
  }
  running_generation_ = generation_;
  status_->setText(tr("Comparing %n layout(s)…", nullptr, candidate_count()));
  run_button_->setEnabled(false);
  watcher_.setFuture(jobs_->run<CompareJobResult>(
      tr("Compare %1").arg(model_->name),
      [in](Progress& p, const CancelToken& c) { return run_compare_job(in, p, c); }));
  job_id_ = jobs_->jobs().back().id;
  return true;
}

void ComparePage::on_finished() {
  const CompareJobResult r = watcher_.future().resultCount() > 0 ? watcher_.result() : CompareJobResult{};
  run_button_->setEnabled(model_ != nullptr);
  if (!model_ || running_generation_ != generation_) {  // a model opened (or reopened) since it started
    emit compare_finished(false);
    return;
  }
  if (r.cancelled) {
    last_error_ = tr("cancelled");
    status_->setText(tr("Cancelled."));
    emit compare_finished(false);
    return;
  }
  if (!r.error.isEmpty()) {
    fail(tr("Compare failed: %1").arg(r.error));
    emit compare_finished(false);
    return;
  }
  rows_ = r.rows;
  show_rows();
  status_->setText(tr("Compared %n layout(s) in %1 s on %2.", nullptr, static_cast<int>(rows_.size()))
                       .arg(QLocale().toString(r.seconds, 'f', 1), r.backend));
  emit compare_finished(true);
}

void ComparePage::show_rows() {
  table_->setSortingEnabled(false);
  table_->setRowCount(static_cast<int>(rows_.size()));
  const QLocale locale;
  auto number = [](double v) {
    auto* item = new QTableWidgetItem;
    item->setData(Qt::DisplayRole, v);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
  };
  for (int i = 0; i < static_cast<int>(rows_.size()); ++i) {
    const CompareRow& r = rows_[static_cast<size_t>(i)];
    table_->setItem(i, kName, new QTableWidgetItem(qstr(r.name)));
    table_->setItem(i, kMethod, new QTableWidgetItem(QString::fromLatin1(quant_method_name(r.method))));
    if (r.file_bytes) {  // a whole number (a double would show as 3.62822e+06), sorted as one
      auto* bytes = new QTableWidgetItem;
      bytes->setData(Qt::DisplayRole, static_cast<qulonglong>(*r.file_bytes));
      bytes->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      table_->setItem(i, kBytes, bytes);
    } else {
      table_->setItem(i, kBytes, new QTableWidgetItem(tr("—")));
    }
    table_->setItem(i, kBpw, number(std::round(r.bits_per_weight * 1000) / 1000));
    table_->setItem(i, kPpl, number(std::round(r.ppl * 10000) / 10000));
    table_->setItem(i, kPredicted, r.predicted_ppl ? number(std::round(*r.predicted_ppl * 10000) / 10000) : new QTableWidgetItem);
    table_->setItem(i, kKld, r.kld ? number(r.kld->mean) : new QTableWidgetItem);
    table_->setItem(i, kTop1, r.kld ? new QTableWidgetItem(locale.toString(100.0 * r.kld->top1_agreement, 'f', 2) + QLatin1Char('%'))
                                    : new QTableWidgetItem);
    table_->setItem(i, kSeconds, number(std::round(r.seconds * 10) / 10));
  }
  table_->setSortingEnabled(true);
  table_->resizeColumnsToContents();
  chart_->set_comparison(comparison_data(rows_, tr("Size against perplexity").toStdString()));
  if (chart_->uniform_count() + chart_->plan_count() == 0)
    chart_->show_placeholder(rows_.empty() ? tr("Compare layouts to see their size against their perplexity")
                                           : tr("No compared layout has a GGUF size to chart"));
}

void ComparePage::fail(const QString& message) {
  last_error_ = message;
  status_->setText(message);
}

}  // namespace lowbit
