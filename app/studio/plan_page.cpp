#include "app/studio/plan_page.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QEvent>
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
#include <QProgressBar>
#include <QPromise>
#include <QPushButton>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <cmath>

#include "app/backend/backend_device.h"
#include "app/studio/job_center.h"
#include "app/studio/job_support.h"
#include "app/studio/studio_paths.h"
#include "app/studio/studio_settings.h"
#include "core/io/mapped_file.h"
#include "core/model/model.h"
#include "widgets/views/budget_meter.h"
#include "widgets/views/format_delegate.h"
#include "widgets/views/layer_precision_model.h"

namespace lowbit {

namespace {

constexpr int kProgressSteps = 1000;
constexpr double kMiB = 1024.0 * 1024.0;
// The formats offered in the menu, and the ones checked by default (`lowbit plan`'s default menu).
const char* const kMenuFormats[] = {"q2_k", "q3_k", "q4_0", "q4_k", "q5_0", "q5_k", "q6_k", "q8_0", "f16"};
const char* const kDefaultFormats[] = {"q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q8_0"};
const char* const kLastCalibDirKey = "lastCalibrationDirectory";
const char* const kLastLayoutDirKey = "lastLayoutDirectory";

}  // namespace

PlanJobResult run_plan_job(const PlanJobInput& in, Progress* progress, const CancelToken* cancel) {
  PlanJobResult r;
  r.formats = in.plan.formats;
  QElapsedTimer clock;
  clock.start();
  auto failed = [&r](const Error& e) { return job_failed(r, e); };
  Progress none;
  Progress& p = progress ? *progress : none;
  auto loaded = open_and_load(in.model_path, p);
  if (!loaded) return failed(loaded.error());
  const Model& model = loaded->model;
  ModelWeights& weights = loaded->weights;
  if (cancel && cancel->cancelled()) return failed({ErrorCode::Cancelled, "cancelled"});
  auto windows = calibration_windows(*model.tokenizer, path_str(in.calib_path), in.calib);
  if (!windows) return failed(windows.error());
  // An impossible budget fails before the sensitivity pass, not after it.
  if (auto v = check_plan_feasible(model, weights, SensitivityKind::Kld, in.plan); !v) return failed(v.error());

  SensitivityOptions so;
  so.formats = in.plan.formats;
  so.embeddings = in.plan.embeddings;
  so.cache = in.cache;
  so.model_id = model.checkpoint->path().string();
  BackendDevice device;  // outlives the measurement that runs on it
  if (in.backend == QLatin1String("vulkan")) {
    std::vector<std::string> w;
    device.open(in.device, 0, w);
    for (const auto& s : w) r.warnings << qstr(s);
    so.kld_backend = device.kld();
    so.rtn_backend = device.rtn();
    so.error_backend = device.awq_grid();
  }
  Progress sens_progress = p.sub(0.05, 0.98);
  auto sens = measure_sensitivity(weights, *windows, in.calib.ctx, so, &sens_progress, cancel);
  if (!sens) return failed(sens.error());
  for (const auto& w : sens->warnings) r.warnings << qstr(w);
  p.report(0.98, "planning");
  auto plan = plan_layout(model, weights, *sens, in.plan);
  if (!plan) return failed(plan.error());
  uint64_t chosen = 0;
  for (const PlanRow& row : plan->rows) chosen += row.bytes;
  r.fixed_bytes = plan->file_bytes > chosen ? plan->file_bytes - chosen : 0;
  r.plan = std::move(*plan);
  r.sensitivity = std::move(*sens);
  r.seconds = static_cast<double>(clock.elapsed()) / 1e3;
  p.report(1.0, "done");
  return r;
}

PlanPage::PlanPage(JobCenter* jobs, QWidget* parent) : QWidget(parent), jobs_(jobs) {
  const QString cache_dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
  if (!cache_dir.isEmpty()) cache_file_ = QDir(cache_dir).filePath(QStringLiteral("sensitivity-cache.json"));
  build_ui();
  connect(&watcher_, &QFutureWatcher<PlanJobResult>::finished, this, &PlanPage::on_finished);
  connect(&watcher_, &QFutureWatcher<PlanJobResult>::progressValueChanged, progress_, &QProgressBar::setValue);
  connect(&watcher_, &QFutureWatcher<PlanJobResult>::progressTextChanged, status_, &QLabel::setText);
  connect(layer_model_, &LayerPrecisionModel::totals_changed, this, &PlanPage::on_totals_changed);
  update_controls();
}

PlanPage::~PlanPage() {
  if (busy()) jobs_->cancel(job_id_);
  watcher_.waitForFinished();
}

void PlanPage::build_ui() {
  budget_kind_ = new QComboBox(this);
  budget_kind_->addItem(QString());  // bits per weight (texts: retranslate())
  budget_kind_->addItem(QString());  // file size
  budget_value_ = new QDoubleSpinBox(this);
  budget_value_->setObjectName(QStringLiteral("budgetValue"));
  auto* budget_row = new QHBoxLayout;
  budget_row->addWidget(budget_kind_);
  budget_row->addWidget(budget_value_, 1);
  method_ = new QComboBox(this);
  for (QuantMethod m : {QuantMethod::Rtn, QuantMethod::Gptq, QuantMethod::Awq, QuantMethod::AwqGptq})
    method_->addItem(QString::fromLatin1(quant_method_name(m)), static_cast<int>(m));

  calib_file_ = new QLineEdit(this);
  browse_ = new QPushButton(this);
  connect(browse_, &QPushButton::clicked, this, &PlanPage::choose_calibration);
  auto* calib_row = new QHBoxLayout;
  calib_row->addWidget(calib_file_, 1);
  calib_row->addWidget(browse_);
  samples_ = new QSpinBox(this);
  samples_->setRange(1, 4096);
  samples_->setValue(16);
  ctx_ = new QSpinBox(this);
  ctx_->setRange(8, 32768);
  ctx_->setValue(256);
  seed_ = new QSpinBox(this);
  seed_->setRange(0, 1 << 30);
  auto* window_row = new QHBoxLayout;
  window_row->addWidget(samples_);
  windows_of_ = new QLabel(this);
  tokens_seed_ = new QLabel(this);
  window_row->addWidget(windows_of_);
  window_row->addWidget(ctx_);
  window_row->addWidget(tokens_seed_);
  window_row->addWidget(seed_);
  window_row->addStretch(1);

  budget_box_ = new QGroupBox(this);
  auto* settings = budget_box_;
  auto* form = new QFormLayout(settings);
  target_label_ = new QLabel(this);
  method_label_ = new QLabel(this);
  calib_label_ = new QLabel(this);
  samples_label_ = new QLabel(this);
  form->addRow(target_label_, budget_row);
  form->addRow(method_label_, method_);
  form->addRow(calib_label_, calib_row);
  form->addRow(samples_label_, window_row);

  formats_ = new QListWidget(this);
  formats_->setObjectName(QStringLiteral("formatMenu"));
  for (const char* f : kMenuFormats) {
    auto* item = new QListWidgetItem(QString::fromLatin1(f), formats_);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
    item->setCheckState(Qt::Unchecked);
  }
  set_formats({});
  formats_box_ = new QGroupBox(this);
  auto* menu_box = formats_box_;
  auto* menu_layout = new QVBoxLayout(menu_box);
  menu_layout->addWidget(formats_);
  formats_->setMaximumHeight(settings->sizeHint().height());

  auto* top = new QHBoxLayout;
  top->addWidget(settings, 3);
  top->addWidget(menu_box, 1);

  plan_button_ = new QPushButton(this);
  plan_button_->setDefault(true);
  cancel_button_ = new QPushButton(this);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, kProgressSteps);
  progress_->setTextVisible(false);
  progress_->setMaximumHeight(14);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  connect(plan_button_, &QPushButton::clicked, this, [this] { start_plan(); });
  connect(cancel_button_, &QPushButton::clicked, this, &PlanPage::cancel_plan);
  auto* run_row = new QHBoxLayout;
  run_row->addWidget(plan_button_);
  run_row->addWidget(cancel_button_);
  run_row->addWidget(progress_, 1);
  auto* run_col = new QVBoxLayout;
  run_col->addLayout(run_row);
  run_col->addWidget(status_);

