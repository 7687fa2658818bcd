// The analysis views whose work runs on the Vulkan backend, against the CPU on every Vulkan device
// present (hf-fixtures llama-gqa, seeded windows):
// - the weight-Hessian view's walks through a model whose earlier blocks are RTN-quantized
//   (collect_quantized_prefix_stats with the Vulkan walker): every block's four Hessians;
// - the AWQ view (awq_curves with the Vulkan walker and α grid): the same α for every group, the
//   α-error and clip curves within float tolerance;
// - the scale views (ScaleLossModel on the Vulkan runner): the base loss, the scale Hessian (finite
//   differences of losses: their float noise over h²) and the landscape against the CPU's.
// Skips with a message where there is no Vulkan device or ../shared.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "core/analysis/awq_curves.h"
#include "core/analysis/scale_loss.h"
#include "core/analysis/weight_hessian.h"
#include "fixture_model.h"
#include "gpu/model/vulkan_block_walker.h"
#include "gpu/model/vulkan_scale_loss.h"
#include "gpu/ops/awq_op.h"
#include "gpu_test_support.h"
#include "test_support.h"

namespace lowbit::gpu {
namespace {

double largest_relative(const std::vector<double>& got, const std::vector<double>& want) {
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]) / std::max(std::abs(want[i]), 1e-30));
  return worst;
}

// llama-gqa, two seeded windows of T tokens, and the views' format int3g32a.
class AnalysisViewsOnVulkan : public ::testing::Test {
 protected:
  void SetUp() override {
    LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
    m = test::load_fixture_model("llama-gqa");
    windows = test::seeded_windows(m.config, 2, T, 33);
  }
  static constexpr int64_t T = 16;
  const Format f = Format::integer(3, 32, false);
  ModelWeights m;
  std::vector<int32_t> windows;
};

TEST_F(AnalysisViewsOnVulkan, QuantizedPrefixHessiansMatchTheCpu) {
  std::vector<MatrixRM> cpu;
  auto keep = [](std::vector<MatrixRM>& into) {
    return [&into](int64_t, BlockStats& stats) -> Expected<void> {
      for (LinearInput i : kLinearInputs) into.push_back(stats.at(i).hessian());
      return {};
    };
  };
  ASSERT_TRUE(collect_quantized_prefix_stats(m, windows, T, &f, keep(cpu)));
  FOR_EACH_DEVICE({
    std::vector<MatrixRM> gpu;
    BlockHooks hooks;
    hooks.walker = vulkan_block_walker_factory(device);
    std::string used;
    hooks.walker_used = &used;
    auto done = collect_quantized_prefix_stats(m, windows, T, &f, keep(gpu), nullptr, nullptr, hooks);
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_EQ(used, "vulkan");
    ASSERT_EQ(gpu.size(), cpu.size());
    double worst = 0;
    for (size_t k = 0; k < cpu.size(); ++k) {
      const double scale = cpu[k].cwiseAbs().maxCoeff();
      worst = std::max(worst, static_cast<double>((gpu[k] - cpu[k]).cwiseAbs().maxCoeff()) / scale);
    }
    EXPECT_LT(worst, 1e-5);
    std::printf("%s: quantized-prefix Hessians within %.2e of the largest entry\n", device.info().name.c_str(), worst);
  });
}

