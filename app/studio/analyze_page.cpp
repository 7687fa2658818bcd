#include "app/studio/analyze_page.h"

#include <QCheckBox>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardPaths>
#include <QVBoxLayout>
#include <algorithm>
#include <filesystem>

#include "app/backend/backend_device.h"
#include "app/studio/job_center.h"
#include "app/studio/job_support.h"
#include "app/studio/studio_paths.h"
#include "app/studio/studio_settings.h"

namespace lowbit {

namespace {

constexpr ViewKind kViewOrder[] = {ViewKind::Hessian, ViewKind::ScaleHessian, ViewKind::Landscape, ViewKind::Awq,
                                   ViewKind::Outliers};

// The Settings' backend for the calibration walk: a device opened for the job (kept by `device`,
// which must outlive it), or the CPU with a warning; the Hessian and AWQ views walk there too.
BlockHooks walk_hooks(const AnalyzeJobInput& in, BackendDevice& device, QStringList& warnings) {
  BlockHooks hooks;
  if (in.backend != QLatin1String("vulkan")) return hooks;
  std::vector<std::string> w;
  device.open(in.device, 0, w);
  for (const auto& s : w) warnings << qstr(s);
  hooks.walker = device.block_walker();
  return hooks;
}

}  // namespace

AnalyzeJobResult run_analyze_job(const AnalyzeJobInput& in, Progress& progress, const CancelToken& cancel) {
  AnalyzeJobResult r;
  QElapsedTimer clock;
  clock.start();
  auto failed = [&r](const Error& e) { return job_failed(r, e); };
  auto loaded = open_and_load(in.model_path, progress);
  if (!loaded) return failed(loaded.error());
  auto windows = calibration_windows(*loaded->model.tokenizer, path_str(in.calib_path), in.calib);
  if (!windows) return failed(windows.error());
  AnalyzeInfo info;
  info.model = path_str(in.model_path);
  info.text = path_str(in.calib_path);
  info.calib = in.calib;
  Progress work = progress.sub(0.05, 0.99);
  BackendDevice device;
  const BlockHooks hooks = walk_hooks(in, device, r.warnings);
  ViewsOptions options = in.views;
  options.awq.backend = device.awq_grid();  // empty on the CPU
  options.awq.clip_backend = device.awq_clip();
  options.scale_runner = device.scale_loss();
  auto done = analyze_views_to_folder(loaded->weights, *windows, info, options, path_str(in.out_dir), &work, &cancel, hooks);
  if (!done) return failed(done.error());
  auto views = ViewsFile::open(path_str(in.out_dir));
  if (!views) return failed(views.error());
  r.views = std::make_shared<const ViewsFile>(std::move(*views));
  r.dir = in.out_dir;
  r.seconds = static_cast<double>(clock.elapsed()) / 1e3;
  return r;
}

AnalyzeEstimateResult run_analyze_estimate(const AnalyzeJobInput& in, Progress& progress, const CancelToken& cancel) {
  AnalyzeEstimateResult r;
  QElapsedTimer clock;
  clock.start();
  auto failed = [&r](const Error& e) { return job_failed(r, e); };
  Progress none;
  auto loaded = open_and_load(in.model_path, none);
  if (!loaded) return failed(loaded.error());
  auto windows = calibration_windows(*loaded->model.tokenizer, path_str(in.calib_path), in.calib);
  if (!windows) return failed(windows.error());
  const double load_seconds = static_cast<double>(clock.elapsed()) / 1e3;
  AnalyzeInfo info;
  info.model = path_str(in.model_path);
  info.text = path_str(in.calib_path);
  info.calib = in.calib;
  ProgressProbe probe(0.1, &cancel);
  Progress p = probe.progress(&progress);
  BackendDevice device;
  const BlockHooks hooks = walk_hooks(in, device, r.warnings);
  auto done = analyze_views_to_folder(loaded->weights, *windows, info, in.views, path_str(in.out_dir), &p, probe.cancel(), hooks);
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path(path_str(in.out_dir)), ec);  // a probe that ran to the end wrote it
  auto e = probe.finish(done ? std::nullopt : std::optional<Error>(done.error()), load_seconds);
  if (!e) return failed(e.error());
  e->blocks = static_cast<int64_t>(loaded->weights.blocks.size());
  e->bytes = analysis_stats_bytes(loaded->weights.config);
  r.estimate = *e;
  r.seconds = static_cast<double>(clock.elapsed()) / 1e3;
  return r;
}