  meter_ = new BudgetMeter(this);
  layer_model_ = new LayerPrecisionModel(this);
  auto* proxy = new QSortFilterProxyModel(this);
  proxy->setSourceModel(layer_model_);
  proxy->setSortRole(LayerPrecisionModel::SortRole);
  proxy->setDynamicSortFilter(false);  // an edited row stays where it is
  table_ = new QTableView(this);
  table_->setModel(proxy);
  table_->setItemDelegateForColumn(LayerPrecisionModel::FormatColumn, new FormatDelegate(table_));
  table_->setSortingEnabled(true);
  table_->sortByColumn(-1, Qt::AscendingOrder);  // the plan's order until a header is clicked
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::SelectedClicked |
                          QAbstractItemView::EditKeyPressed);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->horizontalHeader()->setSectionResizeMode(LayerPrecisionModel::TensorColumn, QHeaderView::Stretch);

  edits_ = new QLabel(this);
  save_button_ = new QPushButton(this);
  connect(save_button_, &QPushButton::clicked, this, &PlanPage::choose_save_path);
  auto* bottom = new QHBoxLayout;
  bottom->addWidget(edits_, 1);
  bottom->addWidget(save_button_);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(24, 18, 24, 18);
  layout->addLayout(top);
  layout->addLayout(run_col);
  layout->addWidget(meter_);
  layout->addWidget(table_, 1);
  layout->addLayout(bottom);

  connect(budget_kind_, &QComboBox::currentIndexChanged, this, &PlanPage::on_budget_kind_changed);
  retranslate();
  on_budget_kind_changed();
}

