// The activation op (gpu/ops/activation_op.h) against core's formulas in double on every Vulkan
// device present: SiLU and GELU-tanh, gated (SwiGLU and its GELU sibling) and not, over a range
// that reaches both saturations (|x| up to 40, where an exp-based tanh overflows), and a size error.
// Tolerance 1e-6 relative to max |y|. Skips with a message where there is no Vulkan device.
#include "gpu/ops/activation_op.h"

#include <gtest/gtest.h>

#include <cmath>

#include "gpu_test_support.h"
#include "op_test_support.h"

namespace lowbit::gpu {
namespace {

double cpu_act(Activation act, double x) {
  if (act == Activation::Silu) return x / (1.0 + std::exp(-x));
  return 0.5 * x * (1.0 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

TEST(ActivationOp, MatchesCpu) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  const size_t n = 3001;
  std::vector<float> g = random_floats(n, 21, 4.0f);
  g[0] = 40.0f, g[1] = -40.0f, g[2] = 0.0f, g[3] = 9.0f, g[4] = -9.0f;
  const std::vector<float> u = random_floats(n, 22);
  for (auto& device : devices)
    for (const Activation act : {Activation::Silu, Activation::GeluTanh})
      for (const bool gated : {false, true}) {
        std::vector<float> y = g;
        auto r = activation(*device, act, y, gated ? std::span<const float>(u) : std::span<const float>());
        ASSERT_TRUE(r.has_value()) << r.error().message;
        std::vector<double> want(n);
        for (size_t i = 0; i < n; ++i) want[i] = cpu_act(act, g[i]) * (gated ? u[i] : 1.0);
        EXPECT_LE(max_relative_error<std::vector<double>>(y, want), 1e-6)
            << device->info().name << (act == Activation::Silu ? " silu" : " gelu") << (gated ? " gated" : "");
      }
}

TEST(ActivationOp, Errors) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  std::vector<float> g(8), u(7);
  EXPECT_EQ(activation(*devices.front(), Activation::Silu, g, u).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(activation(*devices.front(), Activation::Silu, {}, {}).error().code, ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace lowbit::gpu
