#include "app/studio/job_center.h"

#include <QLocale>
#include <algorithm>
#include <cmath>

namespace lowbit {

double JobCenter::Job::eta_s() const {
  const double elapsed = static_cast<double>(clock.elapsed()) / 1000.0;
  if (state != State::Running || fraction <= 0.01 || elapsed < 1.0) return -1;
  return elapsed * (1.0 - fraction) / fraction;
}

JobCenter::JobCenter(QObject* parent) : QObject(parent) {}

JobCenter::~JobCenter() {
  cancel_all();
  for (QFuture<void>& f : running_) f.waitForFinished();
}

int JobCenter::add_job(const QString& title, std::shared_ptr<CancelToken> cancel, QFuture<void> future) {
  Job job;
  job.id = next_id_++;
  job.title = title;
  if (running_count() > 0) job.stage = tr("waiting for the running job to end");
  job.cancel = std::move(cancel);
  job.clock.start();
  const int id = job.id;
  jobs_.push_back(std::move(job));
  running_.erase(std::remove_if(running_.begin(), running_.end(), [](const QFuture<void>& f) { return f.isFinished(); }),
                 running_.end());
  running_.push_back(future);

  auto* watcher = new QFutureWatcher<void>(this);
  auto update = [this, id, watcher] {
    Job* j = find(id);
    if (!j || j->state != State::Running) return;
    const QFuture<void> f = watcher->future();
    j->fraction = std::clamp(static_cast<double>(f.progressValue()) / kSteps, 0.0, 1.0);
    const QString text = f.progressText();
    if (!text.isEmpty()) j->stage = text;
    emit job_changed(id);
  };
  connect(watcher, &QFutureWatcherBase::progressValueChanged, this, update);
  connect(watcher, &QFutureWatcherBase::progressTextChanged, this, update);
  connect(watcher, &QFutureWatcherBase::finished, watcher, &QObject::deleteLater);
  watcher->setFuture(future);
  emit job_added(id);
  return id;
}

void JobCenter::finish_job(int id, const QString& error, std::optional<bool> cancelled, const QStringList& warnings) {
  Job* j = find(id);
  if (!j) return;
  const bool was_cancelled = cancelled ? *cancelled : j->cancel && j->cancel->cancelled();
  j->state = !error.isEmpty() && !was_cancelled ? State::Failed : was_cancelled ? State::Cancelled : State::Done;
  j->message = error;
  j->seconds = static_cast<double>(j->clock.elapsed()) / 1000.0;
  if (j->state == State::Done) j->fraction = 1;
  const QString title = j->title;
  emit job_changed(id);
  emit job_finished(id);
  if (!error.isEmpty() && !was_cancelled) add_issue(title, error);
  for (const QString& w : warnings) add_issue(title, w);
}

JobCenter::Job* JobCenter::find(int id) {
  for (Job& j : jobs_)
    if (j.id == id) return &j;
  return nullptr;
}

const JobCenter::Job* JobCenter::job(int id) const {
  for (const Job& j : jobs_)
    if (j.id == id) return &j;
  return nullptr;
}

int JobCenter::running_count() const {
  return static_cast<int>(std::count_if(jobs_.begin(), jobs_.end(), [](const Job& j) { return j.state == State::Running; }));
}

void JobCenter::cancel(int id) {
  if (Job* j = find(id); j && j->state == State::Running && j->cancel) {
    j->cancel->cancel();
    j->stage = tr("Cancelling…");
    emit job_changed(id);
  }
}

void JobCenter::cancel_all() {
  for (const Job& j : jobs_)
    if (j.state == State::Running) cancel(j.id);
}

void JobCenter::clear_finished() {
  std::vector<Job> kept;
  for (Job& j : jobs_)
    if (j.state == State::Running) kept.push_back(std::move(j));
  jobs_ = std::move(kept);
  emit job_changed(0);
}

void JobCenter::add_issue(const QString& source, const QString& text) {
  issues_.push_back({QDateTime::currentDateTime(), source, text});
  emit issues_changed();
}

void JobCenter::clear_issues() {
  issues_.clear();
  emit issues_changed();
}

QString JobCenter::state_name(State s) {
  switch (s) {
    case State::Running: return tr("Running");
    case State::Done: return tr("Done");
    case State::Failed: return tr("Failed");
    case State::Cancelled: return tr("Cancelled");
  }
  return {};
}

QString JobCenter::eta_text(double seconds) {
  if (seconds < 0) return {};
  const int s = static_cast<int>(std::ceil(seconds));
  if (s < 60) return tr("about %n s left", nullptr, s);
  if (s < 3600) return tr("about %1 min %2 s left").arg(s / 60).arg(s % 60);
  return tr("about %1 h %2 min left").arg(s / 3600).arg((s % 3600) / 60);
}

}  // namespace lowbit