void PlanPage::retranslate() {
  budget_box_->setTitle(tr("Budget"));
  formats_box_->setTitle(tr("Formats"));
  target_label_->setText(tr("Target:"));
  method_label_->setText(tr("Method:"));
  calib_label_->setText(tr("Calibration:"));
  samples_label_->setText(tr("Samples:"));
  windows_of_->setText(tr("windows of"));
  tokens_seed_->setText(tr("tokens, seed"));
  budget_kind_->setItemText(0, tr("Bits per weight"));
  budget_kind_->setItemText(1, tr("File size"));
  if (!budget_value_->suffix().isEmpty()) budget_value_->setSuffix(tr(" MiB"));
  method_->setToolTip(tr("The method written into the layout, used when it is quantized; sensitivities are measured "
                         "with round-to-nearest"));
  calib_file_->setPlaceholderText(tr("a text file"));
  browse_->setText(tr("Browse…"));
  plan_button_->setText(tr("Plan"));
  cancel_button_->setText(tr("Cancel"));
  save_button_->setText(tr("Save Layout…"));
  layer_model_->retranslate();
  if (has_plan_) {
    const LayerTotals t = layer_model_->totals();
    on_totals_changed(t.bytes, t.kld, t.dnll);  // the meter's and the edits line's texts
  }
}

void PlanPage::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void PlanPage::on_budget_kind_changed() {
  const qint64 params = model_ ? static_cast<qint64>(model_->checkpoint->parameter_count()) : 0;
  const QSignalBlocker block(budget_value_);
  if (budget_kind_->currentIndex() == 0) {
    const double mib = budget_value_->suffix().isEmpty() ? 0 : budget_value_->value();
    budget_value_->setSuffix({});
    budget_value_->setDecimals(3);
    budget_value_->setRange(0.5, 32);
    budget_value_->setSingleStep(0.25);
    budget_value_->setValue(params > 0 && mib > 0 ? mib * kMiB * 8.0 / static_cast<double>(params) : 4.5);
  } else {
    const double bpw = budget_value_->suffix().isEmpty() ? budget_value_->value() : 4.5;
    budget_value_->setSuffix(tr(" MiB"));
    budget_value_->setDecimals(3);
    budget_value_->setRange(0.001, 1e7);
    budget_value_->setSingleStep(1);
    budget_value_->setValue(params > 0 ? bpw * static_cast<double>(params) / 8.0 / kMiB : 1.0);
  }
}

