// The calibration walk on the Vulkan backend (gpu/model/vulkan_block_walker.h) against the CPU's
// walker (core/calib/analyze.h), on every Vulkan device present:
// - column_abs_stats (Σ |x|, max |x| per channel, accumulated into existing sums) against a loop;
// - every block of every hf-fixtures architecture: the Hessian Σ x xᵀ, mean |x| and max |x| of its
//   four linear inputs, and the hidden states after the block — with the block changed between the
//   two passes (as a quantizer does), in chunks of one window so the last chunk is a short one;
// - out of device memory at the start and mid-walk fails that call with OutOfMemory; the walker
//   works again once memory allows.
// Tolerances are relative to the largest magnitude. Skips with a message where there is no Vulkan
// device or ../shared.
#include "gpu/model/vulkan_block_walker.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <random>

#include "core/io/checkpoint.h"
#include "core/model/model.h"
#include "gpu/ops/column_stats_op.h"
#include "gpu_test_support.h"
#include "fixture_model.h"
#include "test_support.h"

namespace lowbit::gpu {
namespace {

// max |a − b| / max |b|
double rel(const Eigen::Ref<const Eigen::MatrixXd>& a, const Eigen::Ref<const Eigen::MatrixXd>& b) {
  const double scale = b.cwiseAbs().maxCoeff();
  return (a - b).cwiseAbs().maxCoeff() / (scale > 0 ? scale : 1.0);
}

TEST(ColumnAbsStats, AddsToTheSumsAndMaximaAsALoopDoes) {
  const int64_t T = 37, C = 70;
  std::mt19937 rng(5);
  std::normal_distribution<float> n(0.0f, 2.0f);
  std::vector<float> x(static_cast<size_t>(T * C)), sums0(static_cast<size_t>(C)), maxes0(static_cast<size_t>(C));
  for (auto& v : x) v = n(rng);
  for (int64_t c = 0; c < C; ++c) {
    sums0[static_cast<size_t>(c)] = 1.5f;
    maxes0[static_cast<size_t>(c)] = c % 3 == 0 ? 100.0f : 0.0f;  // some maxima already above every |x|
  }
  std::vector<double> want_sum(static_cast<size_t>(C));
  std::vector<float> want_max(maxes0);
  for (int64_t c = 0; c < C; ++c) {
    double s = sums0[static_cast<size_t>(c)];
    for (int64_t t = 0; t < T; ++t) {
      const float a = std::abs(x[static_cast<size_t>(t * C + c)]);
      s += a;
      want_max[static_cast<size_t>(c)] = std::max(want_max[static_cast<size_t>(c)], a);
    }
    want_sum[static_cast<size_t>(c)] = s;
  }
  FOR_EACH_DEVICE({
    std::vector<float> sums = sums0, maxes = maxes0;
    auto done = column_abs_stats(device, x, T, C, sums, maxes);
    ASSERT_TRUE(done) << done.error().message;
    for (int64_t c = 0; c < C; ++c) {
      EXPECT_NEAR(sums[static_cast<size_t>(c)], want_sum[static_cast<size_t>(c)], 1e-5 * want_sum[static_cast<size_t>(c)]) << c;
      EXPECT_EQ(maxes[static_cast<size_t>(c)], want_max[static_cast<size_t>(c)]) << c;
    }
    std::vector<float> short_sums(3);
    EXPECT_FALSE(column_abs_stats(device, x, T, C, short_sums, maxes));
  });
}

// The embeddings of B windows of T seeded ids below the vocabulary: the walk's starting hidden states.
MatrixRM embedded_windows(const ModelWeights& m, int64_t B, int64_t T) {
  std::mt19937 rng(9);
  std::vector<int32_t> ids(static_cast<size_t>(B * T));
  for (auto& id : ids) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(m.config.vocab));
  MatrixRM x;
  EXPECT_TRUE(embed_windows(m, ids, B, T, x));
  return x;
}

BlockStats empty_stats(const ModelConfig& c) {
  BlockStats s;
  for (LinearInput i : kLinearInputs) s.emplace(i, InputStats(linear_input_channels(c, i)));
  return s;
}

class WalkerFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(WalkerFixture, StatisticsAndHiddenStatesMatchTheCpu) {
  LOWBIT_REQUIRE_SHARED(std::string("models/hf-fixtures/") + GetParam());
  ModelWeights m = test::load_fixture_model(GetParam());
  const ModelConfig& c = m.config;
  const int64_t B = 3, T = 20;
  const MatrixRM x = embedded_windows(m, B, T);
  FOR_EACH_DEVICE({
    ModelWeights w = m;
    auto cpu = cpu_block_walker(c);
    auto gpu = vulkan_block_walker(device, c, {.chunk_tokens = T});  // one window per submission
    ASSERT_TRUE(gpu) << gpu.error().message;
    ASSERT_TRUE(cpu->start(x, B, T));
    ASSERT_TRUE((*gpu)->start(x, B, T));
    double worst_h = 0, worst_abs = 0, worst_x = 0;
    for (DecoderBlock& blk : w.blocks) {
      BlockStats sc = empty_stats(c), sg = empty_stats(c);
      ASSERT_TRUE(cpu->stats(blk, sc, nullptr));
      auto got = (*gpu)->stats(blk, sg, nullptr);
      ASSERT_TRUE(got) << got.error().message;
      for (LinearInput i : kLinearInputs) {
        const InputStats &a = sg.at(i), &b = sc.at(i);
        ASSERT_EQ(a.tokens(), b.tokens());
        worst_h = std::max(worst_h, rel(a.hessian().cast<double>(), b.hessian().cast<double>()));
        worst_abs = std::max(worst_abs, rel(a.mean_abs().cast<double>(), b.mean_abs().cast<double>()));
        worst_abs = std::max(worst_abs, rel(a.max_abs().cast<double>(), b.max_abs().cast<double>()));
      }
      blk.down.w *= 0.5f;  // what a quantizer does between the passes: the advance must see it
      ASSERT_TRUE(cpu->advance(blk, nullptr));
      ASSERT_TRUE((*gpu)->advance(blk, nullptr));
      auto hc = cpu->hidden();
      auto hg = (*gpu)->hidden();
      ASSERT_TRUE(hc && hg);
      worst_x = std::max(worst_x, rel((**hg).cast<double>(), (**hc).cast<double>()));
    }
    std::cout << "  " << GetParam() << " on " << device.info().name << ": Hessians " << worst_h << ", |x| statistics "
              << worst_abs << ", hidden states " << worst_x << " (max error / max value)\n";
    EXPECT_LT(worst_h, 1e-5);
    EXPECT_LT(worst_abs, 1e-5);
    EXPECT_LT(worst_x, 1e-5);
  });
}

INSTANTIATE_TEST_SUITE_P(Vulkan, WalkerFixture,
                         ::testing::ValuesIn(test::kFixtureArchitectures), test::FixtureTestName());

TEST(VulkanBlockWalker, OutOfDeviceMemoryFailsTheCallOnly) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  ModelWeights m = test::load_fixture_model("llama-gqa");
  const ModelConfig& c = m.config;
  const int64_t B = 2, T = 16;
  const MatrixRM x = embedded_windows(m, B, T);
  FOR_EACH_DEVICE({
    const uint64_t baseline = device.device_bytes_in_use();
    {
      auto walker = vulkan_block_walker(device, c);
      ASSERT_TRUE(walker);
      device.set_max_device_bytes(baseline + 1024);  // not even the hidden states fit
      auto started = (*walker)->start(x, B, T);
      ASSERT_FALSE(started);
      EXPECT_EQ(started.error().code, ErrorCode::OutOfMemory) << started.error().message;
      device.set_max_device_bytes(0);
      ASSERT_TRUE((*walker)->start(x, B, T));
      device.set_max_device_bytes(device.device_bytes_in_use() + 1024);  // the block's weights do not fit
      BlockStats s = empty_stats(c);
      auto failed = (*walker)->stats(m.blocks[0], s, nullptr);
      ASSERT_FALSE(failed);
      EXPECT_EQ(failed.error().code, ErrorCode::OutOfMemory);
      std::cout << "  " << failed.error().message << "\n";
      device.set_max_device_bytes(0);
      BlockStats again = empty_stats(c);
      auto ok = (*walker)->stats(m.blocks[0], again, nullptr);
      ASSERT_TRUE(ok) << ok.error().message;
      EXPECT_EQ(again.at(LinearInput::kQkv).tokens(), B * T);
    }
    EXPECT_EQ(device.device_bytes_in_use(), baseline) << "device memory not returned";
  });
}

}  // namespace
}  // namespace lowbit::gpu
