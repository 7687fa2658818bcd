// PlanPage: "Budget and plan" (DESIGN.md "The studio") — a budget (bits per weight or file size), a
// method and a format menu; Plan measures every tensor's sensitivity on calibration windows and plans
// the layout (`lowbit plan`'s pipeline) on the global thread pool, with a progress bar and Cancel; the
// layer-precision table then shows the plan, its format column editable, above a budget meter that
// follows every edit. Save layout… writes the edited layout as `lowbit plan` writes one.
// The fixed part of the file (header, norms, what no row chooses) is taken once from the plan, so an
// edit moves the meter by exactly the row's bytes; tensor padding can make an edited file differ from
// it by a few bytes per tensor. The page cancels and waits for its job before it dies.
#pragma once

#include <QFutureWatcher>
#include <QWidget>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "app/studio/model_opener.h"
#include "core/calib/calibration.h"
#include "core/jobs/progress.h"
#include "core/io/project_file.h"
#include "core/plan/planner.h"

class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableView;

namespace lowbit {

class JobCenter;

class BudgetMeter;
class LayerPrecisionModel;

// What one plan job needs: everything copied, so the worker shares nothing with the GUI.
struct PlanJobInput {
  QString model_path;
  QString calib_path;
  PlanOptions plan;
  CalibOptions calib;
  std::filesystem::path cache;  // sensitivity cache file; empty: none
  QString backend = QStringLiteral("cpu");  // where the sensitivity's forward passes run (the Settings' choice)
  int device = -1;                           // the Vulkan device index (-1: the best)
};

struct PlanJobResult {
  PlanResult plan;
  SensitivityTable sensitivity;
  std::vector<Format> formats;
  quint64 fixed_bytes = 0;  // the file's bytes that no row chooses
  double seconds = 0;
  QStringList warnings;  // the device could not be opened, or could not take the model (then the CPU measured)
  QString error;
  bool cancelled = false;
};

// Runs the job synchronously (the worker's half of PlanPage; tests may call it directly).
PlanJobResult run_plan_job(const PlanJobInput& input, Progress* progress, const CancelToken* cancel);

class PlanPage : public QWidget {
  Q_OBJECT

 public:
  // Plans run as `jobs`' jobs (the Jobs dock lists them, the issues panel gets their warnings).
  explicit PlanPage(JobCenter* jobs, QWidget* parent = nullptr);
  ~PlanPage() override;

  void set_model(std::shared_ptr<const OpenedModel> model);

  // Settings, as the controls hold them (tests and tours set them here).
  void set_budget_bpw(double bpw);
  void set_budget_bytes(quint64 bytes);
  void set_formats(const QStringList& formats);
  QStringList checked_formats() const;
  void set_calibration(const QString& file, int samples, int ctx, int seed = 0);
  QString calibration_file() const;
  // The sensitivity cache ("" for none); by default one file in the user's cache folder.
  void set_cache_file(const QString& path) { cache_file_ = path; }

  // Starts planning; false (and last_error() says why) when the settings cannot be planned.
  bool start_plan();
  void cancel_plan();
  bool busy() const { return watcher_.isRunning(); }
  bool has_plan() const { return has_plan_; }
  // The plan as edited, with the meter's prediction and the calibration settings; none before a plan.
  std::optional<Layout> current_layout() const;
  // The budget, format menu and method as the controls hold them (the project file keeps them).
  ProjectPlan plan_settings() const;
  void apply_plan_settings(const ProjectPlan& plan);
  int calibration_samples() const;
  int calibration_ctx() const;
  int calibration_seed() const;
  // Writes the (edited) layout; false and last_error() on failure.
  bool save_layout(const QString& path);
  const QString& last_error() const { return last_error_; }

  LayerPrecisionModel* layer_model() const { return layer_model_; }
  BudgetMeter* meter() const { return meter_; }
  QTableView* table() const { return table_; }
  QPushButton* plan_button() const { return plan_button_; }
  QPushButton* cancel_button() const { return cancel_button_; }
  QProgressBar* progress_bar() const { return progress_; }

 signals:
  // A plan job ended: with a plan in the table (ok), cancelled, or failed (last_error()).
  void plan_finished(bool ok);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void build_ui();
  void retranslate();
  void on_budget_kind_changed();
  void on_finished();
  void on_totals_changed(quint64 bytes, double kld, double dnll);
  void choose_calibration();
  void choose_save_path();
  void update_controls();
  void fail(const QString& message);

  std::shared_ptr<const OpenedModel> model_;
  QGroupBox* budget_box_ = nullptr;
  QGroupBox* formats_box_ = nullptr;
  QLabel* target_label_ = nullptr;
  QLabel* method_label_ = nullptr;
  QLabel* calib_label_ = nullptr;
  QLabel* samples_label_ = nullptr;
  QLabel* windows_of_ = nullptr;
  QLabel* tokens_seed_ = nullptr;
  QPushButton* browse_ = nullptr;
  QComboBox* budget_kind_ = nullptr;
  QDoubleSpinBox* budget_value_ = nullptr;
  QComboBox* method_ = nullptr;
  QListWidget* formats_ = nullptr;
  QLineEdit* calib_file_ = nullptr;
  QSpinBox* samples_ = nullptr;
  QSpinBox* ctx_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QPushButton* plan_button_ = nullptr;
  QPushButton* cancel_button_ = nullptr;
  QPushButton* save_button_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  QLabel* edits_ = nullptr;
  BudgetMeter* meter_ = nullptr;
  QTableView* table_ = nullptr;
  LayerPrecisionModel* layer_model_ = nullptr;

  QFutureWatcher<PlanJobResult> watcher_;
  JobCenter* jobs_ = nullptr;
  int job_id_ = 0;          // the running plan's row in the JobCenter
  bool cancelling_ = false;
  PlanJobInput running_;        // the settings of the running plan
  PlanJobInput shown_;          // … and of the plan shown
  PlanJobResult result_;        // the shown plan
  bool has_plan_ = false;
  QString cache_file_;
  QString last_error_;
};

}  // namespace lowbit
