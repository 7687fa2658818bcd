// ProgressProbe (core/export/estimate.h): the probe of a job that holds the whole model. Jobs here
// are loops that report fractions and poll the cancel token as real jobs do, with a fixed pause per
// step, so the expected extrapolation is known: the probe must stop the job just past its stop
// fraction (two reports past the first one counted), extrapolate the rest at the measured rate, pass
// the caller's own cancellation on, measure a job that ends first whole, and hand back real errors.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/export/estimate.h"

namespace lowbit {
namespace {

struct Job {
  int steps = 20;
  double pause_ms = 4;            // per step
  double setup_ms = 0;            // before the first report
  int fail_at = -1;               // a job error at this step
  int reports_from = 0;           // steps below this report 0 (progress not yet moving)
  int done = 0;                   // steps run
};

std::optional<Error> run(Job& job, Progress& p, const CancelToken* cancel) {
  std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(job.setup_ms));
  for (int i = 0; i < job.steps; ++i) {
    if (cancel->cancelled()) return Error{ErrorCode::Cancelled, "cancelled"};
    if (i == job.fail_at) return Error{ErrorCode::Format, "step " + std::to_string(i) + " failed"};
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(job.pause_ms));
    ++job.done;
    p.report(i < job.reports_from ? 0.0 : static_cast<double>(i + 1) / job.steps, "step");
  }
  return std::nullopt;
}

TEST(ProgressProbe, StopsPastItsFractionAndExtrapolatesTheRate) {
  Job job;
  job.steps = 40;
  job.pause_ms = 5;
  job.setup_ms = 50;
  ProgressProbe probe(0.2);
  Progress p = probe.progress();
  const auto err = run(job, p, probe.cancel());
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, ErrorCode::Cancelled);
  EXPECT_EQ(job.done, 9) << "stopped at the first report past 0.2 (9/40)";
  auto e = probe.finish(err, 1.0);
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_DOUBLE_EQ(e->probed_fraction, 9.0 / 40.0);
  EXPECT_FALSE(e->streamed);
  EXPECT_GE(e->setup_seconds, 0.05);
  // 1 s of loading + the 50 ms setup + 40 steps of at least 5 ms.
  EXPECT_GE(e->seconds, 1.0 + 0.05 + 40 * 0.005 * 0.95);
  EXPECT_LT(e->seconds, 1.0 + 2.0) << "sleeps overrun, but not by seconds";
  EXPECT_GT(e->peak_rss_mb, 0.0);
}

TEST(ProgressProbe, MeasuresTheRateOnlyFromRateFrom) {
  // A slow first phase (to 0.5) and a fast second one: with rate_from 0.5 the rest is extrapolated
  // at the second phase's pace, so the estimate stays near the true total.
  struct Phased {
    static std::optional<Error> run(Progress& p, const CancelToken* cancel, int& done) {
      for (int i = 0; i < 40; ++i) {
        if (cancel->cancelled()) return Error{ErrorCode::Cancelled, "cancelled"};
        std::this_thread::sleep_for(std::chrono::milliseconds(i < 20 ? 10 : 1));
        ++done;
        p.report((i + 1) / 40.0, "step");
      }
      return std::nullopt;
    }
  };
  int done = 0;
  ProgressProbe probe(0.6, nullptr, 0.5);
  Progress p = probe.progress();
  auto e = probe.finish(Phased::run(p, probe.cancel(), done), 0);
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(done, 25);
  EXPECT_GE(e->seconds, 20 * 0.010 + 20 * 0.001);
  EXPECT_LT(e->seconds, 20 * 0.010 + 20 * 0.001 + 0.5);
  EXPECT_GE(e->setup_seconds, 0.2) << "the slow phase is measured as setup";
}

TEST(ProgressProbe, AJobThatEndsFirstIsMeasuredWhole) {
  Job job;
  job.steps = 3;
  ProgressProbe probe(0.5);
  Progress p = probe.progress();
  const auto err = run(job, p, probe.cancel());
  EXPECT_FALSE(err.has_value()) << "3 steps: 2 reports past the first come only at the end";
  auto e = probe.finish(err, 0.5);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->probed_fraction, 1.0);
  EXPECT_GE(e->seconds, 0.5 + 3 * 0.004 * 0.95);
}

TEST(ProgressProbe, PassesTheCallersCancelOnAndReturnsJobErrors) {
  CancelToken user;
  {
    Job job;
    ProgressProbe probe(0.9, &user);
    Progress p = probe.progress();
    user.cancel();  // Ctrl-C before the job reports
    job.reports_from = 0;
    const auto err = run(job, p, probe.cancel());
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(job.done, 1) << "the first report carries the user's cancel to the job";
    auto e = probe.finish(err, 0);
    ASSERT_FALSE(e) << "the user's cancel is the job's error, not an estimate";
    EXPECT_EQ(e.error().code, ErrorCode::Cancelled);
  }
  {
    Job job;
    job.fail_at = 5;
    ProgressProbe probe(0.9);
    Progress p = probe.progress();
    auto e = probe.finish(run(job, p, probe.cancel()), 0);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, ErrorCode::Format);
    EXPECT_EQ(e.error().message, "step 5 failed");
  }
  {
    // Progress that does not move (0) is not a rate: the probe waits for real reports.
    Job job;
    job.reports_from = 10;
    ProgressProbe probe(0.05);
    Progress p = probe.progress();
    const auto err = run(job, p, probe.cancel());
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(job.done, 13) << "first report above 0 at step 11, two more";
  }
}

}  // namespace
}  // namespace lowbit
