// ggml's reference quantizers of every ggml block type on every Vulkan device against core's
// ggml_quantize (the oracle, itself bit-exact with llama.cpp's quantize_row_*_ref): the same bytes for
// q4_0, q4_1, q5_0, q5_1, q8_0 and the K-quants q2_K … q6_K — on random weights with outliers, an
// odd number of blocks (the last written alone), all-zero blocks, blocks whose largest magnitude is
// shared by a positive and a negative weight (the first wins), constant blocks, tiny values, and for
// the K-quants all-positive and all-negative super-blocks and sub-blocks of one sign; counts that are
// not whole blocks are refused.
#include "gpu/ops/ggml_quantize_op.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "core/quant/ggml_formats.h"
#include "gpu_test_support.h"

namespace lowbit::gpu {
namespace {

// The first 4·32 weights are the awkward blocks above; the K-quants' super-blocks get more.
std::vector<float> awkward_weights(size_t blocks) {
  std::mt19937 rng(17);
  std::normal_distribution<float> n(0.0f, 0.02f);
  std::vector<float> w(blocks * 32);
  for (auto& v : w) v = n(rng);
  for (int k = 0; k < 40; ++k) w[rng() % w.size()] *= 30.0f;
  for (size_t j = 0; j < 32; ++j) w[j] = 0.0f;                               // block 0: all zero
  for (size_t j = 32; j < 64; ++j) w[j] = 0.5f;                              // block 1: constant
  w[64 + 3] = -0.25f, w[64 + 9] = 0.25f;                                     // block 2: a tied largest magnitude
  for (size_t j = 96; j < 128; ++j) w[j] = 1e-30f * static_cast<float>(j);  // block 3: tiny values
  return w;
}

void expect_cpu_bytes(Device& device, DType t, const std::vector<float>& w) {
  SCOPED_TRACE(dtype_name(t));
  ASSERT_TRUE(ggml_quantize_on_device(t));
  std::vector<uint8_t> cpu(dtype_bytes(t, w.size()));
  ggml_quantize(t, w.data(), cpu.data(), w.size());
  auto gpu = ggml_quantize(device, t, w);
  ASSERT_TRUE(gpu) << gpu.error().message;
  ASSERT_EQ(gpu->size(), cpu.size());
  size_t first = cpu.size(), differing = 0;
  for (size_t i = 0; i < cpu.size(); ++i)
    if ((*gpu)[i] != cpu[i]) {
      first = std::min(first, i);
      ++differing;
    }
  EXPECT_EQ(differing, 0u) << "first differing byte " << first << " (block " << first / traits(t).block_bytes << ")";
}

TEST(GgmlQuantizeOp, BytesAreTheCpuReferenceQuantizers) {
  const auto w = awkward_weights(77);  // odd: the last block has no pair
  FOR_EACH_DEVICE({
    for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0}) expect_cpu_bytes(device, t, w);
  });
}

// ggml_quantize_weighted on the device gives core's bytes for W [rows, cols] with importances qw.
void expect_cpu_weighted_bytes(Device& device, DType t, const std::vector<float>& w, int64_t rows, int64_t cols,
                               const std::vector<float>& qw) {
  ASSERT_TRUE(ggml_quantize_weighted_on_device(t));
  std::vector<uint8_t> cpu(dtype_bytes(t, w.size()));
  ggml_quantize_weighted(t, w.data(), cpu.data(), rows, cols, qw.data());
  auto gpu = ggml_quantize_weighted(device, t, w, rows, cols, qw);
  ASSERT_TRUE(gpu) << gpu.error().message;
  ASSERT_EQ(gpu->size(), cpu.size());
  size_t differing = 0, first = cpu.size();
  for (size_t i = 0; i < cpu.size(); ++i)
    if ((*gpu)[i] != cpu[i]) differing++, first = std::min(first, i);
  EXPECT_EQ(differing, 0u) << "first differing byte " << first << " (block " << first / traits(t).block_bytes << ")";
}

// The importance-weighted paths of the legacy types (ggml_quantize_weighted): the CPU's bytes with
// unit importances (`--mse`) and with random ones, on the awkward blocks in rows of 7 blocks (a pair
// of blocks can straddle two rows) and a row of 1e±15 magnitudes. (A row whose Σx² overflows float,
// |x| ≳ 1e19, gets NaN scales on both sides, and which NaN — its sign — is the hardware's.)
TEST(GgmlQuantizeOp, WeightedLegacyBytesAreTheCpus) {
  const int64_t rows = 11, cols = 7 * 32;
  auto w = awkward_weights(static_cast<size_t>(rows * cols / 32));
  for (int64_t j = 0; j < cols; ++j) w[static_cast<size_t>(9 * cols + j)] = (j % 3 == 0 ? 1e15f : 1e-15f) * (j % 2 ? -1.0f : 1.0f);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.1f, 4.0f);
  std::vector<float> ones(static_cast<size_t>(cols), 1.0f), random(static_cast<size_t>(cols));
  for (auto& v : random) v = u(rng);
  FOR_EACH_DEVICE({
    for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0})
      for (const auto* qw : {&ones, &random}) {
        SCOPED_TRACE(std::string(dtype_name(t)) + (qw == &ones ? " unit importances" : " random importances"));
        expect_cpu_weighted_bytes(device, t, w, rows, cols, *qw);
      }
    auto bad = ggml_quantize_weighted(device, DType::Q4_0, w, rows, cols, std::span<const float>(ones).first(5));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::InvalidArgument);
  });
}

