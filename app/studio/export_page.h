// ExportPage: "Export" (DESIGN.md "The studio") — the chosen layout (the current plan as edited, or
// a layout file) quantized by its method and written as a GGUF file llama.cpp loads or a GPTQ
// checkpoint folder (core/export/export_layout.h), as a JobCenter job with progress and Cancel;
// a cancelled or failed export leaves no file. The job reads the checkpoint block by block (one
// decoder block in memory for rtn, gptq, awq, awq+gptq). "Estimate" first tells what the export will
// cost — the file's exact size, peak memory and time from a probe of one block
// (core/export/estimate.h) — without writing anything. Then "Report PDF…" writes the report of the
// project the main window keeps (app/report/report_pdf.h).
#pragma once

#include <QFutureWatcher>
#include <QWidget>
#include <functional>
#include <memory>
#include <optional>

#include "app/studio/job_support.h"
#include "app/studio/model_opener.h"
#include "core/export/estimate.h"
#include "core/export/export_layout.h"
#include "core/io/project_file.h"

class QComboBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace lowbit {

class JobCenter;

struct ExportJobInput {
  QString model_path;
  QString layout_name;
  Layout layout;
  QString out_path;
  QString calib_path;  // methods other than RTN
  LayoutExportOptions options;
  QString backend = QStringLiteral("cpu");  // where GPTQ/AWQ layouts quantize (the Settings' choice)
  int device = -1;                           // the Vulkan device index (-1: the best)
};

struct ExportJobResult : JobOutcome {
  QString path;
  quint64 bytes = 0;
  double bits_per_weight = 0;
  int64_t resumed_blocks = 0;  // GPTQ/AWQ: blocks an interrupted export of the same run had finished
  QString kept;                // a failed GPTQ/AWQ export: the folder its finished blocks are kept in
  QString backend;             // where it quantized: "cpu", or "vulkan" (GPTQ's sweep, AWQ's grid, the calibration)
  CbqReport cbq;  // a CBQ layout's per-window loss curves (empty otherwise)
};

// GPTQ and AWQ layouts keep each finished block in OUT.resume/: an export that fails or is killed
// is resumed by the next export of the same run (model files, layout, target) to the same path; a
// cancelled or completed export removes the folder.
ExportJobResult run_export_job(const ExportJobInput& input, Progress& progress, const CancelToken& cancel);

struct ExportEstimateResult : JobOutcome {
  JobEstimate estimate;
};

ExportEstimateResult run_estimate_job(const ExportJobInput& input, Progress& progress, const CancelToken& cancel);

class ExportPage : public QWidget {
  Q_OBJECT

 public:
  explicit ExportPage(JobCenter* jobs, QWidget* parent = nullptr);
  ~ExportPage() override;

  void set_model(std::shared_ptr<const OpenedModel> model);
  void set_plan_source(std::function<std::optional<Layout>()> source) { plan_source_ = std::move(source); }
  // The project the report describes (the main window's, at the moment of the click).
  void set_project_source(std::function<Project()> source) { project_source_ = std::move(source); }

  // "plan" (the current plan) or a layout file.
  bool set_layout_file(const QString& path);
  void use_current_plan();
  void set_target(ExportTarget to, const QString& out_path);
  bool start_export();
  // The cost of the export start_export() would run, as a job; estimate_finished when it is known.
  bool start_estimate();
  bool busy() const { return watcher_.isRunning() || estimate_watcher_.isRunning(); }
  bool write_report(const QString& pdf_path);

  const QString& last_error() const { return last_error_; }
  const std::optional<ExportJobResult>& last_export() const { return last_export_; }
  const std::optional<JobEstimate>& last_estimate() const { return last_estimate_; }
  QPushButton* export_button() const { return export_button_; }
  QPushButton* estimate_button() const { return estimate_button_; }
  QPushButton* report_button() const { return report_button_; }

 signals:
  void export_finished(bool ok);
  void estimate_finished(bool ok);
  // An export completed: for the project's export list.
  void exported(const lowbit::ProjectExport& record);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void build_ui();
  void retranslate();
  void on_finished();
  void on_estimated();
  // The job the page's fields describe; nullopt (with the reason shown) when they do not describe one.
  std::optional<ExportJobInput> job_input();
  void set_idle(bool idle);
  void suggest_out_path();
  void fail(const QString& message);

  JobCenter* jobs_ = nullptr;
  std::shared_ptr<const OpenedModel> model_;
  std::function<std::optional<Layout>()> plan_source_;
  std::function<Project()> project_source_;
  QGroupBox* box_ = nullptr;
  QLabel* layout_label_ = nullptr;
  QLabel* format_label_ = nullptr;
  QLabel* output_label_ = nullptr;
  QPushButton* browse_layout_ = nullptr;
  QPushButton* browse_out_ = nullptr;
  QComboBox* source_ = nullptr;  // current plan | layout file
  QLineEdit* layout_file_ = nullptr;
  QComboBox* target_ = nullptr;
  QLineEdit* out_path_ = nullptr;
  QPushButton* export_button_ = nullptr;
  QPushButton* estimate_button_ = nullptr;
  QPushButton* report_button_ = nullptr;
  QLabel* status_ = nullptr;
  QFutureWatcher<ExportJobResult> watcher_;
  QFutureWatcher<ExportEstimateResult> estimate_watcher_;
  ExportJobInput running_;
  QString estimating_model_;  // the model of the estimate that runs
  std::optional<ExportJobResult> last_export_;
  std::optional<JobEstimate> last_estimate_;
  QString last_error_;
};

}  // namespace lowbit
