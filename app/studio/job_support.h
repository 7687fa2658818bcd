// What the studio's job functions (plan, compare, export) share: Qt ↔ std strings and paths, a core
// error turned into the job's result, and opening + loading the model at the start of a job.
#pragma once

#include <QString>
#include <QThreadPool>
#include <QStringList>
#include <exception>
#include <new>
#include <string>

#include "core/jobs/progress.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "core/util/expected.h"

namespace lowbit {

inline QString qstr(const std::string& s) { return QString::fromStdString(s); }
// A path of the file dialogs in the encoding of the file system.
std::string path_str(const QString& path);

// What every job result carries besides its payload, read by JobCenter (state, issues) and set by
// job_failed(): the error of a failed job, whether it was cancelled, its warnings and its run time.
struct JobOutcome {
  double seconds = 0;
  QString error;
  bool cancelled = false;
  QStringList warnings;
};

// `r` marked failed (or cancelled, for ErrorCode::Cancelled) with the message of `e`; R is one of
// the job results JobCenter reads (`QString error`, `bool cancelled`).
template <class R>
R job_failed(R& r, const Error& e) {
  r.cancelled = e.code == ErrorCode::Cancelled;
  r.error = qstr(e.message);
  return r;
}

// Runs `fn` and returns its result; an exception out of it (out of memory, an internal error) becomes
// a failed result naming it rather than a future without a result, which would read as "done" and
// throw again when waited for.
template <class R, class F>
R run_guarded(F&& fn) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    R r{};
    return job_failed(r, Error{ErrorCode::OutOfMemory, "out of memory: the job needed more memory than this machine has free"});
  } catch (const std::exception& e) {
    R r{};
    return job_failed(r, Error{ErrorCode::Format, std::string("internal error: ") + e.what()});
  } catch (...) {
    R r{};
    return job_failed(r, Error{ErrorCode::Format, "internal error: an unknown exception"});
  }
}

// The pool the heavy jobs (plan, compare, export, analyze) run on: one at a time, so that two jobs on
// a large model do not hold two fp32 copies of it, and the global pool stays free for model opening
// and the histograms. A job started while another runs waits for it.
QThreadPool* heavy_job_pool();

struct LoadedModel {
  Model model;
  ModelWeights weights;
};

// Sizes and durations as estimates show them: "3.79 GB" / "412.0 MB"; "45 s" / "12 min" / "3.9 h".
QString byte_size(double bytes);
QString duration(double seconds);

// Opens the checkpoint at `path` with its tokenizer and loads its weights, reporting "opening the
// model" and then the load over the first 5 % of `progress`.
Expected<LoadedModel> open_and_load(const QString& path, Progress& progress);

}  // namespace lowbit