void PlanPage::set_model(std::shared_ptr<const OpenedModel> model) {
  if (busy()) jobs_->cancel(job_id_);  // its answer is for another model; on_finished drops it
  model_ = std::move(model);
  has_plan_ = false;
  result_ = {};
  layer_model_->set_rows({});
  meter_->clear();
  status_->clear();
  progress_->setValue(0);
  if (model_) {
    const QString calib = default_calibration_text(model_->path);
    if (!calib.isEmpty()) calib_file_->setText(QDir::toNativeSeparators(calib));
    if (model_->config && model_->config->max_positions > 0)
      ctx_->setValue(static_cast<int>(std::min<int64_t>(256, model_->config->max_positions)));
  }
  update_controls();
}

void PlanPage::set_budget_bpw(double bpw) {
  budget_kind_->setCurrentIndex(0);
  budget_value_->setValue(bpw);
}

void PlanPage::set_budget_bytes(quint64 bytes) {
  budget_kind_->setCurrentIndex(1);
  budget_value_->setValue(static_cast<double>(bytes) / kMiB);
}

void PlanPage::set_formats(const QStringList& formats) {
  QStringList wanted = formats;
  if (wanted.isEmpty())
    for (const char* f : kDefaultFormats) wanted << QString::fromLatin1(f);
  for (int i = 0; i < formats_->count(); ++i) {
    QListWidgetItem* item = formats_->item(i);
    item->setCheckState(wanted.contains(item->text()) ? Qt::Checked : Qt::Unchecked);
  }
}

QStringList PlanPage::checked_formats() const {
  QStringList out;
  for (int i = 0; i < formats_->count(); ++i)
    if (formats_->item(i)->checkState() == Qt::Checked) out << formats_->item(i)->text();
  return out;
}

void PlanPage::set_calibration(const QString& file, int samples, int ctx, int seed) {
  calib_file_->setText(QDir::toNativeSeparators(file));
  samples_->setValue(samples);
  ctx_->setValue(ctx);
  seed_->setValue(seed);
}

int PlanPage::calibration_samples() const { return samples_->value(); }
int PlanPage::calibration_ctx() const { return ctx_->value(); }
int PlanPage::calibration_seed() const { return seed_->value(); }

QString PlanPage::calibration_file() const { return QDir::fromNativeSeparators(calib_file_->text().trimmed()); }

bool PlanPage::start_plan() {
  if (busy()) return false;
  last_error_.clear();
  if (!model_) {
    fail(tr("Open a model first."));
    return false;
  }
  PlanJobInput in;
  in.model_path = model_->path;
  in.calib_path = calibration_file();
  for (const QString& name : checked_formats())
    if (auto f = Format::parse(name.toStdString())) in.plan.formats.push_back(*f);
  if (budget_kind_->currentIndex() == 0)
    in.plan.budget_bpw = budget_value_->value();
  else
    in.plan.budget_bytes = static_cast<uint64_t>(std::llround(budget_value_->value() * kMiB));
  in.plan.method = static_cast<QuantMethod>(method_->currentData().toInt());
  in.calib.samples = samples_->value();
  in.calib.ctx = ctx_->value();
  in.calib.seed = static_cast<uint64_t>(seed_->value());
  const StudioSettings settings = StudioSettings::load();
  in.backend = settings.backend;
  in.device = settings.device;
  if (!cache_file_.isEmpty()) {
    QDir().mkpath(QFileInfo(cache_file_).absolutePath());
    in.cache = path_str(cache_file_);
  }
  if (auto v = in.plan.validate(); !v) {
    fail(qstr(v.error().message));
    return false;
  }
  if (auto v = in.calib.validate(); !v) {
    fail(qstr(v.error().message));
    return false;
  }
  if (in.calib_path.isEmpty() || !QFileInfo(in.calib_path).isFile()) {
    fail(in.calib_path.isEmpty() ? tr("Choose a calibration text file.")
                                 : tr("The calibration file %1 does not exist.").arg(QDir::toNativeSeparators(in.calib_path)));
    return false;
  }

  running_ = in;
  cancelling_ = false;
  progress_->setValue(0);
  status_->setText(tr("Measuring sensitivities…"));
  watcher_.setFuture(jobs_->run<PlanJobResult>(tr("Plan %1").arg(model_->name), [in](Progress& progress, const CancelToken& cancel) {
    return run_plan_job(in, &progress, &cancel);
  }));
  job_id_ = jobs_->jobs().back().id;
  update_controls();
  return true;
}