AnalyzePage::AnalyzePage(JobCenter* jobs, QWidget* parent) : QWidget(parent), jobs_(jobs) {
  const QString cache = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
  if (!cache.isEmpty()) output_root_ = QDir(cache).filePath(QStringLiteral("analyses"));
  build_ui();
  connect(&watcher_, &QFutureWatcher<AnalyzeJobResult>::finished, this, &AnalyzePage::on_finished);
  connect(&estimate_watcher_, &QFutureWatcher<AnalyzeEstimateResult>::finished, this, &AnalyzePage::on_estimated);
}

AnalyzePage::~AnalyzePage() {
  if (busy()) jobs_->cancel(job_id_);
  watcher_.waitForFinished();
  estimate_watcher_.waitForFinished();
}

void AnalyzePage::build_ui() {
  calib_file_ = new QLineEdit(this);
  browse_ = new QPushButton(this);
  connect(browse_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Calibration Text"), QFileInfo(calibration_file()).absolutePath(),
                                                      tr("Text files (*.txt);;All files (*)"));
    if (!path.isEmpty()) calib_file_->setText(QDir::toNativeSeparators(path));
  });
  auto* file_row = new QHBoxLayout;
  file_row->addWidget(calib_file_, 1);
  file_row->addWidget(browse_);
  samples_ = new QSpinBox(this);
  samples_->setRange(1, 100000);
  samples_->setValue(32);
  ctx_ = new QSpinBox(this);
  ctx_->setRange(8, 32768);
  ctx_->setValue(256);
  seed_ = new QSpinBox(this);
  seed_->setRange(0, 1 << 30);
  file_label_ = new QLabel(this);
  samples_label_ = new QLabel(this);
  ctx_label_ = new QLabel(this);
  seed_label_ = new QLabel(this);
  calib_box_ = new QGroupBox(this);
  auto* form = new QFormLayout(calib_box_);
  form->addRow(file_label_, file_row);
  form->addRow(samples_label_, samples_);
  form->addRow(ctx_label_, ctx_);
  form->addRow(seed_label_, seed_);

  views_box_ = new QGroupBox(this);
  auto* views_layout = new QVBoxLayout(views_box_);
  for (size_t i = 0; i < std::size(kViewOrder); ++i) {
    view_checks_[i] = new QCheckBox(this);
    view_checks_[i]->setChecked(true);
    views_layout->addWidget(view_checks_[i]);
  }
  points_ = new QSpinBox(this);
  points_->setRange(3, 41);
  points_->setValue(11);
  points_label_ = new QLabel(this);
  auto* points_row = new QHBoxLayout;
  points_row->addWidget(points_label_);
  points_row->addWidget(points_);
  points_row->addStretch(1);
  views_layout->addLayout(points_row);
  views_layout->addStretch(1);

  auto* top = new QHBoxLayout;
  top->addWidget(calib_box_, 3);
  top->addWidget(views_box_, 2);

  run_button_ = new QPushButton(this);
  run_button_->setDefault(true);
  connect(run_button_, &QPushButton::clicked, this, [this] { start_analyze(); });
  estimate_button_ = new QPushButton(this);
  connect(estimate_button_, &QPushButton::clicked, this, [this] { start_estimate(); });
  cancel_button_ = new QPushButton(this);
  connect(cancel_button_, &QPushButton::clicked, this, &AnalyzePage::cancel_analyze);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  auto* run_row = new QHBoxLayout;
  run_row->addWidget(run_button_);
  run_row->addWidget(estimate_button_);
  run_row->addWidget(cancel_button_);
  run_row->addWidget(status_, 1);

  summary_ = new QPlainTextEdit(this);
  summary_->setObjectName(QStringLiteral("analysisSummary"));
  summary_->setReadOnly(true);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(24, 18, 24, 18);
  layout->addLayout(top);
  layout->addLayout(run_row);
  layout->addWidget(summary_, 1);
  retranslate();
  update_controls();
}

