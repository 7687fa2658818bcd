// The matmul op (gpu/ops/matmul_op.h) against a plain CPU loop on every Vulkan device present, for
// fp32 and fp16 weights and shapes that are and are not multiples of the 64×64 output tile.
// Tolerances are relative to max |y|: 1e-5 for both variants, the fp16 one compared with the CPU
// product of the fp16-rounded weights. Also: two products chained on device buffers in one
// submission, and shape errors. Every other weight format: matmul_dequant_test.cpp. Skips with a
// message where there is no Vulkan device.
#include "gpu/ops/matmul_op.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/tensor/half.h"
#include "gpu/device/device.h"
#include "gpu_test_support.h"

namespace lowbit::gpu {
namespace {

struct Shape {
  int64_t m, n, k;
};
const Shape kShapes[] = {{1, 1, 1}, {17, 33, 65}, {128, 96, 256}, {1, 100, 300}, {40, 3, 17}, {70, 130, 40}};

std::vector<float> random_values(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// The oracle: Y = X · Wᵀ in double.
std::vector<float> cpu_matmul(const std::vector<float>& x, const std::vector<float>& w, int64_t m, int64_t n,
                              int64_t k) {
  std::vector<float> y(m * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0.0;
      for (int64_t t = 0; t < k; ++t) acc += double(x[i * k + t]) * double(w[j * k + t]);
      y[i * n + j] = static_cast<float>(acc);
    }
  return y;
}

// max |got - want| / max |want|.
double max_relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  double err = 0.0, scale = 0.0;
  for (size_t i = 0; i < want.size(); ++i) {
    err = std::max(err, std::abs(double(got[i]) - double(want[i])));
    scale = std::max(scale, std::abs(double(want[i])));
  }
  return err / std::max(scale, 1e-30);
}

constexpr double kTolerance = 1e-5;

TEST(MatmulOp, F32WeightsMatchTheCpu) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  for (auto& device : devices) {
    for (const Shape& s : kShapes) {
      const auto x = random_values(s.m * s.k, 1);
      const auto w = random_values(s.n * s.k, 2);
      std::vector<float> y(s.m * s.n, NAN);
      auto done = matmul(*device, x, w, s.m, s.n, s.k, y);
      ASSERT_TRUE(done.has_value()) << done.error().message;
      const double err = max_relative_error(y, cpu_matmul(x, w, s.m, s.n, s.k));
      std::printf("[ %s ] matmul_f32 %lldx%lldx%lld: max relative error %.3g\n", device->info().name.c_str(),
                  (long long)s.m, (long long)s.n, (long long)s.k, err);
      EXPECT_LE(err, kTolerance) << device->info().name << " M=" << s.m << " N=" << s.n << " K=" << s.k;
    }
  }
}

TEST(MatmulOp, F16WeightsMatchTheCpuOnRoundedWeights) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  for (auto& device : devices) {
    for (const Shape& s : kShapes) {
      const auto x = random_values(s.m * s.k, 3);
      const auto w32 = random_values(s.n * s.k, 4);
      std::vector<uint16_t> w16(w32.size());
      std::vector<float> rounded(w32.size());
      for (size_t i = 0; i < w32.size(); ++i) {
        w16[i] = f32_to_f16(w32[i]);
        rounded[i] = f16_to_f32(w16[i]);
      }
      std::vector<float> y(s.m * s.n, NAN);
      auto done = matmul(*device, x, w16, s.m, s.n, s.k, y);
      ASSERT_TRUE(done.has_value()) << done.error().message;
      const double err = max_relative_error(y, cpu_matmul(x, rounded, s.m, s.n, s.k));
      std::printf("[ %s ] matmul_f16 %lldx%lldx%lld: max relative error %.3g\n", device->info().name.c_str(),
                  (long long)s.m, (long long)s.n, (long long)s.k, err);
      EXPECT_LE(err, kTolerance) << device->info().name << " M=" << s.m << " N=" << s.n << " K=" << s.k;
    }
  }
}

// Z = (X · W1ᵀ) · W2ᵀ recorded on device buffers and run as one submission: how a forward pass chains ops.
TEST(MatmulOp, ChainsOnDeviceBuffersInOneSubmission) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  const int64_t m = 5, k = 37, h = 20, n = 9;
  const auto x = random_values(m * k, 5), w1 = random_values(h * k, 6), w2 = random_values(n * h, 7);
  const auto want = cpu_matmul(cpu_matmul(x, w1, m, h, k), w2, m, n, h);
  for (auto& device : devices) {
    Device& d = *device;
    auto xb = Buffer::create(d, x.size() * 4, MemoryUse::Device);
    auto w1b = Buffer::create(d, w1.size() * 4, MemoryUse::Device);
    auto w2b = Buffer::create(d, w2.size() * 4, MemoryUse::Device);
    auto yb = Buffer::create(d, m * h * 4, MemoryUse::Device);
    auto zb = Buffer::create(d, m * n * 4, MemoryUse::Device);
    ASSERT_TRUE(xb && w1b && w2b && yb && zb);
    auto rec = CommandRecorder::begin(d);
    ASSERT_TRUE(rec.has_value()) << rec.error().message;
    ASSERT_TRUE(rec->upload(*xb, std::as_bytes(std::span(x))).has_value());
    ASSERT_TRUE(rec->upload(*w1b, std::as_bytes(std::span(w1))).has_value());
    ASSERT_TRUE(rec->upload(*w2b, std::as_bytes(std::span(w2))).has_value());
    rec->barrier();
    ASSERT_TRUE(record_matmul(*rec, {m, h, k}, Format::float_type(DType::F32), *xb, *w1b, *yb).has_value());
    rec->barrier();
    ASSERT_TRUE(record_matmul(*rec, {m, n, h}, Format::float_type(DType::F32), *yb, *w2b, *zb).has_value());
    rec->barrier();
    std::vector<float> z(m * n, NAN);
    ASSERT_TRUE(rec->download(*zb, std::as_writable_bytes(std::span(z))).has_value());
    auto done = rec->submit_and_wait();
    ASSERT_TRUE(done.has_value()) << done.error().message;
    EXPECT_LE(max_relative_error(z, want), kTolerance) << d.info().name;
  }
}

TEST(MatmulOp, WrongShapesAreInvalidArguments) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  Device& d = *devices.front();
  std::vector<float> x(6), w(12), y(8);
  EXPECT_TRUE(matmul(d, x, w, 2, 4, 3, y).has_value());
  auto short_x = matmul(d, std::span(x).first(5), w, 2, 4, 3, y);
  ASSERT_FALSE(short_x.has_value());
  EXPECT_EQ(short_x.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(short_x.error().message.find("M=2, N=4, K=3"), std::string::npos) << short_x.error().message;
  auto zero = matmul(d, std::span<const float>(), std::span<const float>(), 0, 4, 3, std::span<float>());
  ASSERT_FALSE(zero.has_value());
  EXPECT_EQ(zero.error().code, ErrorCode::InvalidArgument);
  auto small_y = Buffer::create(d, 4, MemoryUse::Device);
  auto xb = Buffer::create(d, 24, MemoryUse::Device);
  auto wb = Buffer::create(d, 48, MemoryUse::Device);
  ASSERT_TRUE(small_y && xb && wb);
  auto rec = CommandRecorder::begin(d);
  ASSERT_TRUE(rec.has_value());
  auto too_small = record_matmul(*rec, {2, 4, 3}, Format::float_type(DType::F32), *xb, *wb, *small_y);
  ASSERT_FALSE(too_small.has_value());
  EXPECT_EQ(too_small.error().code, ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace lowbit::gpu
