// Progress on stderr for the CLI: on a terminal a bar redrawn in place with percent, stage and
// ETA; otherwise (pipes, CI logs) plain lines at most every few seconds. Quiet mode prints nothing.
#pragma once

#include <chrono>
#include <string>

#include "core/jobs/progress.h"

namespace lowbit::cli {

class TerminalProgress {
 public:
  explicit TerminalProgress(bool quiet = false);
  ~TerminalProgress();
  // A Progress sink that reports to this terminal.
  Progress sink();
  void finish();

 private:
  void draw(const ProgressUpdate& u);
  bool quiet_, tty_, drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

std::string format_seconds(double s);

}  // namespace lowbit::cli
