#include "core/jobs/progress.h"

#include <algorithm>

namespace lowbit {

void Progress::report(double fraction, const std::string& stage) {
  if (!cb_) return;
  fraction = std::clamp(fraction, 0.0, 1.0);
  ProgressUpdate u;
  u.fraction = begin_ + (end_ - begin_) * fraction;
  u.stage = stage;
  u.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (u.fraction > 0.01 && u.elapsed_s > 0.5) u.eta_s = u.elapsed_s * (1.0 - u.fraction) / u.fraction;
  cb_(u);
}

Progress Progress::sub(double begin, double end) const {
  Progress p(cb_);
  p.begin_ = begin_ + (end_ - begin_) * begin;
  p.end_ = begin_ + (end_ - begin_) * end;
  p.start_ = start_;
  return p;
}

}  // namespace lowbit