TEST_F(AnalysisViewsOnVulkan, AwqCurvesMatchTheCpu) {
  AwqOptions o;
  o.alpha_grid = 5;
  o.clip_steps = 3;
  auto cpu = awq_curves(m, windows, T, f, o);
  ASSERT_TRUE(cpu) << cpu.error().message;
  FOR_EACH_DEVICE({
    AwqOptions g = o;
    g.backend = vulkan_awq_grid(device);
    auto gpu = awq_curves(m, windows, T, f, g, nullptr, nullptr, vulkan_block_walker_factory(device));
    ASSERT_TRUE(gpu) << gpu.error().message;
    ASSERT_EQ(gpu->groups.size(), cpu->groups.size());
    double worst_alpha = 0, worst_clip = 0;
    for (size_t i = 0; i < cpu->groups.size(); ++i) {
      const AwqGroupCurve &a = cpu->groups[i], &b = gpu->groups[i];
      SCOPED_TRACE(a.group + " of block " + std::to_string(a.block));
      EXPECT_EQ(b.alpha, a.alpha);
      EXPECT_EQ(b.applied, a.applied);
      ASSERT_EQ(b.alpha_error.size(), a.alpha_error.size());
      ASSERT_EQ(b.clip_error.size(), a.clip_error.size());
      worst_alpha = std::max(worst_alpha, largest_relative(b.alpha_error, a.alpha_error));
      worst_clip = std::max(worst_clip, largest_relative(b.clip_error, a.clip_error));
    }
    // The walk's hidden states differ from the CPU's by float rounding, carried through the blocks
    // AWQ has already scaled and quantized: the curves agree to float rounding, not to the last bit.
    EXPECT_LT(worst_alpha, 1e-5);
    EXPECT_LT(worst_clip, 1e-5);
    std::printf("%s: AWQ α curves within %.2e, clip curves within %.2e relative\n", device.info().name.c_str(), worst_alpha,
                worst_clip);
  });
}

TEST_F(AnalysisViewsOnVulkan, ScaleViewsMatchTheCpu) {
  auto cpu = ScaleLossModel::build(m, windows, T, f);
  ASSERT_TRUE(cpu) << cpu.error().message;
  EXPECT_EQ((*cpu)->runner_name(), "cpu");
  auto cpu_h = (*cpu)->scale_hessian(0.05);
  ASSERT_TRUE(cpu_h) << cpu_h.error().message;
  const std::vector<double> values = {0.9, 1.0, 1.1};
  auto cpu_l = (*cpu)->landscape(0, values);
  ASSERT_TRUE(cpu_l) << cpu_l.error().message;
  FOR_EACH_DEVICE({
    std::string note;
    auto gpu = ScaleLossModel::build(m, windows, T, f, false, nullptr, vulkan_scale_loss_factory(device), &note);
    ASSERT_TRUE(gpu) << gpu.error().message;
    EXPECT_EQ((*gpu)->runner_name(), "vulkan") << note;
    EXPECT_NEAR((*gpu)->base_loss(), (*cpu)->base_loss(), 1e-6 * (*cpu)->base_loss());
    auto gpu_h = (*gpu)->scale_hessian(0.05);
    ASSERT_TRUE(gpu_h) << gpu_h.error().message;
    EXPECT_EQ(gpu_h->evaluations, cpu_h->evaluations);
    double worst_h = 0, scale_h = 0;
    for (size_t i = 0; i < cpu_h->matrix.size(); ++i)
      for (size_t j = 0; j < cpu_h->matrix.size(); ++j) {
        worst_h = std::max(worst_h, std::abs(gpu_h->matrix[i][j] - cpu_h->matrix[i][j]));
        scale_h = std::max(scale_h, std::abs(cpu_h->matrix[i][j]));
      }
    auto gpu_l = (*gpu)->landscape(0, values);
    ASSERT_TRUE(gpu_l) << gpu_l.error().message;
    double worst_l = 0;
    for (size_t i = 0; i < values.size(); ++i)
      for (size_t j = 0; j < values.size(); ++j)
        worst_l = std::max(worst_l, std::abs(gpu_l->loss[i][j] - cpu_l->loss[i][j]) / cpu_l->loss[i][j]);
    // Losses agree to ~1e-7 relative; the Hessian's finite differences divide that noise by h².
    EXPECT_LT(worst_l, 1e-5);
    EXPECT_LT(worst_h, 1e-3 * scale_h + 1e-3);
    std::printf("%s: landscape within %.2e relative; scale Hessian within %.2e (largest entry %.3g)\n", device.info().name.c_str(),
                worst_l, worst_h, scale_h);
  });
}

}  // namespace
}  // namespace lowbit::gpu
