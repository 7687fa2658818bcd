// The rope op (gpu/ops/rope_op.h) on every Vulkan device present: both pairings (neox and
// interleaved), full and partial rotary dimensions, several windows (row i at position i mod T),
// against a double-precision rotation by the same table; the table itself against cos/sin of the
// exact angles; and shape errors. Tolerances: 1e-6 relative to max |x| for the op, 2e-5 absolute
// for the table (fp32 angles up to T radians). Skips with a message where there is no Vulkan device.
#include "gpu/ops/rope_op.h"

#include <gtest/gtest.h>

#include <cmath>

#include "gpu_test_support.h"
#include "op_test_support.h"

namespace lowbit::gpu {
namespace {

std::vector<double> cpu_rope(RopeStyle style, const RopeShape& s, const std::vector<float>& table,
                             const std::vector<float>& x) {
  std::vector<double> y(x.begin(), x.end());
  const int64_t half = s.rotary_dim / 2;
  for (int64_t i = 0; i < s.rows; ++i)
    for (int64_t h = 0; h < s.heads; ++h)
      for (int64_t j = 0; j < half; ++j) {
        const int64_t t = i % s.T;
        const double c = table[static_cast<size_t>(t * half + j)];
        const double sn = table[static_cast<size_t>((s.T + t) * half + j)];
        const int64_t base = (i * s.heads + h) * s.head_dim;
        const int64_t a = base + (style == RopeStyle::Neox ? j : 2 * j);
        const int64_t b = base + (style == RopeStyle::Neox ? j + half : 2 * j + 1);
        const double x0 = x[static_cast<size_t>(a)], x1 = x[static_cast<size_t>(b)];
        y[static_cast<size_t>(a)] = x0 * c - x1 * sn;
        y[static_cast<size_t>(b)] = x1 * c + x0 * sn;
      }
  return y;
}

TEST(RopeOp, MatchesCpu) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  const RopeShape shapes[] = {{14, 3, 16, 16, 7}, {14, 3, 16, 8, 7}, {5, 1, 2, 2, 5}, {40, 2, 64, 48, 20}};
  for (auto& device : devices)
    for (const RopeStyle style : {RopeStyle::Neox, RopeStyle::Interleaved})
      for (const RopeShape& s : shapes) {
        const std::vector<float> x = random_floats(static_cast<size_t>(s.rows * s.heads * s.head_dim), 5);
        std::vector<float> y = x;
        auto r = rope(*device, style, s, 10000.0, y);
        ASSERT_TRUE(r.has_value()) << r.error().message;
        const auto want = cpu_rope(style, s, rope_table(10000.0, s.rotary_dim, s.T), x);
        EXPECT_LE(max_relative_error<std::vector<double>>(y, want), 1e-6)
            << device->info().name << (style == RopeStyle::Neox ? " neox" : " interleaved") << " rows " << s.rows
            << " head_dim " << s.head_dim << " rotary " << s.rotary_dim;
      }
}

TEST(RopeOp, TableHoldsTheAngles) {
  const int64_t rot = 64, T = 300, half = rot / 2;
  const double theta = 500000.0;
  const std::vector<float> table = rope_table(theta, rot, T);
  ASSERT_EQ(table.size(), static_cast<size_t>(2 * T * half));
  double err = 0;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < half; ++i) {
      const double angle = static_cast<double>(t) * std::pow(theta, -2.0 * static_cast<double>(i) / rot);
      err = std::max(err, std::abs(table[static_cast<size_t>(t * half + i)] - std::cos(angle)));
      err = std::max(err, std::abs(table[static_cast<size_t>((T + t) * half + i)] - std::sin(angle)));
    }
  EXPECT_LE(err, 2e-5);
}

TEST(RopeOp, Errors) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  std::vector<float> x(32);
  EXPECT_EQ(rope(*devices.front(), RopeStyle::Neox, {2, 2, 8, 9, 2}, 1e4, x).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(rope(*devices.front(), RopeStyle::Neox, {2, 2, 8, 3, 2}, 1e4, x).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(rope(*devices.front(), RopeStyle::Neox, {3, 2, 8, 8, 2}, 1e4, x).error().code, ErrorCode::InvalidArgument);
  EXPECT_TRUE(rope(*devices.front(), RopeStyle::Neox, {2, 2, 8, 8, 2}, 1e4, x).has_value());
}

}  // namespace
}  // namespace lowbit::gpu