void AnalyzePage::retranslate() {
  calib_box_->setTitle(tr("Calibration"));
  views_box_->setTitle(tr("Views"));
  file_label_->setText(tr("Text:"));
  samples_label_->setText(tr("Samples:"));
  ctx_label_->setText(tr("Context:"));
  seed_label_->setText(tr("Seed:"));
  calib_file_->setPlaceholderText(tr("a text file"));
  browse_->setText(tr("Browse…"));
  view_checks_[0]->setText(tr("Hessians at full precision and at 2, 3 and 4 bits"));
  view_checks_[1]->setText(tr("Scale Hessian (blocks × blocks)"));
  view_checks_[2]->setText(tr("Scale-loss landscape of two blocks"));
  view_checks_[3]->setText(tr("AWQ α and clip-ratio curves"));
  view_checks_[4]->setText(tr("Weight and activation outliers"));
  points_label_->setText(tr("Landscape points per axis:"));
  run_button_->setText(tr("Analyze"));
  estimate_button_->setText(tr("Estimate"));
  estimate_button_->setToolTip(tr("The time, peak memory and statistics' size of the analysis, from a run stopped at a tenth; nothing is kept"));
  cancel_button_->setText(tr("Cancel"));
  show_summary();
}

void AnalyzePage::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void AnalyzePage::set_model(std::shared_ptr<const OpenedModel> model) {
  if (busy()) jobs_->cancel(job_id_);  // its answer is for another model; on_finished drops it
  model_ = std::move(model);
  views_.reset();
  views_dir_.clear();
  status_->clear();
  if (model_) {
    const QString calib = default_calibration_text(model_->path);
    if (!calib.isEmpty()) calib_file_->setText(QDir::toNativeSeparators(calib));
    if (model_->config && model_->config->max_positions > 0)
      ctx_->setValue(static_cast<int>(std::min<int64_t>(256, model_->config->max_positions)));
  }
  show_summary();
  update_controls();
  emit views_changed(nullptr);
}

void AnalyzePage::set_calibration(const QString& file, int samples, int ctx, int seed) {
  calib_file_->setText(QDir::toNativeSeparators(file));
  samples_->setValue(samples);
  ctx_->setValue(ctx);
  seed_->setValue(seed);
}

QString AnalyzePage::calibration_file() const { return QDir::fromNativeSeparators(calib_file_->text().trimmed()); }
int AnalyzePage::calibration_samples() const { return samples_->value(); }
int AnalyzePage::calibration_ctx() const { return ctx_->value(); }

void AnalyzePage::set_view_kinds(const std::set<ViewKind>& kinds) {
  for (size_t i = 0; i < std::size(kViewOrder); ++i) view_checks_[i]->setChecked(kinds.contains(kViewOrder[i]));
}

std::set<ViewKind> AnalyzePage::view_kinds() const {
  std::set<ViewKind> out;
  for (size_t i = 0; i < std::size(kViewOrder); ++i)
    if (view_checks_[i]->isChecked()) out.insert(kViewOrder[i]);
  return out;
}

void AnalyzePage::set_landscape_points(int points) { points_->setValue(points); }

