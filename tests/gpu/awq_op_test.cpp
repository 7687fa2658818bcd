// AWQ's α grid on every Vulkan device against core's awq_scaled_error (the oracle): the error of
// every scale vector within float tolerance for groups of int-family layers (asymmetric and
// symmetric, per-row and grouped, a clip ratio) and of ggml's block types (legacy and K-quants), the
// search through the backend choosing the CPU's α, and formats the GPU does not evaluate (float
// kinds) left to the CPU with the CPU's result.
#include "gpu/ops/awq_op.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "gpu_test_support.h"

namespace lowbit::gpu {
namespace {

struct Group {
  std::vector<MatrixRM> w;
  MatrixRM h;
  VectorF mean_abs;
};

// Layers reading one input of `in` channels whose activations have outlier channels (so the α grid
// has a clear minimum), with their Hessian and mean |x|.
Group make_group(const std::vector<int64_t>& rows, int64_t in, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  Group g;
  for (int64_t r : rows) {
    MatrixRM w(r, in);
    for (int64_t i = 0; i < w.size(); ++i) w.data()[i] = n(rng) * 0.02f;
    g.w.push_back(std::move(w));
  }
  const int64_t tokens = 3 * in;
  MatrixRM x(tokens, in);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t c = 0; c < in; ++c) x(t, c) = n(rng) * (c % 29 == 0 ? 12.0f : 1.0f);
  g.h = (x.transpose() * x) * (2.0f / static_cast<float>(tokens));
  g.mean_abs = x.cwiseAbs().colwise().mean().transpose();
  return g;
}

std::vector<AwqLayer> layers_of(const Group& g, const std::vector<std::string>& formats) {
  std::vector<AwqLayer> layers;
  for (size_t i = 0; i < g.w.size(); ++i)
    layers.push_back({&g.w[i], *Format::parse(formats[i % formats.size()]), "layer" + std::to_string(i)});
  return layers;
}

std::vector<VectorF> grid_scales(const VectorF& mean_abs, int points) {
  std::vector<VectorF> s;
  for (int i = 0; i < points; ++i) s.push_back(awq_scales(mean_abs, static_cast<double>(i) / points));
  return s;
}

TEST(AwqOp, GridErrorsMatchTheCpu) {
  const Group g = make_group({48, 16, 16}, 256, 7);
  const std::vector<VectorF> scales = grid_scales(g.mean_abs, 10);
  FOR_EACH_DEVICE({
    double worst = 0;
    for (const auto& formats : std::vector<std::vector<std::string>>{
             {"int4g128a"}, {"int3g64s"}, {"int8g0a", "int2g32a", "int4g256s"}})
      for (const float shrink : {1.0f, 0.8f}) {
        SCOPED_TRACE(formats.front() + " shrink " + std::to_string(shrink));
        const auto layers = layers_of(g, formats);
        auto gpu = awq_grid_errors(device, layers, g.h, scales, shrink);
        ASSERT_TRUE(gpu) << gpu.error().message;
        ASSERT_EQ(gpu->size(), scales.size());
        for (size_t i = 0; i < scales.size(); ++i) {
          auto cpu = awq_scaled_error(layers, g.h, scales[i], shrink);
          ASSERT_TRUE(cpu) << cpu.error().message;
          EXPECT_GT(*cpu, 0.0);
          EXPECT_NEAR((*gpu)[i], *cpu, 1e-5 * *cpu) << "α point " << i;
          worst = std::max(worst, std::abs((*gpu)[i] - *cpu) / *cpu);
        }
      }
    std::printf("%s: largest relative difference from the CPU %.2e\n", device.info().name.c_str(), worst);
  });
}

// ggml's block types go through the same quantizers as ggml_quantize_legacy.comp and
// ggml_quantize_k.comp (the CPU's codes and stored scales); a group may mix them with the int
// family. A clip ratio is the int family's alone.
TEST(AwqOp, GgmlTypesMatchTheCpu) {
  const Group g = make_group({24, 8, 8}, 512, 5);  // two K-quant super-blocks per row
  const std::vector<VectorF> scales = grid_scales(g.mean_abs, 6);
  FOR_EACH_DEVICE({
    double worst = 0;
    for (const auto& formats : std::vector<std::vector<std::string>>{
             {"q4_0"}, {"q4_1"}, {"q5_0"}, {"q5_1"}, {"q8_0"}, {"q2_k"}, {"q3_k"}, {"q4_k"}, {"q5_k"}, {"q6_k"},
             {"q4_0", "int4g128a", "q6_k"}}) {
      SCOPED_TRACE(formats.front());
      const auto layers = layers_of(g, formats);
      auto gpu = awq_grid_errors(device, layers, g.h, scales);
      ASSERT_TRUE(gpu) << gpu.error().message;
      ASSERT_EQ(gpu->size(), scales.size());
      for (size_t i = 0; i < scales.size(); ++i) {
        auto cpu = awq_scaled_error(layers, g.h, scales[i], 1.0f);
        ASSERT_TRUE(cpu) << cpu.error().message;
        EXPECT_NEAR((*gpu)[i], *cpu, 1e-5 * *cpu) << "α point " << i;
        worst = std::max(worst, std::abs((*gpu)[i] - *cpu) / *cpu);
      }
    }
    std::printf("%s: ggml types, largest relative difference from the CPU %.2e\n", device.info().name.c_str(), worst);
    for (const char* t : {"q4_0", "q4_k"}) {
      auto clipped = awq_grid_errors(device, layers_of(g, {t}), g.h, scales, 0.9f);
      ASSERT_FALSE(clipped) << t;
      EXPECT_EQ(clipped.error().code, ErrorCode::Unsupported) << t;
    }
  });
}

TEST(AwqOp, SearchThroughTheBackendChoosesTheCpuAlpha) {
  const Group g = make_group({64, 32}, 128, 11);
  const auto layers = layers_of(g, {"int4g32a"});
  AwqOptions o;
  auto cpu = awq_search_scale(layers, g.h, g.mean_abs, o);
  ASSERT_TRUE(cpu) << cpu.error().message;
  ASSERT_GT(cpu->alpha, 0.0) << "the group must gain from scaling for the test to mean something";
  FOR_EACH_DEVICE({
    o.backend = vulkan_awq_grid(device);
    auto gpu = awq_search_scale(layers, g.h, g.mean_abs, o);
    ASSERT_TRUE(gpu) << gpu.error().message;
    EXPECT_EQ(gpu->alpha, cpu->alpha);
    EXPECT_NEAR(gpu->error, cpu->error, 2e-4 * cpu->error);
    EXPECT_NEAR(gpu->error_rtn, cpu->error_rtn, 2e-4 * cpu->error_rtn);
    ASSERT_EQ(gpu->curve.size(), cpu->curve.size());
    EXPECT_EQ(gpu->scales, cpu->scales);
  });
}

TEST(AwqOp, FloatFormatsAreLeftToTheCpu) {
  const Group g = make_group({16, 16}, 256, 3);
  const auto layers = layers_of(g, {"int4g128a", "f16"});
  AwqOptions o;
  o.alpha_grid = 5;
  auto cpu = awq_search_scale(layers, g.h, g.mean_abs, o);
  ASSERT_TRUE(cpu) << cpu.error().message;
  FOR_EACH_DEVICE({
    auto direct = awq_grid_errors(device, layers, g.h, grid_scales(g.mean_abs, 5));
    ASSERT_FALSE(direct);
    EXPECT_EQ(direct.error().code, ErrorCode::Unsupported);
    EXPECT_NE(direct.error().message.find("layer1"), std::string::npos) << direct.error().message;
    o.backend = vulkan_awq_grid(device);
    auto through = awq_search_scale(layers, g.h, g.mean_abs, o);
    ASSERT_TRUE(through) << through.error().message;
    EXPECT_EQ(through->curve, cpu->curve) << "evaluated by the CPU, so bit for bit";
  });
}

TEST(AwqOp, InconsistentSizesAreErrors) {
  const Group g = make_group({8}, 64, 5);
  const auto layers = layers_of(g, {"int4g32a"});
  FOR_EACH_DEVICE({
    auto short_scales = awq_grid_errors(device, layers, g.h, {VectorF::Ones(32)});
    ASSERT_FALSE(short_scales);
    EXPECT_EQ(short_scales.error().code, ErrorCode::InvalidArgument);
    const MatrixRM small_h = MatrixRM::Identity(32, 32);
    auto wrong_h = awq_grid_errors(device, layers, small_h, {VectorF::Ones(32)});
    ASSERT_FALSE(wrong_h);
    EXPECT_EQ(wrong_h.error().code, ErrorCode::InvalidArgument);
    auto bad_shrink = awq_grid_errors(device, layers, g.h, {VectorF::Ones(64)}, 0.0f);
    ASSERT_FALSE(bad_shrink);
    EXPECT_EQ(bad_shrink.error().code, ErrorCode::InvalidArgument);
    auto none = awq_grid_errors(device, layers, g.h, {});
    ASSERT_FALSE(none);
  });
}

}  // namespace
}  // namespace lowbit::gpu
