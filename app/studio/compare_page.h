// ComparePage: "Compare" (DESIGN.md "The studio") — several layouts of the open model measured side
// by side: the current plan (as edited on the Budget and plan page), layout files, and uniform
// formats. One job (core/eval/compare.h, `lowbit compare`'s pipeline) quantizes each candidate from the
// same weights and measures perplexity, KL divergence, GGUF size and bits per weight on the same
// evaluation windows; the results fill a table and the size-vs-perplexity chart. The job runs
// through the JobCenter (progress, ETA, Cancel in the jobs panel).
#pragma once

#include <QFutureWatcher>
#include <QWidget>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "app/studio/job_support.h"
#include "app/studio/model_opener.h"
#include "core/eval/compare.h"

class QGroupBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace lowbit {

class ComparisonChart;
class JobCenter;

struct CompareJobInput {
  QString model_path;
  std::vector<CompareCandidate> candidates;
  std::vector<Format> uniform;  // uniform RTN layouts made in the job (they need the weights)
  QString text_path;
  QString calib_path;  // needed when a candidate's method is not RTN
  CompareOptions options;
  QString backend = QStringLiteral("cpu");  // where the evaluations run (the Settings' choice)
  int device = -1;                           // the Vulkan device index (-1: the best)
};

struct CompareJobResult : JobOutcome {
  std::vector<CompareRow> rows;
  QString backend;  // where the evaluations ran
};

// The worker's half (tests may call it directly).
CompareJobResult run_compare_job(const CompareJobInput& input, Progress& progress, const CancelToken& cancel);

class ComparePage : public QWidget {
  Q_OBJECT

 public:
  explicit ComparePage(JobCenter* jobs, QWidget* parent = nullptr);
  ~ComparePage() override;

  void set_model(std::shared_ptr<const OpenedModel> model);
  // Where "Add the current plan" takes its layout from (the plan page); none: the button is disabled.
  void set_plan_source(std::function<std::optional<Layout>()> source) { plan_source_ = std::move(source); }

  // Candidates (tests and tours add them here).
  bool add_plan();
  bool add_layout_file(const QString& path);
  void add_layout(const std::string& name, Layout layout);
  const std::vector<CompareCandidate>& candidates() const { return layouts_; }
  // Results measured earlier (a reopened project).
  void set_rows(std::vector<CompareRow> rows);
  QString evaluation_text() const;
  int evaluation_ctx() const;
  void set_uniform_formats(const QStringList& formats);
  int candidate_count() const;
  void set_evaluation(const QString& text_file, int ctx, int max_windows);

  bool start_compare();
  bool busy() const { return watcher_.isRunning(); }
  const std::vector<CompareRow>& rows() const { return rows_; }
  const QString& last_error() const { return last_error_; }
  QTableWidget* table() const { return table_; }
  ComparisonChart* chart() const { return chart_; }

 signals:
  void compare_finished(bool ok);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void build_ui();
  void retranslate();
  void on_finished();
  void show_rows();
  void fail(const QString& message);

  JobCenter* jobs_ = nullptr;
  std::shared_ptr<const OpenedModel> model_;
  std::function<std::optional<Layout>()> plan_source_;
  std::vector<CompareCandidate> layouts_;  // plans and files, in the order added
  QGroupBox* candidates_box_ = nullptr;
  QGroupBox* uniform_box_ = nullptr;
  QGroupBox* evaluation_box_ = nullptr;
  QPushButton* add_plan_button_ = nullptr;
  QPushButton* add_file_button_ = nullptr;
  QPushButton* remove_button_ = nullptr;
  QPushButton* browse_ = nullptr;
  QLabel* text_label_ = nullptr;
  QLabel* ctx_label_ = nullptr;
  QLabel* windows_label_ = nullptr;
  QListWidget* candidates_ = nullptr;
  QListWidget* uniform_ = nullptr;
  QLineEdit* text_file_ = nullptr;
  QSpinBox* ctx_ = nullptr;
  QSpinBox* max_windows_ = nullptr;
  QPushButton* run_button_ = nullptr;
  QLabel* status_ = nullptr;
  QTableWidget* table_ = nullptr;
  ComparisonChart* chart_ = nullptr;
  int job_id_ = 0;
  int generation_ = 0, running_generation_ = -1;  // set_model() calls: a result of an earlier model is dropped
  QFutureWatcher<CompareJobResult> watcher_;
  std::vector<CompareRow> rows_;
  QString last_error_;
};

}  // namespace lowbit
