// The KLD sensitivity's forward passes on the Vulkan backend (gpu/model/vulkan_kld.h) against the
// CPU's measurement (core/plan/sensitivity.h), on every Vulkan device present: for every hf-fixtures
// architecture, every tensor (block linears, fused ones, the embeddings — tied or not — and the head)
// and two formats, the mean KL and NLL change agree with the CPU's; candidates that share a block and
// candidates in other parts in turn leave nothing behind (the parts are restored); out of device
// memory fails the scorer's creation and measure_sensitivity falls back to the CPU with a warning.
// Skips with a message where there is no Vulkan device or ../shared.
#include "gpu/model/vulkan_kld.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "core/plan/sensitivity.h"
#include "gpu/ops/awq_op.h"
#include "gpu/ops/rtn_int_op.h"
#include "fixture_model.h"
#include "gpu_test_support.h"
#include "test_support.h"

namespace lowbit::gpu {
namespace {

SensitivityOptions options_for(const std::vector<std::string>& formats) {
  SensitivityOptions o;
  for (const auto& f : formats) o.formats.push_back(*Format::parse(f));
  return o;
}

class KldFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(KldFixture, SensitivitiesMatchTheCpu) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures");
  ModelWeights m = test::load_fixture_model(GetParam());
  ASSERT_FALSE(m.blocks.empty());
  const int64_t S = 2, T = 16;
  const auto windows = test::seeded_windows(m.config, S, T, 21);
  SensitivityOptions o = options_for({"int3g32a", "int8g32a"});
  auto cpu = measure_sensitivity(m, windows, T, o);
  ASSERT_TRUE(cpu) << cpu.error().message;
  FOR_EACH_DEVICE({
    SensitivityOptions g = o;
    g.kld_backend = vulkan_kld_factory(device);
    g.rtn_backend = vulkan_rtn(device);  // the candidates quantized on the device: the CPU's codes
    auto gpu = measure_sensitivity(m, windows, T, g);
    ASSERT_TRUE(gpu) << gpu.error().message;
    EXPECT_EQ(gpu->backend, "vulkan");
    EXPECT_TRUE(gpu->warnings.empty());
    EXPECT_NEAR(gpu->nll_ref, cpu->nll_ref, 1e-5 * cpu->nll_ref);
    ASSERT_EQ(gpu->values.size(), cpu->values.size());
    double worst_kl = 0, worst_small = 0, worst_dnll = 0;  // relative above 1e-5 nats, absolute below
    for (const auto& [tensor, by_format] : cpu->values)
      for (const auto& [format, want] : by_format) {
        SCOPED_TRACE(tensor + " " + format);
        ASSERT_TRUE(gpu->values.count(tensor) && gpu->values.at(tensor).count(format));
        const Sensitivity& got = gpu->values.at(tensor).at(format);
        // KL: relative where it is large enough to mean something, else absolute (the CPU stores
        // log-probabilities in float: its own resolution is about 1e-7 nats).
        EXPECT_NEAR(got.kld, want.kld, 2e-3 * want.kld + 2e-7);
        EXPECT_NEAR(got.dnll, want.dnll, 1e-5);
        if (want.kld > 1e-5)
          worst_kl = std::max(worst_kl, std::abs(got.kld - want.kld) / want.kld);
        else
          worst_small = std::max(worst_small, std::abs(got.kld - want.kld));
        worst_dnll = std::max(worst_dnll, std::abs(got.dnll - want.dnll));
      }
    std::printf("%s %s: largest KL difference %.2e relative (KL > 1e-5), %.2e nats (below); NLL change %.2e nats\n",
                device.info().name.c_str(), GetParam(), worst_kl, worst_small, worst_dnll);
  });
}

INSTANTIATE_TEST_SUITE_P(Vulkan, KldFixture, ::testing::ValuesIn(test::kFixtureArchitectures), test::FixtureTestName());

// The Hessian kind's errors tr(D H Dᵀ) through AWQ's grid op with the scale vector 1 (int family,
// ggml types; f16 has no shader and stays on the CPU): the CPU's to float rounding.
TEST(VulkanHessianSensitivity, ErrorsMatchTheCpu) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  ModelWeights m = test::load_fixture_model("llama-gqa");
  const int64_t T = 16;
  const auto windows = test::seeded_windows(m.config, 2, T, 21);
  SensitivityOptions o = options_for({"int3g32a", "q4_0", "f16"});
  o.kind = SensitivityKind::Hessian;
  auto cpu = measure_sensitivity(m, windows, T, o);
  ASSERT_TRUE(cpu) << cpu.error().message;
  FOR_EACH_DEVICE({
    SensitivityOptions g = o;
    g.error_backend = vulkan_awq_grid(device);
    auto gpu = measure_sensitivity(m, windows, T, g);
    ASSERT_TRUE(gpu) << gpu.error().message;
    ASSERT_EQ(gpu->values.size(), cpu->values.size());
    double worst = 0;
    for (const auto& [tensor, by_format] : cpu->values)
      for (const auto& [format, want] : by_format) {
        const double got = gpu->values.at(tensor).at(format).kld;
        EXPECT_NEAR(got, want.kld, 1e-5 * want.kld) << tensor << " " << format;
        worst = std::max(worst, std::abs(got - want.kld) / want.kld);
      }
    std::printf("%s: Hessian-weighted errors within %.2e relative\n", device.info().name.c_str(), worst);
  });
}

