#include "app/cli/terminal_progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace lowbit::cli {

std::string format_seconds(double s) {
  if (s < 0) return "?";
  char buf[32];
  const long t = std::lround(s);
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

TerminalProgress::TerminalProgress(bool quiet) : quiet_(quiet), tty_(::isatty(STDERR_FILENO) != 0) {}

TerminalProgress::~TerminalProgress() { finish(); }

Progress TerminalProgress::sink() {
  return Progress([this](const ProgressUpdate& u) { draw(u); });
}

void TerminalProgress::draw(const ProgressUpdate& u) {
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  const bool done = u.fraction >= 1.0;
  if (tty_) {
    if (since < 0.1 && !done) return;
    constexpr int kWidth = 28;
    const int filled = static_cast<int>(u.fraction * kWidth);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r\033[K[%s] %5.1f%%  %s  elapsed %s  ETA %s", bar.c_str(), 100.0 * u.fraction, u.stage.c_str(),
                 format_seconds(u.elapsed_s).c_str(), format_seconds(u.eta_s).c_str());
    drawn_ = true;
  } else {
    if (since < 5.0 && !done) return;
    std::fprintf(stderr, "%5.1f%%  %s  elapsed %s  ETA %s\n", 100.0 * u.fraction, u.stage.c_str(),
                 format_seconds(u.elapsed_s).c_str(), format_seconds(u.eta_s).c_str());
  }
  std::fflush(stderr);
  last_ = now;
}

void TerminalProgress::finish() {
  if (tty_ && drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace lowbit::cli
