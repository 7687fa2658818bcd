// AWQ's clip search on every Vulkan device against core's awq_clip_int (the oracle): for int-family
// layers (asymmetric and symmetric, grouped and per-row, 2 to 8 bits, fp16 scales, a partial last
// block of invocations) with heavy-tailed weights and a Hessian with outlier channels, the GPU's
// grids and codes are the CPU's in at least 99.5 % of the groups (each group's choice compares
// double sums taken in another order, so near-ties may go either way; the count is printed), the
// errors before and after agree within 1e-9 and 1e-6 relative, the mean ratio within 1e-3, and the
// search never raises the error. Layers the shader does not take (ggml types, groups over 1024
// weights, and on lavapipe a search whose loops would pass its 65535-iteration limit) are
// Unsupported, and awq_clip() then gives the CPU's result; bad shapes are errors.
#include "gpu/ops/awq_clip_op.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "gpu_test_support.h"

namespace lowbit::gpu {
namespace {

MatrixRM heavy_tailed_weights(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::student_t_distribution<float> t(3.0f);
  MatrixRM w(rows, cols);
  for (int64_t i = 0; i < w.size(); ++i) w.data()[i] = 0.02f * t(rng);
  return w;
}

// H = 2/n XᵀX with correlated channels and a few outlier channels.
MatrixRM hessian(int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  const int64_t tokens = 2 * cols;
  MatrixRM x(tokens, cols);
  for (int64_t t = 0; t < tokens; ++t) {
    const float common = n(rng);
    for (int64_t c = 0; c < cols; ++c) x(t, c) = (n(rng) + 0.3f * common) * (c % 37 == 5 ? 8.0f : 1.0f);
  }
  return (x.transpose() * x) * (2.0f / static_cast<float>(tokens));
}

struct Case {
  const char* format;
  int64_t rows, cols;
  bool fp16_scales;
};

TEST(AwqClipOp, ChoicesAndErrorsMatchTheCpu) {
  const Case cases[] = {{"int4g128a", 24, 256, false}, {"int3g32s", 16, 192, false}, {"int2g64a", 12, 256, true},
                        {"int8g32a", 8, 128, false},   {"int4g0a", 10, 300, false},  {"int3g512s", 6, 1024, true},
                        {"int4g0a", 2, 1000, false}};
  AwqOptions options;
  FOR_EACH_DEVICE({
    if (!device.features().shader_float64 || !device.features().subgroup_arithmetic) {
      std::printf("[ %s ] no double or subgroup arithmetic: the clip search stays on the CPU\n",
                  device.info().name.c_str());
      continue;
    }
    uint32_t seed = 40;
    for (const Case& c : cases) {
      const Format f = *Format::parse(c.format);
      const MatrixRM w = heavy_tailed_weights(c.rows, c.cols, ++seed);
      const MatrixRM h = hessian(c.cols, ++seed);
      const AwqClipResult want = lowbit::awq_clip_int(w, h, f, options, c.fp16_scales);
      auto got = awq_clip_int(device, w, h, f, options, c.fp16_scales);
      ASSERT_TRUE(got.has_value()) << c.format << ": " << got.error().message;
      ASSERT_EQ(got->tensor.codes.size(), want.tensor.codes.size());
      ASSERT_EQ(got->tensor.grids.size(), want.tensor.grids.size());
      const int64_t groups = want.tensor.groups(), size = f.group_size(c.cols);
      int64_t same = 0;
      for (int64_t r = 0; r < c.rows; ++r)
        for (int64_t g = 0; g < groups; ++g) {
          const size_t gi = static_cast<size_t>(r * groups + g);
          bool equal = got->tensor.grids[gi].scale == want.tensor.grids[gi].scale &&
                       got->tensor.grids[gi].zero == want.tensor.grids[gi].zero;
          for (int64_t i = 0; i < size && equal; ++i) {
            const size_t k = static_cast<size_t>(r * c.cols + g * size + i);
            equal = got->tensor.codes[k] == want.tensor.codes[k];
          }
          same += equal ? 1 : 0;
        }
      const double share = static_cast<double>(same) / static_cast<double>(c.rows * groups);
      const double rel_before = std::abs(got->error_before - want.error_before) / want.error_before;
      const double rel_after = std::abs(got->error_after - want.error_after) / want.error_after;
      std::printf(
          "[ %s ] clip %-9s %lldx%lld: %lld of %lld groups as the CPU, error %.6g -> %.6g "
          "(CPU %.6g -> %.6g), mean ratio %.4f (CPU %.4f)\n",
          device.info().name.c_str(), c.format, static_cast<long long>(c.rows), static_cast<long long>(c.cols),
          static_cast<long long>(same), static_cast<long long>(c.rows * groups), got->error_before, got->error_after,
          want.error_before, want.error_after, got->mean_shrink, want.mean_shrink);
      EXPECT_GE(share, 0.995) << c.format;
      EXPECT_LE(rel_before, 1e-9) << c.format;
      EXPECT_LE(rel_after, 1e-6) << c.format;
      EXPECT_NEAR(got->mean_shrink, want.mean_shrink, 1e-3) << c.format;
      EXPECT_LE(got->error_after, got->error_before * (1 + 1e-12)) << c.format;
      EXPECT_LT(want.error_after, want.error_before) << c.format << ": the case should exercise clipping";
    }
  });
}

TEST(AwqClipOp, OtherLayersAreLeftToTheCpu) {
  AwqOptions options;
  FOR_EACH_DEVICE({
    const MatrixRM w = heavy_tailed_weights(4, 2048, 1);
    const MatrixRM h = hessian(2048, 2);
    // Groups over the shader's 1024 weights.
    auto big = awq_clip_int(device, w, h, *Format::parse("int4g0a"), options);
    ASSERT_FALSE(big.has_value());
    EXPECT_EQ(big.error().code, ErrorCode::Unsupported) << big.error().message;
    auto ggml = awq_clip_int(device, w, h, Format::ggml(DType::Q4_K), options);
    ASSERT_FALSE(ggml.has_value());
    EXPECT_EQ(ggml.error().code, ErrorCode::Unsupported) << ggml.error().message;
    // Through awq_clip(), the CPU answers what the backend leaves.
    AwqOptions with_backend = options;
    with_backend.clip_backend = vulkan_awq_clip(device);
    const Format f = *Format::parse("int4g0a");
    auto fallback = awq_clip(w, h, f, with_backend);
    ASSERT_TRUE(fallback.has_value()) << fallback.error().message;
    const AwqClipResult cpu = lowbit::awq_clip_int(w, h, f, options);
    EXPECT_EQ(fallback->tensor.codes, cpu.tensor.codes);
    EXPECT_EQ(fallback->error_after, cpu.error_after);
    // lavapipe ends any one loop after 65535 iterations in an invocation's life: a search that long
    // (300 ratios of a 1024-weight group) is left to the CPU there, and runs elsewhere.
    AwqOptions long_search = options;
    long_search.clip_steps = 300;
    const MatrixRM w1k = heavy_tailed_weights(1, 1024, 3);
    auto long_run = awq_clip_int(device, w1k, hessian(1024, 4), f, long_search);
    if (device.info().driver.rfind("llvmpipe", 0) == 0) {
      ASSERT_FALSE(long_run.has_value());
      EXPECT_EQ(long_run.error().code, ErrorCode::Unsupported) << long_run.error().message;
    } else {
      EXPECT_TRUE(long_run.has_value()) << long_run.error().message;
    }
    // Shapes that do not fit are errors, not guesses.
    auto wrong = awq_clip_int(device, w, MatrixRM::Identity(16, 16), f, options);
    ASSERT_FALSE(wrong.has_value());
    EXPECT_EQ(wrong.error().code, ErrorCode::InvalidArgument) << wrong.error().message;
  });
}

}  // namespace
}  // namespace lowbit::gpu
