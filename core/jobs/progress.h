// Progress and cancellation for long jobs. A job reports through a Progress sink (fraction done,
// stage text; the sink derives the ETA) at natural steps — per layer, per window, per column
// block — and polls a CancelToken at the same points, returning ErrorCode::Cancelled when set.
// Qt-free: the studio adapts these to signals, the CLI to a terminal bar.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

namespace lowbit {

class CancelToken {
 public:
  void cancel() { flag_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return flag_.load(std::memory_order_relaxed); }
  void reset() { flag_.store(false, std::memory_order_relaxed); }

 private:
  std::atomic<bool> flag_{false};
};

struct ProgressUpdate {
  double fraction = 0;       // 0..1 of the whole job
  std::string stage;         // "evaluating window 12/160"
  double elapsed_s = 0;
  double eta_s = -1;         // -1 while unknown
};

// A sink that computes elapsed time and ETA and forwards updates to a callback. Thread-safe to call
// from one worker at a time; the callback runs on the caller's thread.
class Progress {
 public:
  using Callback = std::function<void(const ProgressUpdate&)>;
  Progress() = default;
  explicit Progress(Callback cb) : cb_(std::move(cb)) {}

  void report(double fraction, const std::string& stage);
  // A sub-range of this job's fraction, for composing steps (e.g. load 0..0.1, evaluate 0.1..1).
  Progress sub(double begin, double end) const;

 private:
  Callback cb_;
  double begin_ = 0, end_ = 1;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Seconds from t0 to now on the steady clock: the durations the jobs' reports give.
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace lowbit
