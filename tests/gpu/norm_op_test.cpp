// The norm op (gpu/ops/norm_op.h) against a double-precision loop with core's formulas on every
// Vulkan device present: RMSNorm and LayerNorm with bias, rows narrower and wider than the
// workgroup (128), and the per-head view qwen3's q/k norm uses. Tolerance 1e-5 relative to max |y|.
// Skips with a message where there is no Vulkan device.
#include "gpu/ops/norm_op.h"

#include <gtest/gtest.h>

#include <cmath>

#include "gpu_test_support.h"
#include "op_test_support.h"

namespace lowbit::gpu {
namespace {

std::vector<double> cpu_norm(NormKind kind, const std::vector<float>& x, const std::vector<float>& w,
                             const std::vector<float>& b, int64_t rows, int64_t cols, double eps) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x.data() + r * cols;
    double mean = 0, sq = 0;
    if (kind == NormKind::Layer) {
      for (int64_t c = 0; c < cols; ++c) mean += xr[c];
      mean /= static_cast<double>(cols);
    }
    for (int64_t c = 0; c < cols; ++c) sq += (xr[c] - mean) * (xr[c] - mean);
    const double inv = 1.0 / std::sqrt(sq / static_cast<double>(cols) + eps);
    for (int64_t c = 0; c < cols; ++c)
      y[static_cast<size_t>(r * cols + c)] = (xr[c] - mean) * inv * w[c] + (kind == NormKind::Layer ? b[c] : 0.0);
  }
  return y;
}

TEST(NormOp, MatchesCpu) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  struct Shape {
    int64_t rows, cols;
  };
  for (auto& device : devices)
    for (const NormKind kind : {NormKind::Rms, NormKind::Layer})
      for (const Shape s : {Shape{1, 1}, Shape{5, 64}, Shape{33, 300}, Shape{3, 1000}, Shape{64, 16}}) {
        // An offset mean, as residual streams have, makes LayerNorm's centring matter.
        std::vector<float> x = random_floats(static_cast<size_t>(s.rows * s.cols), 1, 2.0f);
        for (float& v : x) v += 0.5f;
        const std::vector<float> w = random_floats(static_cast<size_t>(s.cols), 2);
        const std::vector<float> b =
            kind == NormKind::Layer ? random_floats(static_cast<size_t>(s.cols), 3) : std::vector<float>{};
        const double eps = 1e-5;
        std::vector<float> y(x.size(), NAN);
        auto r = norm(*device, kind, {s.rows, s.cols}, static_cast<float>(eps), x, w, b, y);
        ASSERT_TRUE(r.has_value()) << r.error().message;
        const double err = max_relative_error<std::vector<double>>(y, cpu_norm(kind, x, w, b, s.rows, s.cols, eps));
        EXPECT_LE(err, 1e-5) << device->info().name << (kind == NormKind::Rms ? " rms" : " layer") << " rows " << s.rows
                             << " cols " << s.cols;
      }
}

TEST(NormOp, Errors) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  Device& device = *devices.front();
  std::vector<float> x(8, 1.0f), w(4, 1.0f), y(8);
  EXPECT_EQ(norm(device, NormKind::Rms, {0, 4}, 1e-5f, x, w, {}, y).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(norm(device, NormKind::Rms, {2, 4}, 1e-5f, x, w, w, y).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(norm(device, NormKind::Layer, {2, 4}, 1e-5f, x, w, {}, y).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(norm(device, NormKind::Rms, {3, 4}, 1e-5f, x, w, {}, y).error().code, ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace lowbit::gpu
