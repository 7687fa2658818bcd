// ExportPage: "Export" (DESIGN.md "The studio") — the chosen layout (the current plan as edited, or
// a layout file) quantized by its method and written as a GGUF file llama.cpp loads or a GPTQ
// checkpoint folder (core/export/export_layout.h), as a JobCenter job with progress and Cancel;
// a cancelled or failed export leaves no file. Then "Report PDF…" writes the report of the project
// the main window keeps (app/report/report_pdf.h).
#pragma once

#include <QFutureWatcher>
#include <QWidget>
#include <functional>
#include <memory>
#include <optional>

#include "app/studio/job_support.h"
#include "app/studio/model_opener.h"
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
};

struct ExportJobResult : JobOutcome {
  QString path;
  quint64 bytes = 0;
  double bits_per_weight = 0;
  CbqReport cbq;  // a CBQ layout's per-window loss curves (empty otherwise)
};

ExportJobResult run_export_job(const ExportJobInput& input, Progress& progress, const CancelToken& cancel);

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
  bool busy() const { return watcher_.isRunning(); }
  bool write_report(const QString& pdf_path);

  const QString& last_error() const { return last_error_; }
  const std::optional<ExportJobResult>& last_export() const { return last_export_; }
  QPushButton* export_button() const { return export_button_; }
  QPushButton* report_button() const { return report_button_; }

 signals:
  void export_finished(bool ok);
  // An export completed: for the project's export list.
  void exported(const lowbit::ProjectExport& record);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void build_ui();
  void retranslate();
  void on_finished();
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
  QPushButton* report_button_ = nullptr;
  QLabel* status_ = nullptr;
  QFutureWatcher<ExportJobResult> watcher_;
  ExportJobInput running_;
  std::optional<ExportJobResult> last_export_;
  QString last_error_;
};

}  // namespace lowbit