TEST(VulkanKld, OutOfDeviceMemoryLeavesTheMeasurementToTheCpu) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  ModelWeights m = test::load_fixture_model("llama-gqa");
  const int64_t S = 2, T = 8;
  const auto windows = test::seeded_windows(m.config, S, T, 21);
  SensitivityOptions o = options_for({"int4g32a"});
  o.embeddings = false;
  auto cpu = measure_sensitivity(m, windows, T, o);
  ASSERT_TRUE(cpu) << cpu.error().message;
  FOR_EACH_DEVICE({
    const uint64_t baseline = device.device_bytes_in_use();
    device.set_max_device_bytes(baseline + 4096);
    SensitivityOptions g = o;
    g.kld_backend = vulkan_kld_factory(device);
    auto made = g.kld_backend(m, windows, S, T);
    ASSERT_FALSE(made);
    EXPECT_EQ(made.error().code, ErrorCode::OutOfMemory) << made.error().message;
    auto fell_back = measure_sensitivity(m, windows, T, g);
    device.set_max_device_bytes(0);
    ASSERT_TRUE(fell_back) << fell_back.error().message;
    EXPECT_EQ(fell_back->backend, "cpu");
    ASSERT_EQ(fell_back->warnings.size(), 1u);
    EXPECT_NE(fell_back->warnings[0].find("runs on the CPU"), std::string::npos) << fell_back->warnings[0];
    EXPECT_EQ(fell_back->values, cpu->values);
    EXPECT_EQ(device.device_bytes_in_use(), baseline) << "device memory not returned";
  });
}

// Out of device memory while a candidate's block is uploaded fails that score with OutOfMemory; once
// memory allows, the scorer measures again what a fresh one measures (the part left half-replaced is
// restored first).
TEST(VulkanKld, OutOfMemoryMidScoringFailsThatCandidateOnly) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  ModelWeights m = test::load_fixture_model("llama-gqa");
  const int64_t S = 2, T = 8;
  const auto windows = test::seeded_windows(m.config, S, T, 21);
  FOR_EACH_DEVICE({
    auto made = vulkan_kld_factory(device)(m, windows, S, T);
    ASSERT_TRUE(made) << made.error().message;
    KldScorer& scorer = **made;
    const MatrixRM original = m.blocks[0].q.w;
    m.blocks[0].q.w *= 1.5f;  // a candidate: block 0 changed
    device.set_max_device_bytes(device.device_bytes_in_use() + 1024);
    auto failed = scorer.score(m, 0);
    device.set_max_device_bytes(0);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, ErrorCode::OutOfMemory) << failed.error().message;
    auto again = scorer.score(m, 0);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_GT(again->kld, 0.0);
    m.blocks[0].q.w = original;
    m.blocks[1].up.w *= 1.5f;  // another candidate: block 0 must be the original again
    auto other = scorer.score(m, 1);
    ASSERT_TRUE(other) << other.error().message;
    auto fresh = vulkan_kld_factory(device)(m, windows, S, T);  // reference on the changed model
    ASSERT_TRUE(fresh);
    m.blocks[1].up.w /= 1.5f;
    auto base = vulkan_kld_factory(device)(m, windows, S, T);
    ASSERT_TRUE(base);
    EXPECT_NEAR((*fresh)->nll_ref() - (*base)->nll_ref(), other->dnll, 1e-6) << "block 0 was not restored";
  });
}

}  // namespace
}  // namespace lowbit::gpu
