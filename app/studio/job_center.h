// JobCenter: every long job of the studio (plan, compare, export, analyze) starts here. A job is a
// function run on Qt's global thread pool with a core Progress sink and CancelToken; the center keeps
// one row per job (title, stage, fraction, ETA, state) for the jobs panel, cancels on request, and
// collects the warnings jobs return into the issues list the issues panel shows. The worker only
// touches its QPromise (thread-safe); rows are refreshed on the GUI thread from the future's
// signals, so a job that reports thousands of times per second costs the event loop nothing more
// than a coalesced repaint. Pages keep the returned QFuture to take the job's result.
//
// A job's result type may carry `QString error`, `bool cancelled` and `QStringList warnings`; when
// it does, the center reads them for the row's state and the issues list.
#pragma once

#include <QDateTime>
#include <QElapsedTimer>
#include <QFuture>
#include <QFutureWatcher>
#include <QObject>
#include <QPromise>
#include <QStringList>
#include <QtConcurrent>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "app/studio/job_support.h"
#include "app/studio/studio_settings.h"
#include "core/jobs/progress.h"

namespace lowbit {

class JobCenter : public QObject {
  Q_OBJECT

 public:
  enum class State { Running, Done, Failed, Cancelled };
  static constexpr int kSteps = 1000;  // progress resolution of a job's QPromise

  struct Job {
    int id = 0;
    QString title;
    QString stage;
    double fraction = 0;
    State state = State::Running;
    QString message;  // the error of a failed job
    QElapsedTimer clock;
    double seconds = 0;  // how long it ran, once it ended
    std::shared_ptr<CancelToken> cancel;
    // Seconds left at the rate so far, -1 while unknown (before 1 % and 1 s: early guesses swing
    // wildly). Computed from the clock, so it counts down between progress reports.
    double eta_s() const;
  };

  struct Issue {
    QDateTime when;
    QString source;  // the job's title
    QString text;
  };

  explicit JobCenter(QObject* parent = nullptr);
  // Cancels every running job and waits for it.
  ~JobCenter() override;

  // Runs fn(progress, cancel) on the heavy jobs' pool (job_support.h: one job at a time, the others
  // waiting); returns its future, which always holds one result: an exception out of fn is a failed
  // result naming it, and a job cancelled while it waited returns at once, cancelled.
  template <class R>
  QFuture<R> run(const QString& title, std::function<R(Progress&, const CancelToken&)> fn) {
    auto cancel = std::make_shared<CancelToken>();
    QFuture<R> future = QtConcurrent::run(heavy_job_pool(), [fn = std::move(fn), cancel](QPromise<R>& promise) {
      use_studio_threads();  // the Settings' thread count (OpenMP keeps one per thread)
      promise.setProgressRange(0, kSteps);
      Progress progress([&promise](const ProgressUpdate& u) {
        promise.setProgressValueAndText(static_cast<int>(u.fraction * kSteps + 0.5), QString::fromStdString(u.stage));
      });
      if constexpr (requires(R r) { r.error = QString(); r.cancelled = true; }) {
        if (cancel->cancelled()) {
          R r{};
          promise.addResult(job_failed(r, Error{ErrorCode::Cancelled, "cancelled"}));
          return;
        }
        promise.addResult(run_guarded<R>([&] { return fn(progress, *cancel); }));
      } else {
        promise.addResult(fn(progress, *cancel));
      }
    });
    const int id = add_job(title, cancel, QFuture<void>(future));
    auto* watcher = new QFutureWatcher<R>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, id] {
      const QFuture<R> f = watcher->future();
      QString error;
      std::optional<bool> cancelled;  // what the result says, where it says it (a late Cancel does not undo a finished job)
      QStringList warnings;
      if (f.resultCount() > 0) {
        const R& r = f.result();
        if constexpr (requires { r.error; }) error = r.error;
        if constexpr (requires { r.cancelled; }) cancelled = r.cancelled;
        if constexpr (requires { r.warnings; }) warnings = r.warnings;
      }
      finish_job(id, error, cancelled, warnings);
      watcher->deleteLater();
    });
    watcher->setFuture(future);
    return future;
  }

  const std::vector<Job>& jobs() const { return jobs_; }
  const Job* job(int id) const;
  int running_count() const;
  void cancel(int id);
  void cancel_all();
  // Removes the rows of jobs that ended.
  void clear_finished();

  const std::vector<Issue>& issues() const { return issues_; }
  void add_issue(const QString& source, const QString& text);
  void clear_issues();

  static QString state_name(State s);
  // "about 2 min 10 s left", "" while unknown.
  static QString eta_text(double seconds);

 signals:
  void job_added(int id);
  void job_changed(int id);
  void job_finished(int id);
  void issues_changed();

 private:
  int add_job(const QString& title, std::shared_ptr<CancelToken> cancel, QFuture<void> future);
  // `cancelled`: the result's word; without one, whether the job's token was set.
  void finish_job(int id, const QString& error, std::optional<bool> cancelled, const QStringList& warnings);
  Job* find(int id);

  std::vector<Job> jobs_;
  std::vector<QFuture<void>> running_;  // waited for on destruction
  std::vector<Issue> issues_;
  int next_id_ = 1;
};

}  // namespace lowbit