void PlanPage::cancel_plan() {
  if (!busy()) return;
  jobs_->cancel(job_id_);
  cancelling_ = true;
  status_->setText(tr("Cancelling…"));
  cancel_button_->setEnabled(false);
}

void PlanPage::on_finished() {
  const PlanJobResult r = watcher_.future().resultCount() > 0 ? watcher_.result() : PlanJobResult{};
  const bool stale = !model_ || running_.model_path != model_->path;
  cancelling_ = false;
  update_controls();
  if (stale) {
    status_->clear();
    progress_->setValue(0);
    emit plan_finished(false);
    return;
  }
  if (r.cancelled) {
    status_->setText(tr("Cancelled."));
    progress_->setValue(0);
    last_error_ = tr("cancelled");
    emit plan_finished(false);
    return;
  }
  if (!r.error.isEmpty()) {
    progress_->setValue(0);
    fail(tr("Planning failed: %1").arg(r.error));
    emit plan_finished(false);
    return;
  }
  result_ = r;
  shown_ = running_;  // the settings of the plan shown, which a later plan that fails or is cancelled leaves as they are
  has_plan_ = true;
  meter_->set_budget(r.plan.budget_bytes, r.plan.parameters, std::exp(r.sensitivity.nll_ref));
  layer_model_->set_plan(r.plan, r.sensitivity, r.formats);  // announces the totals: the meter follows
  table_->resizeColumnsToContents();
  progress_->setValue(kProgressSteps);
  const QLocale locale;
  QString text = tr("Planned %1 tensors in %2 s (sensitivities: %3 measured, %4 cached).")
                     .arg(r.plan.rows.size())
                     .arg(locale.toString(r.seconds, 'f', 1))
                     .arg(r.sensitivity.measured)
                     .arg(r.sensitivity.cached);
  if (r.sensitivity.backend == "vulkan" && r.sensitivity.measured > 0) text += QLatin1Char(' ') + tr("Measured on the GPU (Vulkan).");
  for (const std::string& w : r.plan.warnings) text += QLatin1Char(' ') + tr("Warning: %1").arg(qstr(w));
  for (const QString& w : r.warnings) text += QLatin1Char(' ') + tr("Warning: %1").arg(w);
  status_->setText(text);
  update_controls();
  emit plan_finished(true);
}

void PlanPage::on_totals_changed(quint64 bytes, double /*kld*/, double dnll) {
  if (!has_plan_) return;
  meter_->set_totals(result_.fixed_bytes + bytes, dnll);
  const int edited = layer_model_->edited_count();
  edits_->setText(edited == 0 ? tr("The planner's layout.") : tr("%n tensor(s) edited since the plan.", nullptr, edited));
}

