#include "app/studio/export_page.h"

#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QVBoxLayout>
#include <filesystem>

#include "app/backend/backend_device.h"
#include "app/report/report_pdf.h"
#include "app/studio/job_center.h"
#include "app/studio/job_support.h"
#include "app/studio/studio_paths.h"
#include "app/studio/studio_settings.h"
#include "core/io/mapped_file.h"
#include "core/io/resume_folder.h"
#include "core/model/model.h"

namespace lowbit {

namespace {

// The source model (with its tokenizer, not its weights: the export reads them block by block) and
// the layout's calibration windows.
struct JobSource {
  Model model;
  std::vector<int32_t> windows;
};

Expected<JobSource> open_source(const ExportJobInput& in, Progress& progress) {
  progress.report(0, "opening the model");
  JobSource s;
  LB_TRY_ASSIGN(s.model, open_model(path_str(in.model_path), true));
  if (in.layout.method != QuantMethod::Rtn) {
    if (!s.model.tokenizer) return make_error(ErrorCode::Unsupported, path_str(in.model_path) + ": the model has no tokenizer to read calibration text with");
    LB_TRY_ASSIGN(s.windows, calibration_windows(*s.model.tokenizer, path_str(in.calib_path), in.options.calib));
  }
  return s;
}

// The Settings' backend for a job's quantization: a device opened for it (kept by `device`, which
// must outlive the job), or the CPU with a warning.
void on_backend(const ExportJobInput& in, BackendDevice& device, LayoutExportOptions& o, QStringList& warnings) {
  if (in.backend != QLatin1String("vulkan") || !layout_streams(in.layout.method)) return;
  std::vector<std::string> w;
  device.open(in.device, 0, w);
  for (const auto& s : w) warnings << qstr(s);
  o.backends = device.quantize();
}

}  // namespace

ExportEstimateResult run_estimate_job(const ExportJobInput& in, Progress& progress, const CancelToken& cancel) {
  ExportEstimateResult r;
  QElapsedTimer clock;
  clock.start();
  auto source = open_source(in, progress);
  if (!source) return job_failed(r, source.error());
  progress.report(0.1, "probing the first block");
  BackendDevice device;
  LayoutExportOptions options = in.options;
  on_backend(in, device, options, r.warnings);
  auto e = estimate_layout_export(source->model, in.layout, source->windows, options, &cancel);
  if (!e) return job_failed(r, e.error());
  r.estimate = *e;
  r.seconds = static_cast<double>(clock.elapsed()) / 1e3;
  return r;
}

ExportJobResult run_export_job(const ExportJobInput& in, Progress& progress, const CancelToken& cancel) {
  ExportJobResult r;
  QElapsedTimer clock;
  clock.start();
  auto failed = [&r](const Error& e) { return job_failed(r, e); };
  auto source = open_source(in, progress);
  if (!source) return failed(source.error());
  Progress run = progress.sub(0.02, 1.0);
  BackendDevice device;  // before the options whose backends it makes
  LayoutExportOptions options = in.options;
  on_backend(in, device, options, r.warnings);
  r.backend = qstr(device.name());
  options.resume_dir = path_str(in.out_path) + ".resume";
  options.run_id = model_files_id(path_str(in.model_path)) + ";layout " + in.layout.to_json().dump() + ";to " +
                   export_target_name(options.to) + ";name " + options.name;
  auto x = export_layout_streamed(source->model, in.layout, path_str(in.out_path), source->windows, options, &run, &cancel);
  std::error_code ec;
  if (!x) {
    if (x.error().code == ErrorCode::Cancelled || !std::filesystem::exists(options.resume_dir / "run.json", ec))
      std::filesystem::remove_all(options.resume_dir, ec);  // cancelled: nothing left behind
    else
      r.kept = QFile::decodeName(options.resume_dir.c_str());
    return failed(x.error());
  }
  std::filesystem::remove_all(options.resume_dir, ec);  // written: nothing left to resume
  r.path = QFile::decodeName(x->path.c_str());
  r.bytes = x->bytes;
  r.bits_per_weight = x->bits_per_weight;
  r.resumed_blocks = x->quantized.resumed_blocks;
  r.cbq = std::move(x->quantized.cbq);
  for (const auto& w : x->warnings) r.warnings << qstr(w);
  r.seconds = static_cast<double>(clock.elapsed()) / 1e3;
  return r;
}

ExportPage::ExportPage(JobCenter* jobs, QWidget* parent) : QWidget(parent), jobs_(jobs) {
  build_ui();
  connect(&watcher_, &QFutureWatcher<ExportJobResult>::finished, this, &ExportPage::on_finished);
  connect(&estimate_watcher_, &QFutureWatcher<ExportEstimateResult>::finished, this, &ExportPage::on_estimated);
}

ExportPage::~ExportPage() {
  watcher_.waitForFinished();
  estimate_watcher_.waitForFinished();
}

void ExportPage::build_ui() {
  source_ = new QComboBox(this);
  source_->addItem(QString());  // the current plan (texts: retranslate())
  source_->addItem(QString());  // a layout file
  layout_file_ = new QLineEdit(this);
  browse_layout_ = new QPushButton(this);
  connect(browse_layout_, &QPushButton::clicked, this, [this] {
    const QString p = QFileDialog::getOpenFileName(this, tr("Layout to Export"), QString(), tr("Layouts (*.json)"));
    if (!p.isEmpty()) set_layout_file(p);
  });
  auto* layout_row = new QHBoxLayout;
  layout_row->addWidget(source_);
  layout_row->addWidget(layout_file_, 1);
  layout_row->addWidget(browse_layout_);
  auto update_source = [this] { layout_file_->setEnabled(source_->currentIndex() == 1); };
  connect(source_, &QComboBox::currentIndexChanged, this, update_source);
  update_source();

  target_ = new QComboBox(this);
  target_->addItem(QString(), static_cast<int>(ExportTarget::Gguf));
  target_->addItem(QString(), static_cast<int>(ExportTarget::Gptq));
  connect(target_, &QComboBox::currentIndexChanged, this, &ExportPage::suggest_out_path);
  out_path_ = new QLineEdit(this);
  browse_out_ = new QPushButton(this);
  connect(browse_out_, &QPushButton::clicked, this, [this] {
    const bool gguf = target_->currentData().toInt() == static_cast<int>(ExportTarget::Gguf);
    const QString p = gguf ? QFileDialog::getSaveFileName(this, tr("Export to"), out_path_->text(), tr("GGUF files (*.gguf)"))
                           : QFileDialog::getExistingDirectory(this, tr("Export into Folder"), out_path_->text());
    if (!p.isEmpty()) out_path_->setText(QDir::toNativeSeparators(p));
  });
  auto* out_row = new QHBoxLayout;
  out_row->addWidget(out_path_, 1);
  out_row->addWidget(browse_out_);

  box_ = new QGroupBox(this);
  auto* box = box_;
  auto* form = new QFormLayout(box);
  layout_label_ = new QLabel(this);
  format_label_ = new QLabel(this);
  output_label_ = new QLabel(this);
  form->addRow(layout_label_, layout_row);
  form->addRow(format_label_, target_);
  form->addRow(output_label_, out_row);

  export_button_ = new QPushButton(this);
  export_button_->setDefault(true);
  connect(export_button_, &QPushButton::clicked, this, [this] { start_export(); });
  estimate_button_ = new QPushButton(this);
  connect(estimate_button_, &QPushButton::clicked, this, [this] { start_estimate(); });
  report_button_ = new QPushButton(this);
  connect(report_button_, &QPushButton::clicked, this, [this] {
    const QString p = QFileDialog::getSaveFileName(this, tr("Write Report"), QString(), tr("PDF files (*.pdf)"));
    if (!p.isEmpty()) write_report(p);
  });
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(export_button_);
  buttons->addWidget(estimate_button_);
  buttons->addWidget(report_button_);
  buttons->addStretch(1);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(24, 18, 24, 18);
  layout->addWidget(box);
  layout->addLayout(buttons);
  layout->addWidget(status_);
  layout->addStretch(1);
  retranslate();
}

void ExportPage::retranslate() {
  box_->setTitle(tr("Export"));
  layout_label_->setText(tr("Layout:"));
  format_label_->setText(tr("Format:"));
  output_label_->setText(tr("Output:"));
  source_->setItemText(0, tr("The current plan"));
  source_->setItemText(1, tr("A layout file"));
  layout_file_->setPlaceholderText(tr("layout.json"));
  browse_layout_->setText(tr("Browse…"));
  browse_out_->setText(tr("Browse…"));
  target_->setItemText(0, tr("GGUF (llama.cpp)"));
  target_->setItemText(1, tr("GPTQ checkpoint (int formats)"));
  export_button_->setText(tr("Export"));
  estimate_button_->setText(tr("Estimate"));
  estimate_button_->setToolTip(tr("The file's size, the peak memory and the time of the export, from a probe of one block; nothing is written"));
  report_button_->setText(tr("Report PDF…"));
}

void ExportPage::changeEvent(QEvent* event) {
  if (event->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(event);
}

void ExportPage::set_model(std::shared_ptr<const OpenedModel> model) {
  model_ = std::move(model);
  status_->clear();
  last_export_.reset();
  last_estimate_.reset();
  suggest_out_path();
  set_idle(!busy());
}

void ExportPage::set_idle(bool idle) {
  export_button_->setEnabled(idle && model_ != nullptr);
  estimate_button_->setEnabled(idle && model_ != nullptr);
}

void ExportPage::suggest_out_path() {
  if (!model_) return;
  const QFileInfo info(model_->path);
  const QDir dir = info.isDir() ? QDir(info.absoluteFilePath() + QStringLiteral("/..")) : info.absoluteDir();
  const QString base = info.isDir() ? info.fileName() : info.completeBaseName();
  const bool gguf = target_->currentData().toInt() == static_cast<int>(ExportTarget::Gguf);
  out_path_->setText(QDir::toNativeSeparators(QDir::cleanPath(dir.filePath(base + (gguf ? QStringLiteral("-lowbit.gguf") : QStringLiteral("-lowbit-gptq"))))));
}

bool ExportPage::set_layout_file(const QString& path) {
  source_->setCurrentIndex(1);
  layout_file_->setText(QDir::toNativeSeparators(path));
  return QFileInfo(path).isFile();
}

void ExportPage::use_current_plan() { source_->setCurrentIndex(0); }

void ExportPage::set_target(ExportTarget to, const QString& out_path) {
  target_->setCurrentIndex(target_->findData(static_cast<int>(to)));
  out_path_->setText(QDir::toNativeSeparators(out_path));
}

std::optional<ExportJobInput> ExportPage::job_input() {
  last_error_.clear();
  if (!model_) {
    fail(tr("Open a model first."));
    return std::nullopt;
  }
  ExportJobInput in;
  in.model_path = model_->path;
  if (source_->currentIndex() == 0) {
    std::optional<Layout> plan = plan_source_ ? plan_source_() : std::nullopt;
    if (!plan) {
      fail(tr("There is no plan yet: plan a layout on the Budget and plan page, or choose a layout file."));
      return std::nullopt;
    }
    in.layout = std::move(*plan);
    in.layout_name = tr("current plan");
  } else {
    const QString file = QDir::fromNativeSeparators(layout_file_->text().trimmed());
    if (file.isEmpty()) {
      fail(tr("Choose a layout file."));
      return std::nullopt;
    }
    auto l = read_layout(path_str(file));
    if (!l) {
      fail(qstr(l.error().message));
      return std::nullopt;
    }
    in.layout = std::move(*l);
    in.layout_name = QFileInfo(file).fileName();
  }
  in.out_path = QDir::fromNativeSeparators(out_path_->text().trimmed());
  if (in.out_path.isEmpty()) {
    fail(tr("Choose where to write the export."));
    return std::nullopt;
  }
  in.options.to = static_cast<ExportTarget>(target_->currentData().toInt());
  const StudioSettings settings = StudioSettings::load();
  in.backend = settings.backend;
  in.device = settings.device;
  in.calib_path = default_calibration_text(model_->path);
  const auto& pred = in.layout.predicted;
  if (pred.is_object() && pred.contains("calibration") && pred["calibration"].is_object()) {
    const auto& cal = pred["calibration"];
    if (cal.contains("file") && cal["file"].is_string()) in.calib_path = qstr(cal["file"].get<std::string>());
    if (cal.contains("samples") && cal["samples"].is_number_integer()) in.options.calib.samples = cal["samples"].get<int64_t>();
    if (cal.contains("ctx") && cal["ctx"].is_number_integer()) in.options.calib.ctx = cal["ctx"].get<int64_t>();
  }
  return in;
}

bool ExportPage::start_export() {
  if (busy()) return false;
  auto in = job_input();
  if (!in) return false;
  running_ = *in;
  if (in->layout.method == QuantMethod::Rtn)
    status_->setText(tr("Exporting to %1…").arg(QDir::toNativeSeparators(in->out_path)));
  else  // the calibration text is the layout's, else one found beside the model (or the demo's): say which
    status_->setText(tr("Exporting to %1, calibrated on %2…")
                         .arg(QDir::toNativeSeparators(in->out_path),
                              in->calib_path.isEmpty() ? tr("no text (none found)") : QDir::toNativeSeparators(in->calib_path)));
  set_idle(false);
  watcher_.setFuture(jobs_->run<ExportJobResult>(
      tr("Export %1").arg(QFileInfo(in->out_path).fileName()),
      [job = *in](Progress& p, const CancelToken& c) { return run_export_job(job, p, c); }));
  return true;
}

bool ExportPage::start_estimate() {
  if (busy()) return false;
  auto in = job_input();
  if (!in) return false;
  last_estimate_.reset();
  estimating_model_ = in->model_path;
  status_->setText(tr("Estimating the export to %1…").arg(QDir::toNativeSeparators(in->out_path)));
  set_idle(false);
  estimate_watcher_.setFuture(jobs_->run<ExportEstimateResult>(
      tr("Estimate %1").arg(QFileInfo(in->out_path).fileName()),
      [job = *in](Progress& p, const CancelToken& c) { return run_estimate_job(job, p, c); }));
  return true;
}

void ExportPage::on_estimated() {
  const ExportEstimateResult r = estimate_watcher_.future().resultCount() > 0 ? estimate_watcher_.result() : ExportEstimateResult{};
  set_idle(true);
  if (r.cancelled || !r.error.isEmpty()) {
    fail(r.cancelled ? tr("Estimate cancelled.") : tr("Estimate failed: %1").arg(r.error));
    emit estimate_finished(false);
    return;
  }
  if (!model_ || model_->path != estimating_model_) {  // the model changed while it ran: not this one's estimate
    status_->clear();
    emit estimate_finished(false);
    return;
  }
  last_estimate_ = r.estimate;
  const JobEstimate& e = r.estimate;
  const QLocale l;
  status_->setText(tr("Estimate: %1 written, peak memory about %2, about %3 (%n block(s), one probed in %4 s; nothing was written).",
                      nullptr, static_cast<int>(e.blocks))
                       .arg(e.bytes ? byte_size(static_cast<double>(*e.bytes)) : tr("nothing"), byte_size(e.peak_rss_mb * 1048576.0),
                            duration(e.seconds), l.toString(e.block_seconds, 'f', 1)));
  emit estimate_finished(true);
}

void ExportPage::on_finished() {
  const ExportJobResult r = watcher_.future().resultCount() > 0 ? watcher_.result() : ExportJobResult{};
  set_idle(true);
  if (r.cancelled) {
    last_error_ = tr("cancelled");
    status_->setText(tr("Cancelled; nothing was written."));
    emit export_finished(false);
    return;
  }
  if (!r.error.isEmpty()) {
    fail(r.kept.isEmpty() ? tr("Export failed: %1").arg(r.error)
                          : tr("Export failed: %1. The finished blocks are kept in %2: exporting the same layout to the same file "
                               "again continues from them.")
                                .arg(r.error, QDir::toNativeSeparators(r.kept)));
    emit export_finished(false);
    return;
  }
  if (!model_ || model_->path != running_.model_path) {  // the model changed while it ran: the file is written, not this model's
    status_->setText(tr("Wrote %1 (from %2, the model open before).")
                         .arg(QDir::toNativeSeparators(r.path), QDir::toNativeSeparators(running_.model_path)));
    emit export_finished(true);
    return;
  }
  last_export_ = r;
  const QLocale l;
  QString text = tr("Wrote %1: %2 bytes, %3 bits per weight, in %4 s.")
                     .arg(QDir::toNativeSeparators(r.path), l.toString(r.bytes), l.toString(r.bits_per_weight, 'f', 3),
                          l.toString(r.seconds, 'f', 1));
  if (r.resumed_blocks > 0)
    text += QLatin1Char(' ') + tr("%n block(s) came from the interrupted export before this one.", nullptr, static_cast<int>(r.resumed_blocks));
  if (r.backend == QLatin1String("vulkan"))
    text += QLatin1Char(' ') + tr("Quantized on the GPU (Vulkan).");
  else if (running_.backend == QLatin1String("vulkan") && layout_streams(running_.layout.method))
    text += QLatin1Char(' ') + tr("The Vulkan backend was unavailable: quantized on the CPU.");
  status_->setText(text);
  ProjectExport record;
  record.path = path_str(r.path);
  record.to = export_target_name(running_.options.to);
  record.layout = running_.layout_name.toStdString();
  record.bytes = r.bytes;
  record.bits_per_weight = r.bits_per_weight;
  record.seconds = r.seconds;
  emit exported(record);
  emit export_finished(true);
}

bool ExportPage::write_report(const QString& pdf_path) {
  last_error_.clear();
  if (!project_source_) {
    fail(tr("There is no project to report on."));
    return false;
  }
  const Project project = project_source_();
  auto r = write_report_pdf(project, path_str(pdf_path));
  if (!r) {
    fail(tr("The report could not be written: %1").arg(qstr(r.error().message)));
    return false;
  }
  status_->setText(tr("Wrote the report %1 (%n page(s)).", nullptr, r->pages).arg(QDir::toNativeSeparators(pdf_path)));
  for (const QString& w : r->warnings) jobs_->add_issue(tr("Report"), w);
  return true;
}

void ExportPage::fail(const QString& message) {
  last_error_ = message;
  status_->setText(message);
}

}  // namespace lowbit
