// ggml's reference quantizers of the legacy block types on every Vulkan device against core's
// ggml_quantize (the oracle, itself bit-exact with llama.cpp's quantize_row_*_ref): the same bytes for
// q4_0, q4_1, q5_0, q5_1 and q8_0 — on random weights with outliers, an odd number of blocks (the
// last written alone), all-zero blocks, blocks whose largest magnitude is shared by a positive and a
// negative weight (the first wins), constant blocks and tiny values; K-quant types and counts that
// are not whole blocks are refused.
#include "gpu/ops/ggml_quantize_op.h"

#include <gtest/gtest.h>

#include <random>

#include "core/quant/ggml_formats.h"
#include "gpu_test_support.h"

namespace lowbit::gpu {
namespace {

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

TEST(GgmlQuantizeOp, BytesAreTheCpuReferenceQuantizers) {
  const auto w = awkward_weights(77);  // odd: the last block has no pair
  FOR_EACH_DEVICE({
    for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0}) {
      SCOPED_TRACE(dtype_name(t));
      ASSERT_TRUE(ggml_quantize_on_device(t));
      std::vector<uint8_t> cpu(dtype_bytes(t, w.size()));
      ggml_quantize(t, w.data(), cpu.data(), w.size());
      auto gpu = ggml_quantize(device, t, w);
      ASSERT_TRUE(gpu) << gpu.error().message;
      ASSERT_EQ(gpu->size(), cpu.size());
      size_t first = cpu.size();
      for (size_t i = 0; i < cpu.size() && first == cpu.size(); ++i)
        if ((*gpu)[i] != cpu[i]) first = i;
      EXPECT_EQ(first, cpu.size()) << "first differing byte " << first << " (block " << first / traits(t).block_bytes << ")";
    }
  });
}

TEST(GgmlQuantizeOp, RefusesWhatTheShaderCannotDo) {
  FOR_EACH_DEVICE({
    const std::vector<float> w(256, 0.5f);
    EXPECT_FALSE(ggml_quantize_on_device(DType::Q4_K));
    auto k = ggml_quantize(device, DType::Q4_K, w);
    ASSERT_FALSE(k);
    EXPECT_EQ(k.error().code, ErrorCode::InvalidArgument);
    auto partial = ggml_quantize(device, DType::Q8_0, std::span<const float>(w).first(40));
    ASSERT_FALSE(partial);
    EXPECT_EQ(partial.error().code, ErrorCode::InvalidArgument);
  });
}

}  // namespace
}  // namespace lowbit::gpu