std::optional<AnalyzeJobInput> AnalyzePage::job_input() {
  last_error_.clear();
  if (!model_) {
    fail(tr("Open a model first."));
    return std::nullopt;
  }
  if (busy()) {
    fail(tr("An analysis is already running."));
    return std::nullopt;
  }
  AnalyzeJobInput in;
  in.model_path = model_->path;
  in.calib_path = calibration_file();
  in.calib.samples = samples_->value();
  in.calib.ctx = ctx_->value();
  in.calib.seed = static_cast<uint64_t>(seed_->value());
  in.views.views = view_kinds();
  in.views.landscape_points = points_->value();
  const StudioSettings settings = StudioSettings::load();
  in.backend = settings.backend;
  in.device = settings.device;
  if (in.views.views.empty()) {
    fail(tr("Choose at least one view."));
    return std::nullopt;
  }
  if (in.calib_path.isEmpty() || !QFileInfo(in.calib_path).isFile()) {
    fail(in.calib_path.isEmpty() ? tr("Choose a calibration text file.")
                                 : tr("The calibration file %1 does not exist.").arg(QDir::toNativeSeparators(in.calib_path)));
    return std::nullopt;
  }
  if (auto v = in.calib.validate(); !v) {
    fail(qstr(v.error().message));
    return std::nullopt;
  }
  if (auto v = in.views.validate(); !v) {
    fail(qstr(v.error().message));
    return std::nullopt;
  }
  if (output_root_.isEmpty() || !QDir().mkpath(output_root_)) {
    fail(tr("Cannot create the folder for analyses %1.").arg(QDir::toNativeSeparators(output_root_)));
    return std::nullopt;
  }
  // A fresh folder per run: results of earlier runs stay valid for projects that point at them.
  const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss-zzz"));
  in.out_dir = QDir(output_root_).filePath(model_->name + QLatin1Char('-') + stamp);
  return in;
}

bool AnalyzePage::start_analyze() {
  const auto in = job_input();
  if (!in) return false;
  running_model_ = model_->path;
  QFuture<AnalyzeJobResult> future = jobs_->run<AnalyzeJobResult>(
      tr("Analyze %1").arg(model_->name),
      [in = *in](Progress& progress, const CancelToken& cancel) { return run_analyze_job(in, progress, cancel); });
  job_id_ = jobs_->jobs().back().id;
  watcher_.setFuture(future);
  status_->setText(tr("Analyzing %1 calibration windows of %2 tokens…").arg(in->calib.samples).arg(in->calib.ctx));
  update_controls();
  return true;
}

bool AnalyzePage::start_estimate() {
  auto in = job_input();
  if (!in) return false;
  // The probe runs into a scratch folder of its own, removed after it, never the run's folder.
  in->out_dir += QStringLiteral(".estimate");
  last_estimate_.reset();
  running_model_ = model_->path;
  QFuture<AnalyzeEstimateResult> future = jobs_->run<AnalyzeEstimateResult>(
      tr("Estimate the analysis of %1").arg(model_->name),
      [in = *in](Progress& progress, const CancelToken& cancel) { return run_analyze_estimate(in, progress, cancel); });
  job_id_ = jobs_->jobs().back().id;
  estimate_watcher_.setFuture(future);
  status_->setText(tr("Estimating the analysis: it runs until a tenth of it is done, then stops; nothing is kept…"));
  update_controls();
  return true;
}

void AnalyzePage::on_estimated() {
  const AnalyzeEstimateResult r =
      estimate_watcher_.future().resultCount() > 0 ? estimate_watcher_.result() : AnalyzeEstimateResult{};
  update_controls();
  if (!model_ || running_model_ != model_->path) {
    status_->clear();
    emit estimate_finished(false);
    return;
  }
  if (r.cancelled || !r.error.isEmpty()) {
    if (r.cancelled) {
      last_error_ = tr("cancelled");
      status_->setText(tr("Estimate cancelled."));
    } else {
      fail(tr("Estimate failed: %1").arg(r.error));
    }
    emit estimate_finished(false);
    return;
  }
  last_estimate_ = r.estimate;
  const JobEstimate& e = r.estimate;
  status_->setText(tr("Estimate: about %1, peak memory about %2, statistics of %3 (probed %4 % of the run; nothing was kept).")
                       .arg(duration(e.seconds), byte_size(e.peak_rss_mb * 1048576.0),
                            byte_size(e.bytes ? static_cast<double>(*e.bytes) : 0.0),
                            QLocale().toString(100 * e.probed_fraction, 'f', 0)));
  emit estimate_finished(true);
}

void AnalyzePage::cancel_analyze() {
  if (!busy()) return;
  jobs_->cancel(job_id_);
  status_->setText(tr("Cancelling…"));
  cancel_button_->setEnabled(false);
}

