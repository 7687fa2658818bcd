// AnalyzePage: "Analyze" (DESIGN.md "The studio", Calibration) — a calibration text, samples,
// context and seed, and the views to compute (Hessians at full precision and at 2/3/4 bits, the
// per-block scale Hessian, the 2-D scale-loss landscape, AWQ's α and clip curves, outliers). Analyze
// runs `lowbit analyze --views`'s pipeline (core/analysis/views.h) as a job of the JobCenter (progress,
// ETA, Cancel in the jobs panel) into a fresh folder of the studio's cache; the finished folder is
// opened as a ViewsFile and handed to the Hessian, scale-loss and outlier pages through
// views_changed(). A cancelled or failed run leaves nothing behind (the core stages its files) and
// keeps the views shown before. A folder written earlier (a reopened project, `lowbit analyze --views
// --out DIR`) opens with open_views(). Estimate runs the same job into a scratch folder until a tenth
// of its progress has passed (core's ProgressProbe) and shows the time, peak memory and size.
#pragma once

#include <QFuture>
#include <QFutureWatcher>
#include <QWidget>
#include <memory>
#include <optional>
#include <set>

#include "app/studio/job_support.h"
#include "app/studio/model_opener.h"
#include "core/analysis/views.h"
#include "core/analysis/views_file.h"
#include "core/export/estimate.h"

class QCheckBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace lowbit {

class JobCenter;

struct AnalyzeJobInput {
  QString model_path;
  QString calib_path;
  QString out_dir;  // must not exist yet
  CalibOptions calib;
  ViewsOptions views;
  QString backend = QStringLiteral("cpu");  // where the calibration walk runs (the Settings' choice)
  int device = -1;                           // the Vulkan device index (-1: the best)
};

struct AnalyzeJobResult : JobOutcome {
  QString dir;
  std::shared_ptr<const ViewsFile> views;
};

struct AnalyzeEstimateResult : JobOutcome {
  JobEstimate estimate;
};

// The worker's half (tests may call it directly).
AnalyzeJobResult run_analyze_job(const AnalyzeJobInput& input, Progress& progress, const CancelToken& cancel);
// What run_analyze_job will cost: the run itself into a scratch folder, probed on its progress for
// its first tenth (ProgressProbe) and extrapolated; the statistics' size from the config; nothing
// is left behind.
AnalyzeEstimateResult run_analyze_estimate(const AnalyzeJobInput& input, Progress& progress, const CancelToken& cancel);

class AnalyzePage : public QWidget {
  Q_OBJECT

 public:
  explicit AnalyzePage(JobCenter* jobs, QWidget* parent = nullptr);
  ~AnalyzePage() override;

  void set_model(std::shared_ptr<const OpenedModel> model);
  void set_calibration(const QString& file, int samples, int ctx, int seed = 0);
  QString calibration_file() const;
  int calibration_samples() const;
  int calibration_ctx() const;
  // The views Analyze computes (all five by default) and the landscape's points per axis.
  void set_view_kinds(const std::set<ViewKind>& kinds);
  std::set<ViewKind> view_kinds() const;
  void set_landscape_points(int points);
  // Where new analyses go (default: <cache>/analyses); each run makes a subfolder.
  void set_output_root(const QString& dir) { output_root_ = dir; }

  bool start_analyze();
  // Estimates the analysis the controls describe (time, peak memory, the statistics' size) as a job.
  bool start_estimate();
  void cancel_analyze();
  bool busy() const { return watcher_.isRunning() || estimate_watcher_.isRunning(); }
  const std::optional<JobEstimate>& last_estimate() const { return last_estimate_; }
  QPushButton* estimate_button() const { return estimate_button_; }
  // Opens the views of an earlier run; false (last_error) when the folder does not hold them.
  bool open_views(const QString& dir);
  const QString& views_dir() const { return views_dir_; }
  const std::shared_ptr<const ViewsFile>& views() const { return views_; }
  const QString& last_error() const { return last_error_; }

 signals:
  void analyze_finished(bool ok);
  void estimate_finished(bool ok);
  void views_changed(std::shared_ptr<const lowbit::ViewsFile> views);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void build_ui();
  void retranslate();
  void on_finished();
  void on_estimated();
  std::optional<AnalyzeJobInput> job_input();
  void show_views(std::shared_ptr<const ViewsFile> views, const QString& dir);
  void show_summary();
  void fail(const QString& message);
  void update_controls();

  JobCenter* jobs_ = nullptr;
  std::shared_ptr<const OpenedModel> model_;
  QGroupBox* calib_box_ = nullptr;
  QGroupBox* views_box_ = nullptr;
  QLabel* file_label_ = nullptr;
  QLabel* samples_label_ = nullptr;
  QLabel* ctx_label_ = nullptr;
  QLabel* seed_label_ = nullptr;
  QLabel* points_label_ = nullptr;
  QLineEdit* calib_file_ = nullptr;
  QPushButton* browse_ = nullptr;
  QSpinBox* samples_ = nullptr;
  QSpinBox* ctx_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QSpinBox* points_ = nullptr;
  QCheckBox* view_checks_[5] = {};
  QPushButton* run_button_ = nullptr;
  QPushButton* estimate_button_ = nullptr;
  QPushButton* cancel_button_ = nullptr;
  QLabel* status_ = nullptr;
  QPlainTextEdit* summary_ = nullptr;
  QFutureWatcher<AnalyzeJobResult> watcher_;
  QFutureWatcher<AnalyzeEstimateResult> estimate_watcher_;
  std::optional<JobEstimate> last_estimate_;
  int job_id_ = 0;
  QString running_model_;
  QString output_root_;
  QString views_dir_;
  std::shared_ptr<const ViewsFile> views_;
  QString last_error_;
};

}  // namespace lowbit
