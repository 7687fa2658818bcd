// The Hessian accumulation op (gpu/ops/hessian_op.h) against the core's InputStats (the oracle,
// double accumulation) on every Vulkan device present: one batch, several batches summed with beta = 1
// and alpha = 2/n, shapes that are and are not multiples of the 16×16 tile, and shape errors.
// Tolerance: 1e-5 relative to max |H|. Skips with a message where there is no Vulkan device.
#include "gpu/ops/hessian_op.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/calib/calibration.h"
#include "gpu/ops/column_stats_op.h"
#include "gpu_test_support.h"

namespace lowbit::gpu {
namespace {

MatrixRM random_inputs(int64_t t, int64_t c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  MatrixRM x(t, c);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = d(rng) * (1.0f + static_cast<float>(i % c) / 8.0f);
  return x;
}

double max_relative_error(std::span<const float> got, const MatrixRM& want) {
  double err = 0, scale = 0;
  for (int64_t i = 0; i < want.size(); ++i) {
    err = std::max(err, std::abs(double(got[i]) - want.data()[i]));
    scale = std::max(scale, std::abs(double(want.data()[i])));
  }
  return scale > 0 ? err / scale : err;
}

TEST(HessianOp, OneBatchMatchesInputStats) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  struct Shape { int64_t t, c; };
  for (auto& device : devices)
    for (const Shape s : {Shape{1, 1}, Shape{37, 19}, Shape{256, 64}, Shape{100, 130}, Shape{21, 300}}) {  // 300: three 128-wide tiles a side
      const MatrixRM x = random_inputs(s.t, s.c, 3);
      InputStats st(s.c);
      st.add(x);
      std::vector<float> h(static_cast<size_t>(s.c * s.c), NAN);  // beta = 0 must not read it
      auto r = hessian_accumulate(*device, {x.data(), static_cast<size_t>(x.size())}, s.t, s.c,
                                  2.0f / static_cast<float>(s.t), 0.0f, h);
      ASSERT_TRUE(r.has_value()) << r.error().message;
      const double err = max_relative_error(h, st.hessian());
      std::printf("[ %s ] hessian T=%lld C=%lld: max relative error %.3g\n", device->info().name.c_str(), (long long)s.t,
                  (long long)s.c, err);
      EXPECT_LE(err, 1e-5) << device->info().name << " T=" << s.t << " C=" << s.c;
    }
}

TEST(HessianOp, BatchesAccumulateOnTheDevice) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  const int64_t c = 48, t = 40, batches = 3, n = t * batches;
  for (auto& device : devices) {
    InputStats st(c);
    auto hb = Buffer::create(*device, c * c * sizeof(float), MemoryUse::Device);
    ASSERT_TRUE(hb.has_value()) << hb.error().message;
    std::vector<Buffer> xs;
    auto rec = CommandRecorder::begin(*device);
    ASSERT_TRUE(rec.has_value()) << rec.error().message;
    for (int64_t b = 0; b < batches; ++b) {
      const MatrixRM x = random_inputs(t, c, 10 + static_cast<uint32_t>(b));
      st.add(x);
      auto xb = Buffer::create(*device, x.size() * sizeof(float), MemoryUse::Device);
      ASSERT_TRUE(xb.has_value());
      ASSERT_TRUE(rec->upload(*xb, std::as_bytes(std::span<const float>(x.data(), static_cast<size_t>(x.size())))).has_value());
      xs.push_back(std::move(*xb));
    }
    rec->barrier();
    for (int64_t b = 0; b < batches; ++b) {
      ASSERT_TRUE(record_hessian_accumulate(*rec, {t, c}, 2.0f / static_cast<float>(n), b == 0 ? 0.0f : 1.0f,
                                            xs[static_cast<size_t>(b)], *hb)
                      .has_value());
      rec->barrier();
    }
    std::vector<float> h(static_cast<size_t>(c * c));
    ASSERT_TRUE(rec->download(*hb, std::as_writable_bytes(std::span<float>(h))).has_value());
    ASSERT_TRUE(rec->submit_and_wait().has_value());
    EXPECT_LE(max_relative_error(h, st.hessian()), 1e-5) << device->info().name;
  }
}

// More tokens than lavapipe lets one shader loop run (65535 iterations over an invocation's life;
// gpu/ops/op_support.h): both calibration statistics walk tokens in unrolled chunks, so a long
// calibration batch is still summed in full.
TEST(HessianOp, LongBatchesPassLavapipesLoopLimit) {
  const int64_t T = 70000, C = 16;
  const MatrixRM x = random_inputs(T, C, 5);
  InputStats st(C);
  st.add(x);
  std::vector<double> want_sum(static_cast<size_t>(C), 0.0);
  std::vector<float> want_max(static_cast<size_t>(C), 0.0f);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < C; ++c) {
      want_sum[static_cast<size_t>(c)] += std::abs(double(x(t, c)));
      want_max[static_cast<size_t>(c)] = std::max(want_max[static_cast<size_t>(c)], std::abs(x(t, c)));
    }
  FOR_EACH_DEVICE({
    std::vector<float> h(static_cast<size_t>(C * C), NAN);
    auto r = hessian_accumulate(device, {x.data(), static_cast<size_t>(x.size())}, T, C, 2.0f / static_cast<float>(T),
                                0.0f, h);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    // 70000 fp32 products per element, summed in another order than the CPU's (and fused on GPUs
    // that fuse): 1.01e-5 on an H100.
    EXPECT_LE(max_relative_error(h, st.hessian()), 3e-5);
    std::vector<float> sums(static_cast<size_t>(C), 0.0f), maxes(static_cast<size_t>(C), 0.0f);
    auto s = column_abs_stats(device, {x.data(), static_cast<size_t>(x.size())}, T, C, sums, maxes);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    for (int64_t c = 0; c < C; ++c) {
      EXPECT_NEAR(sums[static_cast<size_t>(c)], want_sum[static_cast<size_t>(c)], 1e-4 * want_sum[static_cast<size_t>(c)]) << c;
      EXPECT_EQ(maxes[static_cast<size_t>(c)], want_max[static_cast<size_t>(c)]) << c;
    }
  });
}

TEST(HessianOp, WrongShapesAreErrors) {
  EXPECT_EQ(HessianShape({0, 4}).validate().error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(HessianShape({4, -1}).validate().error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(HessianShape({1, int64_t{1} << 17}).validate().error().code, ErrorCode::Unsupported);
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  std::vector<float> x(10), h(9);
  auto r = hessian_accumulate(*devices[0], x, 4, 3, 1.0f, 0.0f, h);  // x should hold 12 floats
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace lowbit::gpu