void AnalyzePage::on_finished() {
  const AnalyzeJobResult r = watcher_.future().resultCount() > 0 ? watcher_.result() : AnalyzeJobResult{};
  update_controls();
  if (!model_ || running_model_ != model_->path) {
    status_->clear();
    emit analyze_finished(false);
    return;
  }
  if (r.cancelled) {
    status_->setText(tr("Cancelled; the views shown before are kept."));
    last_error_ = tr("cancelled");
    emit analyze_finished(false);
    return;
  }
  if (!r.error.isEmpty() || !r.views) {
    fail(tr("Analysis failed: %1").arg(r.error));
    emit analyze_finished(false);
    return;
  }
  show_views(r.views, r.dir);
  status_->setText(tr("Analyzed in %1 s; the Hessian, scale-loss and outlier pages show the results.")
                       .arg(QLocale().toString(r.seconds, 'f', 1)));
  emit analyze_finished(true);
}

bool AnalyzePage::open_views(const QString& dir) {
  auto views = ViewsFile::open(path_str(dir));
  if (!views) {
    last_error_ = qstr(views.error().message);
    status_->setText(tr("Cannot open the analysis %1: %2").arg(QDir::toNativeSeparators(dir), last_error_));
    return false;
  }
  show_views(std::make_shared<const ViewsFile>(std::move(*views)), dir);
  return true;
}

void AnalyzePage::show_views(std::shared_ptr<const ViewsFile> views, const QString& dir) {
  views_ = std::move(views);
  views_dir_ = dir;
  show_summary();
  emit views_changed(views_);
}

void AnalyzePage::show_summary() {
  if (!views_) {
    summary_->setPlainText(model_ ? tr("No analysis yet: choose the calibration and the views, then Analyze.") : QString());
    return;
  }
  const ViewsData& d = views_->data();
  const QLocale locale;
  QStringList lines;
  lines << tr("%1 (%2, %3 blocks): %4 windows of %5 tokens, seed %6.")
               .arg(qstr(d.model), qstr(d.architecture))
               .arg(d.blocks)
               .arg(d.samples)
               .arg(d.ctx)
               .arg(d.seed);
  lines << tr("Saved in %1").arg(QDir::toNativeSeparators(views_dir_));
  if (d.hessian)
    lines << tr("Hessians: %1 layers × %2 levels (%3).")
                 .arg(d.hessian->layers.size() / std::max<size_t>(1, d.hessian->levels.size()))
                 .arg(d.hessian->levels.size())
                 .arg(qstr(d.hessian->format));
  for (const ScaleHessianResult& s : d.scale_hessian)
    lines << tr("Scale Hessian at %1 bits: base loss %2, %3 loss evaluations.")
                 .arg(s.bits)
                 .arg(locale.toString(s.base_loss, 'f', 4))
                 .arg(s.evaluations);
  for (const LandscapeResult& l : d.landscape)
    lines << tr("Landscape at %1 bits over blocks %2 and %3: %4 × %4 points.")
                 .arg(l.bits)
                 .arg(l.block_a)
                 .arg(l.block_b)
                 .arg(l.values.size());
  for (const AwqCurvesResult& a : d.awq) lines << tr("AWQ curves at %1 bits: %2 groups.").arg(a.bits).arg(a.groups.size());
  if (d.outliers) {
    int64_t flagged = 0;
    for (const InputOutliers& in : d.outliers->inputs) flagged += in.outlier_count;
    lines << tr("Outliers: %1 weight histograms; %2 outlier channels over %3 layer inputs.")
                 .arg(d.outliers->weights.size())
                 .arg(flagged)
                 .arg(d.outliers->inputs.size());
  }
  QStringList times;
  for (const auto& [view, secs] : d.seconds) times << QStringLiteral("%1 %2 s").arg(qstr(view), locale.toString(secs, 'f', 1));
  lines << tr("Time: %1.").arg(times.join(QStringLiteral(", ")));
  summary_->setPlainText(lines.join(QLatin1Char('\n')));
}

void AnalyzePage::fail(const QString& message) {
  last_error_ = message;
  status_->setText(message);
}

void AnalyzePage::update_controls() {
  const bool running = busy();
  run_button_->setEnabled(model_ && !running);
  estimate_button_->setEnabled(model_ && !running);
  cancel_button_->setEnabled(running);
}

}  // namespace lowbit