// The importance-weighted K-quants (σ² per super-block; make_qkx3 per sub-block and make_qp for the
// scales of q2_K, q4_K, q5_K; make_qx for q3_K's and, importances alone, q6_K's): the CPU's bytes
// with unit and random importances, in rows of 3 super-blocks (15 in all: pairs straddle rows, the
// last has no pair), with an all-positive, an all-zero and a 1e±15 super-block among them.
TEST(GgmlQuantizeOp, WeightedKQuantBytesAreTheCpus) {
  const int64_t rows = 5, cols = 3 * 256;
  auto w = awkward_weights(static_cast<size_t>(rows * cols / 32));
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(0.01f, 1.0f);
  for (size_t j = 256; j < 512; ++j) w[j] = u(rng);
  for (size_t j = 1024; j < 1280; ++j) w[j] = 0.0f;
  for (size_t j = 2048; j < 2304; ++j) w[j] = (j % 3 == 0 ? 1e15f : 1e-15f) * (j % 2 ? -1.0f : 1.0f);
  std::uniform_real_distribution<float> imp(0.1f, 4.0f);
  std::vector<float> ones(static_cast<size_t>(cols), 1.0f), random(static_cast<size_t>(cols));
  for (auto& v : random) v = imp(rng);
  FOR_EACH_DEVICE({
    for (DType t : {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K})
      for (const auto* qw : {&ones, &random}) {
        SCOPED_TRACE(std::string(dtype_name(t)) + (qw == &ones ? " unit importances" : " random importances"));
        expect_cpu_weighted_bytes(device, t, w, rows, cols, *qw);
      }
    auto bad = ggml_quantize_weighted(device, DType::Q4_K, w, rows * 6, cols / 6, std::span<const float>(ones).first(128));
    ASSERT_FALSE(bad);  // rows of 128 columns are not whole super-blocks
    EXPECT_EQ(bad.error().code, ErrorCode::InvalidArgument);
  });
}

TEST(GgmlQuantizeOp, KQuantBytesAreTheCpuReferenceQuantizers) {
  auto w = awkward_weights(41 * 8);  // 41 super-blocks: odd, the last has no pair
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.01f, 1.0f);
  for (size_t j = 256; j < 512; ++j) w[j] = u(rng);                             // super-block 1: all positive
  for (size_t j = 512; j < 768; ++j) w[j] = -u(rng);                            // super-block 2: all negative
  for (size_t j = 768; j < 1024; ++j) w[j] = ((j / 16) % 2 ? -1.0f : 1.0f) * u(rng);  // sub-blocks of one sign
  for (size_t j = 1024; j < 1280; ++j) w[j] = 0.0f;                            // super-block 4: all zero
  for (size_t j = 1280; j < 1536; ++j) w[j] = 3.0f;                            // super-block 5: constant
  for (size_t j = 1536; j < 1792; ++j) w[j] = 1e-4f * u(rng) - 2e-3f;          // super-block 6: narrow, offset
  FOR_EACH_DEVICE({
    for (DType t : {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) expect_cpu_bytes(device, t, w);
  });
}

// Weights at the edges of float: a super-block of ±3e38 (whose range overflows to inf inside the
// scale searches), one holding inf and one holding NaN end like any other (ggml's bytes for such
// blocks are unspecified: only termination is asserted — a division by zero once looped forever in
// the shader), so does one of ±1e15 (the K-quants' sums of w·x² overflow there, and whether a
// device fuses the products into them decides which infinities and NaNs follow: an H100's bytes
// differ from the CPU's), and one of ±1e8 (large but finite all the way) gives the CPU's bytes.
TEST(GgmlQuantizeOp, ExtremeWeightsTerminateAndLargeOnesMatchTheCpu) {
  std::vector<float> extreme(5 * 256, 0.0f), large(256);
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (size_t j = 0; j < 256; ++j) extreme[j] = (j % 2 ? 3e38f : -3e38f) * (0.5f + 0.5f * std::abs(n(rng)) / 4.0f);
  for (size_t j = 256; j < 768; ++j) extreme[j] = n(rng);
  extreme[256 + 7] = std::numeric_limits<float>::infinity();
  extreme[512 + 9] = std::numeric_limits<float>::quiet_NaN();
  for (size_t j = 1024; j < 1280; ++j) extreme[j] = 1e15f * n(rng);
  for (auto& v : large) v = 1e8f * n(rng);
  FOR_EACH_DEVICE({
    for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K, DType::Q4_K,
                    DType::Q5_K, DType::Q6_K}) {
      SCOPED_TRACE(dtype_name(t));
      auto done = ggml_quantize(device, t, extreme);
      ASSERT_TRUE(done) << done.error().message;
      expect_cpu_bytes(device, t, large);
    }
  });
}

TEST(GgmlQuantizeOp, RefusesWhatTheShaderCannotDo) {
  FOR_EACH_DEVICE({
    const std::vector<float> w(256, 0.5f);
    EXPECT_FALSE(ggml_quantize_on_device(DType::F16));
    auto f = ggml_quantize(device, DType::F16, w);
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, ErrorCode::InvalidArgument);
    auto partial = ggml_quantize(device, DType::Q8_0, std::span<const float>(w).first(40));
    ASSERT_FALSE(partial);
    EXPECT_EQ(partial.error().code, ErrorCode::InvalidArgument);
    auto partial_k = ggml_quantize(device, DType::Q4_K, std::span<const float>(w).first(128));
    ASSERT_FALSE(partial_k);
    EXPECT_EQ(partial_k.error().code, ErrorCode::InvalidArgument);
  });
}

}  // namespace
}  // namespace lowbit::gpu
