// The Hessian accumulation's cooperative-matrix path (gpu/ops/hessian_op.h: hessian_scale.comp, hessian_split.comp and
// hessian_coop.comp) against XᵀX in double: each element within 2e-6 of Σ_t |x_ti x_tj| (the fp32
// path's own rounding is of that order; dropping the lo parts of the fp16 split would cost about
// 5e-4, a wrong channel scale an Inf). The inputs hold channels beyond fp16's range (1e6), tiny
// ones (1e-20), an all-zero one and one of mixed magnitudes; shapes cross the 128×128 tile and the
// 16-token step without being multiples of them; two batches accumulate with beta = 1. On every
// device through the emulated variant (its matrix operations written out); on devices with
// cooperative matrices through the real one (skips, naming the devices, where none has them).
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "gpu/ops/hessian_op.h"
#include "gpu_test_support.h"

namespace lowbit::gpu {
namespace {

std::vector<float> inputs(int64_t t, int64_t c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(t * c));
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j < c; ++j) {
      float v = d(rng) * (1.0f + static_cast<float>(j % 7));
      if (j % 11 == 3) v *= 1e6f;   // past fp16's 65504
      if (j % 13 == 5) v *= 1e-20f;  // below fp16's smallest subnormal
      if (j % 17 == 9) v = 0.0f;
      if (j % 19 == 2 && i % 5 == 0) v *= 3e4f;  // mixed magnitudes in one channel
      x[static_cast<size_t>(i * c + j)] = v;
    }
  return x;
}

// Worst (|H − want| − FLT_MIN)⁺ / Σ_t |x_ti x_tj| over the elements, H = alpha · Σ batches XᵀX.
double worst_error(const std::vector<float>& h, const std::vector<std::vector<float>>& batches, int64_t t, int64_t c, double alpha) {
  double worst = 0;
  for (int64_t i = 0; i < c; ++i)
    for (int64_t j = 0; j < c; ++j) {
      double want = 0, size = 0;
      for (const auto& x : batches)
        for (int64_t k = 0; k < t; ++k) {
          const double p = double(x[static_cast<size_t>(k * c + i)]) * double(x[static_cast<size_t>(k * c + j)]);
          want += p;
          size += std::abs(p);
        }
      const double got = h[static_cast<size_t>(i * c + j)];
      if (!std::isfinite(got)) return INFINITY;
      // Less than FLT_MIN off counts as exact: a device may flush fp32 subnormals to zero (NVIDIA's
      // does, in both paths), and the 1e-20 channels' products are subnormal.
      const double off = std::max(0.0, std::abs(got - alpha * want) - double(FLT_MIN));
      if (size > 0) worst = std::max(worst, off / (alpha * size));
      else if (got != 0) return INFINITY;
    }
  return worst;
}

void expect_close_to_fp32(Device& device, MatmulPath path) {
  struct Shape {
    int64_t t, c;
  };
  for (const Shape s : {Shape{1, 1}, Shape{37, 19}, Shape{300, 130}, Shape{45, 257}}) {
    SCOPED_TRACE("T=" + std::to_string(s.t) + " C=" + std::to_string(s.c));
    const auto a = inputs(s.t, s.c, 3), b = inputs(s.t, s.c, 4);
    const float alpha = 0.5f;
    std::vector<float> h(static_cast<size_t>(s.c * s.c), NAN), portable = h;  // beta = 0 must not read it
    ASSERT_TRUE(hessian_accumulate(device, a, s.t, s.c, alpha, 0.0f, h, path).has_value());
    ASSERT_TRUE(hessian_accumulate(device, a, s.t, s.c, alpha, 0.0f, portable, MatmulPath::Portable).has_value());
    const double one = worst_error(h, {a}, s.t, s.c, alpha), fp32 = worst_error(portable, {a}, s.t, s.c, alpha);
    ASSERT_TRUE(hessian_accumulate(device, b, s.t, s.c, alpha, 1.0f, h, path).has_value());
    const double two = worst_error(h, {a, b}, s.t, s.c, alpha);
    std::printf("[ %s ] %s T=%lld C=%lld: error %.3g (two batches %.3g) of Σ|x x|; the fp32 path %.3g\n", device.info().name.c_str(),
                matmul_path_name(path), static_cast<long long>(s.t), static_cast<long long>(s.c), one, two, fp32);
    EXPECT_LE(one, 2e-6);
    EXPECT_LE(two, 2e-6);
    for (int64_t i = 0; i < s.c; ++i)
      for (int64_t j = 0; j < i; ++j)
        ASSERT_EQ(h[static_cast<size_t>(i * s.c + j)], h[static_cast<size_t>(j * s.c + i)]) << "not symmetric at " << i << ", " << j;
  }
}

TEST(HessianCoop, PathIsChosenFromTheDeviceFeatures) {
  FOR_EACH_DEVICE({
    EXPECT_EQ(resolve_hessian_path(device, MatmulPath::Portable), MatmulPath::Portable);
    EXPECT_EQ(resolve_hessian_path(device, MatmulPath::CooperativeEmulated), MatmulPath::CooperativeEmulated);
    if (!device.features().cooperative_matrix) {
      EXPECT_EQ(resolve_hessian_path(device, MatmulPath::Cooperative), MatmulPath::Portable);
    }
  });
}

// The cooperative shader's scaling, splitting, staging, tiling and mirroring, its matrix operations written out.
TEST(HessianCoop, EmulatedSplitProductIsCloseToFp32) {
  FOR_EACH_DEVICE({ expect_close_to_fp32(device, MatmulPath::CooperativeEmulated); });
}

TEST(HessianCoop, SplitProductIsCloseToFp32) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  int ran = 0;
  const std::string without = on_devices_with(
      devices, [](Device& d) { return resolve_hessian_path(d, MatmulPath::Cooperative) == MatmulPath::Cooperative; },
      [](Device& d) {
        SCOPED_TRACE(d.info().name);
        expect_close_to_fp32(d, MatmulPath::Cooperative);
      },
      ran);
  if (ran == 0)
    GTEST_SKIP() << "no device here has cooperative matrices (" << without
                 << "); the shader was checked with its matrix operations written out (EmulatedSplitProductIsCloseToFp32)";
}

TEST(HessianCoop, TheCooperativePathNeedsItsScratch) {
  FOR_EACH_DEVICE({
    auto x = Buffer::create(device, 64, MemoryUse::Device);
    auto h = Buffer::create(device, 64, MemoryUse::Device);
    ASSERT_TRUE(x && h);
    auto rec = CommandRecorder::begin(device);
    ASSERT_TRUE(rec.has_value());
    auto r = record_hessian_accumulate(*rec, {4, 4}, 1.0f, 0.0f, *x, *h, MatmulPath::CooperativeEmulated);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
  });
}

}  // namespace
}  // namespace lowbit::gpu
