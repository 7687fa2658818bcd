// The add op (gpu/ops/add_op.h) on every Vulkan device present: the residual Y += X and the bias
// Y[r, :] += b are exact in fp32, so they must equal the CPU's float additions bit for bit; and
// size errors. Skips with a message where there is no Vulkan device.
#include "gpu/ops/add_op.h"

#include <gtest/gtest.h>

#include "gpu_test_support.h"
#include "op_test_support.h"

namespace lowbit::gpu {
namespace {

TEST(AddOp, ResidualAndBiasAreExact) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  const int64_t rows = 37, cols = 70;
  const std::vector<float> y0 = random_floats(rows * cols, 31), x = random_floats(rows * cols, 32);
  const std::vector<float> b = random_floats(cols, 33);
  for (auto& device : devices) {
    std::vector<float> y = y0;
    ASSERT_TRUE(add(*device, y, x).has_value());
    for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(y[i], y0[i] + x[i]) << device->info().name << " at " << i;
    y = y0;
    ASSERT_TRUE(add_bias(*device, y, b).has_value());
    for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(y[i], y0[i] + b[i % cols]) << device->info().name << " at " << i;
  }
}

TEST(AddOp, Errors) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  std::vector<float> y(10), x(9), b(3);
  EXPECT_EQ(add(*devices.front(), y, x).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(add_bias(*devices.front(), y, b).error().code, ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace lowbit::gpu