std::optional<Layout> PlanPage::current_layout() const {
  if (!has_plan_) return std::nullopt;
  Layout layout = result_.plan.layout;
  for (const auto& [name, format] : layer_model_->chosen_formats()) layout.tensors[name] = format;
  const LayerTotals t = layer_model_->totals();
  const double baseline = std::exp(result_.sensitivity.nll_ref);
  const quint64 file_bytes = result_.fixed_bytes + t.bytes;
  const int edited = layer_model_->edited_count();
  layout.predicted = {{"ppl", baseline * std::exp(t.dnll)},
                      {"ppl_text", ""},
                      {"ppl_unquantized", baseline},
                      {"file_bytes", file_bytes},
                      {"exact_size", result_.plan.exact_size && edited == 0},
                      {"bits_per_weight", 8.0 * static_cast<double>(file_bytes) / static_cast<double>(std::max<int64_t>(1, result_.plan.parameters))},
                      {"budget_bytes", result_.plan.budget_bytes},
                      {"kld_sum", t.kld},
                      {"dnll_sum", t.dnll},
                      {"edited_tensors", edited},
                      {"calibration",
                       {{"file", shown_.calib_path.toStdString()},
                        {"samples", shown_.calib.samples},
                        {"ctx", shown_.calib.ctx},
                        {"seed", shown_.calib.seed}}}};
  return layout;
}

ProjectPlan PlanPage::plan_settings() const {
  ProjectPlan p;
  if (budget_kind_->currentIndex() == 0) p.budget_bpw = budget_value_->value();
  else p.budget_bytes = static_cast<uint64_t>(std::llround(budget_value_->value() * kMiB));
  for (const QString& f : checked_formats()) p.formats.push_back(f.toStdString());
  p.method = quant_method_name(static_cast<QuantMethod>(method_->currentData().toInt()));
  return p;
}

void PlanPage::apply_plan_settings(const ProjectPlan& p) {
  if (p.budget_bpw) set_budget_bpw(*p.budget_bpw);
  else if (p.budget_bytes) set_budget_bytes(*p.budget_bytes);
  QStringList formats;
  for (const auto& f : p.formats) formats << QString::fromStdString(f);
  if (!formats.isEmpty()) set_formats(formats);
  if (auto m = quant_method_from_name(p.method)) method_->setCurrentIndex(method_->findData(static_cast<int>(*m)));
}

bool PlanPage::save_layout(const QString& path) {
  last_error_.clear();
  const std::optional<Layout> current = current_layout();
  if (!current) {
    last_error_ = tr("There is no plan to save.");
    return false;
  }
  const Layout& layout = *current;
  if (auto v = write_layout(layout, path_str(path)); !v) {
    last_error_ = qstr(v.error().message);
    status_->setText(tr("Could not save the layout: %1").arg(last_error_));
    return false;
  }
  status_->setText(tr("Saved the layout to %1.").arg(QDir::toNativeSeparators(path)));
  return true;
}

void PlanPage::choose_calibration() {
  QSettings settings;
  const QString start = calibration_file().isEmpty() ? settings.value(kLastCalibDirKey).toString() : QFileInfo(calibration_file()).absolutePath();
  const QString path = QFileDialog::getOpenFileName(this, tr("Calibration Text"), start, tr("Text files (*.txt);;All files (*)"));
  if (path.isEmpty()) return;
  settings.setValue(kLastCalibDirKey, QFileInfo(path).absolutePath());
  calib_file_->setText(QDir::toNativeSeparators(path));
}

void PlanPage::choose_save_path() {
  QSettings settings;
  const QString name = model_ ? model_->name + QStringLiteral(".layout.json") : QStringLiteral("layout.json");
  const QString path = QFileDialog::getSaveFileName(this, tr("Save Layout"), QDir(settings.value(kLastLayoutDirKey).toString()).filePath(name),
                                                    tr("Layouts (*.json);;All files (*)"));
  if (path.isEmpty()) return;
  settings.setValue(kLastLayoutDirKey, QFileInfo(path).absolutePath());
  save_layout(path);
}

void PlanPage::update_controls() {
  const bool running = busy();
  plan_button_->setEnabled(model_ && !running);
  cancel_button_->setEnabled(running && !cancelling_);
  save_button_->setEnabled(has_plan_ && !running);
  progress_->setVisible(running || progress_->value() > 0);
  table_->setEnabled(!running);
  if (!has_plan_) edits_->clear();
}

void PlanPage::fail(const QString& message) {
  last_error_ = message;
  status_->setText(message);
}

}  // namespace lowbit
