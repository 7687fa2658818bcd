// The ggml block types as grid plus codes (core/quant/ggml_grid.h): the extracted grids reproduce
// ggml's dequantizer bit for bit for every code, packing ggml's own codes onto its own grid gives
// back ggml_quantize's bytes, and nearest rounding on the grid gives ggml's codes (K-quants) or codes
// at least as close (the 32-element types, whose reference rounds with the unrounded fp32 scale).
#include "core/quant/ggml_grid.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/quant/ggml_formats.h"

namespace lowbit {
namespace {

const std::vector<DType> kTypes = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                                   DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};

bool is_k_quant(DType t) {
  return ggml_grid_layout(t).block == 256;
}

// Normal data with a few special blocks: an all-zero block, a constant block, a block with an outlier,
// and rows of very different magnitudes.
std::vector<float> test_data(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = dist(rng) * (i / 1024 % 3 == 0 ? 0.02f : 1.5f);
  for (size_t i = 0; i < 256 && i < n; ++i) x[i] = 0;
  for (size_t i = 256; i < 512 && i < n; ++i) x[i] = 0.25f;
  if (n > 700) x[700] = 40.0f;
  return x;
}

struct Quantized {
  std::vector<uint8_t> bytes;
  std::vector<float> deq;
};

Quantized quantize(DType t, const std::vector<float>& x) {
  Quantized q{std::vector<uint8_t>(dtype_bytes(t, x.size())), std::vector<float>(x.size())};
  ggml_quantize(t, x.data(), q.bytes.data(), x.size());
  EXPECT_TRUE(ggml_dequantize(t, q.bytes.data(), q.deq.data(), x.size()));
  return q;
}

bool same_bits(float a, float b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

class GgmlGridTest : public ::testing::TestWithParam<DType> {};

// value = scale · code + offset equals the dequantizer's float for every element, and packing the
// codes read from the bytes onto a block whose code bits were scrambled gives the bytes back.
TEST_P(GgmlGridTest, GridAndCodesReproduceBytesAndDequantizer) {
  const DType t = GetParam();
  const GgmlGridLayout l = ggml_grid_layout(t);
  const auto x = test_data(4096, 11);
  const Quantized q = quantize(t, x);
  const size_t bb = traits(t).block_bytes;
  std::vector<GgmlSubGrid> g(static_cast<size_t>(l.subs()));
  std::vector<int8_t> codes(static_cast<size_t>(l.block)), scrambled(static_cast<size_t>(l.block));
  std::mt19937 rng(3);
  for (size_t b = 0; b < x.size() / static_cast<size_t>(l.block); ++b) {
    const uint8_t* blk = q.bytes.data() + b * bb;
    ggml_block_grids(t, blk, g.data());
    ggml_block_codes(t, blk, codes.data());
    for (int e = 0; e < l.block; ++e) {
      const int c = codes[static_cast<size_t>(e)];
      ASSERT_GE(c, l.qmin);
      ASSERT_LE(c, l.qmax);
      const float v = ggml_value(g[static_cast<size_t>(e / l.sub)], c);
      ASSERT_TRUE(same_bits(v, q.deq[b * static_cast<size_t>(l.block) + static_cast<size_t>(e)]))
          << dtype_name(t) << " block " << b << " element " << e << ": " << v << " vs "
          << q.deq[b * static_cast<size_t>(l.block) + static_cast<size_t>(e)];
    }
    std::vector<uint8_t> copy(blk, blk + bb);
    for (auto& c : scrambled) c = static_cast<int8_t>(std::uniform_int_distribution<int>(l.qmin, l.qmax)(rng));
    ggml_pack_codes(t, scrambled.data(), copy.data());
    std::vector<int8_t> back(static_cast<size_t>(l.block));
    ggml_block_codes(t, copy.data(), back.data());
    ASSERT_EQ(back, scrambled) << dtype_name(t) << " block " << b;
    ggml_pack_codes(t, codes.data(), copy.data());
    ASSERT_EQ(0, std::memcmp(copy.data(), blk, bb)) << dtype_name(t) << " block " << b;
  }
}

// Every code of the range through pack → ggml_dequantize equals scale · code + offset bit for bit.
TEST_P(GgmlGridTest, EveryCodeDequantizesToTheAffineValue) {
  const DType t = GetParam();
  const GgmlGridLayout l = ggml_grid_layout(t);
  const auto x = test_data(2048, 5);
  Quantized q = quantize(t, x);
  const size_t bb = traits(t).block_bytes, nb = x.size() / static_cast<size_t>(l.block);
  const int range = l.qmax - l.qmin + 1;
  std::vector<int8_t> codes(static_cast<size_t>(l.block));
  for (int shift = 0; shift < range; shift += 7) {
    for (size_t b = 0; b < nb; ++b) {
      for (int e = 0; e < l.block; ++e)
        codes[static_cast<size_t>(e)] = static_cast<int8_t>(l.qmin + (e + shift + static_cast<int>(b)) % range);
      ggml_pack_codes(t, codes.data(), q.bytes.data() + b * bb);
    }
    std::vector<float> deq(x.size());
    ASSERT_TRUE(ggml_dequantize(t, q.bytes.data(), deq.data(), x.size()));
    std::vector<GgmlSubGrid> g(static_cast<size_t>(l.subs()));
    for (size_t b = 0; b < nb; ++b) {
      ggml_block_grids(t, q.bytes.data() + b * bb, g.data());
      for (int e = 0; e < l.block; ++e) {
        const int c = l.qmin + (e + shift + static_cast<int>(b)) % range;
        ASSERT_TRUE(same_bits(ggml_value(g[static_cast<size_t>(e / l.sub)], c),
                              deq[b * static_cast<size_t>(l.block) + static_cast<size_t>(e)]))
            << dtype_name(t) << " code " << c;
      }
    }
  }
}

// Rounding with the extracted grid: the dequantized values give their codes back exactly; on the
// original weights, nearest is ggml's code for the K-quants (where the stored scale is not 0), and for
// the 32-element types it is at most one step away and never further from the weight.
TEST_P(GgmlGridTest, NearestRoundingOnTheGrid) {
  const DType t = GetParam();
  const GgmlGridLayout l = ggml_grid_layout(t);
  const auto x = test_data(8192, 7);
  const Quantized q = quantize(t, x);
  const size_t bb = traits(t).block_bytes;
  std::vector<GgmlSubGrid> g(static_cast<size_t>(l.subs()));
  std::vector<int8_t> codes(static_cast<size_t>(l.block));
  size_t differ = 0, compared = 0;
  for (size_t b = 0; b < x.size() / static_cast<size_t>(l.block); ++b) {
    ggml_block_grids(t, q.bytes.data() + b * bb, g.data());
    ggml_block_codes(t, q.bytes.data() + b * bb, codes.data());
    for (int e = 0; e < l.block; ++e) {
      const GgmlSubGrid& s = g[static_cast<size_t>(e / l.sub)];
      if (s.scale == 0) continue;
      const size_t i = b * static_cast<size_t>(l.block) + static_cast<size_t>(e);
      const int c = codes[static_cast<size_t>(e)];
      ASSERT_EQ(ggml_nearest_code(s, q.deq[i], l.qmin, l.qmax), c) << dtype_name(t) << " element " << i;
      const int n = ggml_nearest_code(s, x[i], l.qmin, l.qmax);
      ++compared;
      if (is_k_quant(t)) {
        ASSERT_EQ(n, c) << dtype_name(t) << " element " << i << " x " << x[i];
      } else if (n != c) {
        ++differ;
        ASSERT_LE(std::abs(n - c), 1) << dtype_name(t) << " element " << i;
        ASSERT_LE(std::fabs(x[i] - ggml_value(s, n)), std::fabs(x[i] - ggml_value(s, c)))
            << dtype_name(t) << " element " << i;
      }
    }
  }
  EXPECT_LT(static_cast<double>(differ), 0.1 * static_cast<double>(compared)) << dtype_name(t);
  if (!is_k_quant(t))
    std::printf("%s: nearest differs from ggml's code in %zu of %zu elements\n", dtype_name(t), differ, compared);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, GgmlGridTest, ::testing::ValuesIn(kTypes),
                         [](const ::testing::TestParamInfo<DType>& p) { return std::string(dtype_name(p.param)); });

// GPTQ's column rule: a weight equal to the one the grid was fixed from keeps its code; others round
// to nearest; a zero-scale sub-block keeps its code.
TEST(GgmlChooseCodes, KeepsCodesOfUnmovedWeightsAndRoundsTheRest) {
  const GgmlGridLayout l = ggml_grid_layout(DType::Q4_0);
  const GgmlSubGrid g[4] = {{0.5f, -0.0f}, {0.5f, -0.0f}, {0.0f, -0.0f}, {0.5f, -0.0f}};
  const float w[4] = {1.24f, 1.24f, 3.0f, -100.0f};
  const float w_fix[4] = {1.24f, 0.0f, 0.0f, 0.0f};
  int8_t code[4] = {3, 3, 5, 0};
  float q[4];
  ggml_choose_codes(l, g, w, w_fix, code, q, 4);
  EXPECT_EQ(code[0], 3);  // unmoved: kept although nearest is 2
  EXPECT_EQ(code[1], 2);
  EXPECT_EQ(code[2], 5);  // zero scale: kept
  EXPECT_EQ(code[3], -8);
  EXPECT_EQ(q[0], 1.5f);
  EXPECT_EQ(q[1], 1.0f);
  EXPECT_EQ(q[2], 0.0f);
  EXPECT_EQ(q[3], -4.0f);
}

}  // namespace
}  // namespace lowbit
