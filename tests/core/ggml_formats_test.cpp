// ggml block formats: known answers from llama.cpp's own files (every 2-D tensor of each
// kjv-llama-8m-<type>-pure.gguf, written by llama-quantize --pure without an importance matrix, must
// be reproduced byte for byte from the bf16 GGUF), blocks derived by hand from the format
// definitions, property tests on seeded random data (round-trip error bounds, zero blocks, bits per
// weight, thread-count invariance) and the importance-weighted variants.
#include "core/quant/ggml_formats.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/io/gguf.h"
#include "core/quant/ggml_blocks.h"
#include "core/tensor/half.h"
#include "test_support.h"

namespace lowbit {
namespace {

const std::vector<DType> kTypes = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                                   DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};
const std::vector<DType> kKQuants = {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};

const std::string kKjvGguf = "models/kjv-llama-8m-gguf/";

std::vector<uint8_t> quantize(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(dtype_bytes(t, x.size()));
  ggml_quantize(t, x.data(), q.data(), x.size());
  return q;
}

std::vector<float> dequantize(DType t, const std::vector<uint8_t>& q, size_t n) {
  std::vector<float> x(n);
  EXPECT_TRUE(ggml_dequantize(t, q.data(), x.data(), n));
  return x;
}

std::string hex(const uint8_t* p, size_t n) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", p[i]);
    s += buf;
    if (i + 1 < n) s += (i % 16 == 15) ? "\n    " : " ";
  }
  return s;
}

std::vector<float> normal_data(size_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> x(n);
  for (auto& v : x) v = dist(rng);
  return x;
}

// ---- 1. Known answers: llama-quantize --pure output, byte for byte -------------------------------

class GgmlKnownAnswer : public ::testing::TestWithParam<DType> {};

TEST_P(GgmlKnownAnswer, PureGgufTensorsMatchByteForByte) {
  const DType type = GetParam();
  const std::string name = std::string("kjv-llama-8m-") + dtype_name(type) + "-pure.gguf";
  LOWBIT_REQUIRE_SHARED(kKjvGguf + "kjv-llama-8m-bf16.gguf");
  LOWBIT_REQUIRE_SHARED(kKjvGguf + name);
  auto bf16 = GgufFile::open(test::shared_dir() / kKjvGguf / "kjv-llama-8m-bf16.gguf");
  ASSERT_TRUE(bf16) << bf16.error().message;
  auto pure = GgufFile::open(test::shared_dir() / kKjvGguf / name);
  ASSERT_TRUE(pure) << pure.error().message;

  std::map<std::string, const TensorInfo*> source;
  for (const auto& t : (*bf16)->tensors()) source[t.name] = &t;

  // Per stored type: tensors compared, tensors identical, bytes compared, bytes identical.
  struct Tally { int tensors = 0, identical = 0; uint64_t bytes = 0, same_bytes = 0; };
  std::map<DType, Tally> tally;
  for (const auto& t : (*pure)->tensors()) {
    if (t.shape.size() != 2) {
      EXPECT_EQ(t.dtype, DType::F32) << t.name << ": 1-D tensors stay f32";
      continue;
    }
    ASSERT_TRUE(is_ggml_quant_type(t.dtype)) << t.name << " has type " << dtype_name(t.dtype);
    ASSERT_TRUE(source.count(t.name)) << t.name << " is missing from the bf16 file";
    const TensorInfo& src = *source[t.name];
    ASSERT_EQ(src.shape, t.shape) << t.name;
    auto x = decode_to_f32(src);
    ASSERT_TRUE(x) << x.error().message;
    const auto ours = quantize(t.dtype, *x);
    ASSERT_EQ(ours.size(), t.nbytes) << t.name;

    auto& tl = tally[t.dtype];
    ++tl.tensors;
    tl.bytes += t.nbytes;
    size_t first_diff = ours.size();
    for (size_t i = 0; i < ours.size(); ++i) {
      if (ours[i] == t.data[i]) ++tl.same_bytes;
      else if (first_diff == ours.size()) first_diff = i;
    }
    if (first_diff == ours.size()) {
      ++tl.identical;
    } else {
      const size_t bb = traits(t.dtype).block_bytes, blk = first_diff / bb;
      ADD_FAILURE() << t.name << " " << t.shape_string() << " (" << dtype_name(t.dtype) << "): first differing block "
                    << blk << " (byte " << first_diff % bb << " of the block)\n  llama.cpp: "
                    << hex(t.data + blk * bb, bb) << "\n  ours:      " << hex(ours.data() + blk * bb, bb);
    }

    // The file's bytes decode close to the bf16 source (the dequantizer reads the same layout).
    const auto back = dequantize(t.dtype, std::vector<uint8_t>(t.data, t.data + t.nbytes), x->size());
    double num = 0, den = 0;
    for (size_t i = 0; i < back.size(); ++i) {
      num += (static_cast<double>(back[i]) - (*x)[i]) * (static_cast<double>(back[i]) - (*x)[i]);
      den += static_cast<double>((*x)[i]) * (*x)[i];
    }
    EXPECT_LT(std::sqrt(num / den), 0.5) << t.name << ": decoded file tensor far from its bf16 source";
  }
  ASSERT_FALSE(tally.empty()) << name << " has no 2-D tensors";
  EXPECT_TRUE(tally.count(type)) << name << " holds no tensor of type " << dtype_name(type);
  for (const auto& [dt, tl] : tally) {
    std::printf("[ %s ] %s tensors: %d/%d identical, %llu/%llu bytes identical\n", name.c_str(), dtype_name(dt),
                tl.identical, tl.tensors, static_cast<unsigned long long>(tl.same_bytes),
                static_cast<unsigned long long>(tl.bytes));
    EXPECT_EQ(tl.identical, tl.tensors) << dtype_name(dt);
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, GgmlKnownAnswer, ::testing::ValuesIn(kTypes),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

// ---- 2. Blocks derived by hand from the format definitions ---------------------------------------

uint16_t u16_at(const std::vector<uint8_t>& q, size_t off) { return static_cast<uint16_t>(q[off] | (q[off + 1] << 8)); }

// q8_0: x_j = j - 16. amax = 16, d = 16/127 (fp16 0x3008), 1/d = 7.9375 exactly, so
// q_j = round((j - 16)·7.9375) with halves away from zero: ±63.5 (j = 8, 24) -> ±64.
TEST(GgmlHandBlocks, Q8_0) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);
  const auto q = quantize(DType::Q8_0, x);
  ASSERT_EQ(q.size(), 34u);
  EXPECT_EQ(u16_at(q, 0), 0x3008);
  for (int j = 0; j < 32; ++j) {
    const double v = (j - 16) * 127.0 / 16.0;
    const int expect = static_cast<int>(v < 0 ? -std::floor(-v + 0.5) : std::floor(v + 0.5));
    EXPECT_EQ(static_cast<int8_t>(q[2 + j]), expect) << "element " << j;
  }
  EXPECT_EQ(static_cast<int8_t>(q[2 + 0]), -127);
  EXPECT_EQ(static_cast<int8_t>(q[2 + 8]), -64);
  EXPECT_EQ(static_cast<int8_t>(q[2 + 24]), 64);
  EXPECT_EQ(static_cast<int8_t>(q[2 + 17]), 8);
  const auto back = dequantize(DType::Q8_0, q, 32);
  EXPECT_FLOAT_EQ(back[0], -127 * f16_to_f32(0x3008));
}

// q4_0 with a negative extreme: x_j = (j mod 16) - 8, max = -8 (first), d = 1 (0x3c00),
// q = trunc(x + 8.5) = j mod 16, element j in the low nibble of byte j, j + 16 in the high nibble.
TEST(GgmlHandBlocks, Q4_0NegativeMax) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j % 16 - 8);
  const auto q = quantize(DType::Q4_0, x);
  ASSERT_EQ(q.size(), 18u);
  EXPECT_EQ(u16_at(q, 0), 0x3c00);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(q[2 + j], j * 17) << "byte " << j;
  EXPECT_EQ(dequantize(DType::Q4_0, q, 32), x);
}

// q4_0 with a positive extreme: x = [4, -4, 1.3, 0, ...]: max = 4, d = 4 / -8 = -0.5 (0xb800),
// 1/d = -2: 4 -> trunc(0.5) = 0; -4 -> trunc(16.5) = 16, clamped to 15; 1.3 -> trunc(5.9) = 5;
// 0 -> 8.
TEST(GgmlHandBlocks, Q4_0PositiveMaxClamps) {
  std::vector<float> x(32, 0.0f);
  x[0] = 4.0f;
  x[1] = -4.0f;
  x[2] = 1.3f;
  x[17] = -4.0f;
  const auto q = quantize(DType::Q4_0, x);
  EXPECT_EQ(u16_at(q, 0), 0xb800);
  EXPECT_EQ(q[2 + 0], 0x80);  // element 0 -> 0, element 16 -> 8
  EXPECT_EQ(q[2 + 1], 0xff);  // element 1 -> 15, element 17 -> 15
  EXPECT_EQ(q[2 + 2], 0x85);  // element 2 -> 5
  EXPECT_EQ(q[2 + 3], 0x88);
  const auto back = dequantize(DType::Q4_0, q, 32);
  EXPECT_EQ(back[0], 4.0f);
  EXPECT_EQ(back[1], -3.5f);  // (15 - 8) · -0.5
  EXPECT_EQ(back[2], 1.5f);   // (5 - 8) · -0.5
}

// q5_0: x_j = j - 16 (max = -16 first, d = 1): q_j = j; the 5th bit of element j is bit j of qh.
TEST(GgmlHandBlocks, Q5_0HighBits) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);
  const auto q = quantize(DType::Q5_0, x);
  ASSERT_EQ(q.size(), 22u);
  EXPECT_EQ(u16_at(q, 0), 0x3c00);
  // Codes j = 16..31 have bit 4 set: qh = 0xffff0000, little-endian.
  EXPECT_EQ(q[2], 0x00);
  EXPECT_EQ(q[3], 0x00);
  EXPECT_EQ(q[4], 0xff);
  EXPECT_EQ(q[5], 0xff);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(q[6 + j], (j & 0xF) | ((j & 0xF) << 4)) << "byte " << j;
  EXPECT_EQ(dequantize(DType::Q5_0, q, 32), x);
}

// q4_1: x_j = 2 + 0.5·j: min 2 (0x4000), d = 15.5/15, codes trunc((x - 2)/d + 0.5).
TEST(GgmlHandBlocks, Q4_1) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = 2.0f + 0.5f * static_cast<float>(j);
  const auto q = quantize(DType::Q4_1, x);
  ASSERT_EQ(q.size(), 20u);
  EXPECT_EQ(u16_at(q, 0), f32_to_f16(15.5f / 15.0f));
  EXPECT_EQ(u16_at(q, 2), 0x4000);
  for (int j = 0; j < 16; ++j) {
    const int lo = std::min(15, static_cast<int>(0.5 * j * 15.0 / 15.5 + 0.5));
    const int hi = std::min(15, static_cast<int>(0.5 * (j + 16) * 15.0 / 15.5 + 0.5));
    EXPECT_EQ(q[4 + j], lo | (hi << 4)) << "byte " << j;
  }
}

// q4_K decoding of a block assembled by hand: d = 1, dmin = 0.5; sub-block 0: scale 2, min 3
// (bytes 0 and 4); sub-block 5: scale 0x31 = 49 (low nibble in byte 9, top bits in byte 1), min
// 0x12 = 18 (high nibble of byte 9, top bits in byte 5). Element 0 is the low nibble of qs[0];
// element 32·5 + 1 = 161 is the high nibble of qs[2·32 + 1] (pair 2 holds sub-blocks 4 and 5).
TEST(GgmlHandBlocks, Q4_KLayoutDecodes) {
  std::vector<uint8_t> b(144, 0);
  b[0] = 0x00, b[1] = 0x3c;   // d = 1.0
  b[2] = 0x00, b[3] = 0x38;   // dmin = 0.5
  b[4 + 0] = 2;               // scale of sub-block 0
  b[4 + 4] = 3;               // min of sub-block 0
  b[4 + 9] = 0x21 | 0x00;     // sub-block 5: scale low nibble 1, min low nibble 2
  b[4 + 1] = 3 << 6;          // sub-block 5: scale bits 4-5 = 3 -> scale 0x31
  b[4 + 5] = 1 << 6;          // sub-block 5: min bits 4-5 = 1 -> min 0x12
  b[16 + 0] = 0x0a;           // element 0: code 10
  b[16 + 64 + 1] = 0x70;      // element 161: code 7
  const auto y = dequantize(DType::Q4_K, b, 256);
  EXPECT_EQ(y[0], 1.0f * 2 * 10 - 0.5f * 3);
  EXPECT_EQ(y[1], -1.5f);
  EXPECT_EQ(y[161], 1.0f * 49 * 7 - 0.5f * 18);
  EXPECT_EQ(y[160], -9.0f);
}

// q6_K decoding by hand: d = 0.25, scale of sub-block 3 (elements 48..63) = -2; element 50 is the
// low nibble of ql[50] with bits 4-5 from qh[18] bits 2-3 (elements 32..63 use shift 2).
TEST(GgmlHandBlocks, Q6_KLayoutDecodes) {
  std::vector<uint8_t> b(210, 0);
  b[208] = 0x00, b[209] = 0x34;  // d = 0.25
  b[192 + 3] = static_cast<uint8_t>(-2);
  b[50] = 0x05;                  // low 4 bits of element 50
  b[128 + 18] = 0x3 << 2;        // high 2 bits of element 50 -> code 0x35 = 53 -> 53 - 32 = 21
  const auto y = dequantize(DType::Q6_K, b, 256);
  EXPECT_EQ(y[50], 0.25f * -2 * 21);
  EXPECT_EQ(y[51], 0.25f * -2 * -32);
}

// ---- 3. Properties on random data ----------------------------------------------------------------

// Largest |x - x̂| allowed, as a fraction of the largest |x| of the block (the super-block for
// K-quants). 32-element types: half a step (a whole step where the reference clamps the code of
// -max, q4_0 and q5_0), plus the fp16 rounding of d (and m): at most 2^-11 of max|x| per scale.
// K-quants: the sub-block step grows with the 4-8-bit quantization of the sub-block scales, so
// the bound is the worst case measured here on normal data with outliers, plus about 30 %.
double error_bound(DType t) {
  constexpr double kFp16 = 1.0 / 2048;
  switch (t) {
    case DType::Q8_0: return 0.5 / 127 + kFp16;
    case DType::Q4_0: return 1.0 / 8 + kFp16;
    case DType::Q4_1: return 1.0 / 15 + 3 * kFp16;
    case DType::Q5_0: return 1.0 / 16 + kFp16;
    case DType::Q5_1: return 1.0 / 31 + 3 * kFp16;
    case DType::Q2_K: return 0.48;
    case DType::Q3_K: return 0.25;
    case DType::Q4_K: return 0.11;
    case DType::Q5_K: return 0.066;
    case DType::Q6_K: return 0.021;
    default: return 0;
  }
}

// Relative RMS error ‖x - x̂‖ / ‖x‖ allowed on the same data (measured + about 10 %).
double rms_bound(DType t) {
  switch (t) {
    case DType::Q8_0: return 0.0064;
    case DType::Q4_0: return 0.101;
    case DType::Q4_1: return 0.088;
    case DType::Q5_0: return 0.051;
    case DType::Q5_1: return 0.042;
    case DType::Q2_K: return 0.33;
    case DType::Q3_K: return 0.168;
    case DType::Q4_K: return 0.080;
    case DType::Q5_K: return 0.041;
    case DType::Q6_K: return 0.021;
    default: return 0;
  }
}

class GgmlProperties : public ::testing::TestWithParam<DType> {};

TEST_P(GgmlProperties, RoundTripErrorBoundedByBlockRange) {
  const DType t = GetParam();
  const size_t bs = traits(t).block_size, n = 256 * 512;
  auto x = normal_data(n, 1234);
  // Some blocks with outliers and with all-positive or all-negative values.
  for (size_t i = 0; i < n; i += 4099) x[i] *= 12.0f;
  for (size_t i = 256 * 10; i < 256 * 11; ++i) x[i] = std::fabs(x[i]) + 0.5f;
  for (size_t i = 256 * 20; i < 256 * 21; ++i) x[i] = -std::fabs(x[i]) - 0.5f;
  const auto y = dequantize(t, quantize(t, x), n);
  double worst = 0, se = 0, ss = 0;
  for (size_t b = 0; b < n / bs; ++b) {
    float amax = 0;
    for (size_t i = b * bs; i < (b + 1) * bs; ++i) amax = std::max(amax, std::fabs(x[i]));
    for (size_t i = b * bs; i < (b + 1) * bs; ++i) {
      const double e = std::fabs(static_cast<double>(x[i]) - y[i]);
      worst = std::max(worst, e / amax);
      se += e * e;
      ss += static_cast<double>(x[i]) * x[i];
    }
  }
  std::printf("[ %s ] worst |x - x̂| / block max|x| = %.4f (bound %.4f), relative RMS error %.4f\n", dtype_name(t),
              worst, error_bound(t), std::sqrt(se / ss));
  EXPECT_LE(worst, error_bound(t));
  EXPECT_LE(std::sqrt(se / ss), rms_bound(t));
}

TEST_P(GgmlProperties, ZeroBlocksRoundTripToZero) {
  const DType t = GetParam();
  const size_t bs = traits(t).block_size;
  std::vector<float> x(bs * 3, 0.0f);
  for (size_t i = bs; i < 2 * bs; ++i) x[i] = static_cast<float>(i % 7) - 3.0f;  // a non-zero block between
  const auto y = dequantize(t, quantize(t, x), x.size());
  for (size_t i = 0; i < bs; ++i) {
    EXPECT_EQ(y[i], 0.0f) << i;
    EXPECT_EQ(y[2 * bs + i], 0.0f) << 2 * bs + i;
  }
}

TEST_P(GgmlProperties, BitsPerWeightArithmetic) {
  const DType t = GetParam();
  const auto& tr = traits(t);
  EXPECT_DOUBLE_EQ(ggml_bits_per_weight(t), 8.0 * tr.block_bytes / tr.block_size);
  const std::map<DType, double> known = {{DType::Q8_0, 8.5}, {DType::Q4_0, 4.5},   {DType::Q4_1, 5.0},
                                         {DType::Q5_0, 5.5}, {DType::Q5_1, 6.0},   {DType::Q2_K, 2.625},
                                         {DType::Q3_K, 3.4375}, {DType::Q4_K, 4.5}, {DType::Q5_K, 5.5},
                                         {DType::Q6_K, 6.5625}};
  EXPECT_DOUBLE_EQ(ggml_bits_per_weight(t), known.at(t));
  EXPECT_EQ(dtype_bytes(t, 4096 * 4096) * 8, static_cast<uint64_t>(ggml_bits_per_weight(t) * 4096 * 4096));
}

TEST_P(GgmlProperties, SameBytesForAnyThreadCount) {
  const DType t = GetParam();
  const auto x = normal_data(256 * 700, 99);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto one = quantize(t, x);
  omp_set_num_threads(3);
  const auto three = quantize(t, x);
  omp_set_num_threads(saved);
  EXPECT_EQ(one, three);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, GgmlProperties, ::testing::ValuesIn(kTypes),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

// The K-quant kernels run the sub-blocks of a super-block in SIMD lanes; they must give the bytes
// of the plain one-sub-block-at-a-time transcription of ggml's loops, also on the inputs real
// weights rarely hold: zero, constant, one-signed, tiny, huge-range and integer-valued sub-blocks.
std::vector<float> edge_case_data() {
  auto x = normal_data(256 * 64, 5);
  auto block = [&](int b) { return x.data() + 256 * b; };
  std::fill(block(0), block(1), 0.0f);                                          // all zero
  std::fill(block(1), block(1) + 64, 0.0f);                                     // zero sub-blocks
  std::fill(block(2) + 32, block(2) + 64, 0.75f);                               // constant > 0
  std::fill(block(3) + 16, block(3) + 48, -0.75f);                              // constant < 0
  for (int i = 0; i < 256; ++i) block(4)[i] = std::fabs(block(4)[i]) + 1.0f;    // all positive
  for (int i = 0; i < 256; ++i) block(5)[i] = -std::fabs(block(5)[i]) - 1.0f;   // all negative
  for (int i = 0; i < 256; ++i) block(6)[i] *= 1e-12f;                          // below GROUP_MAX_EPS-ish
  for (int i = 0; i < 256; ++i) block(7)[i] *= (i % 32 == 0) ? 1e5f : 1e-5f;    // huge range
  for (int i = 0; i < 256; ++i) block(8)[i] = static_cast<float>(i % 9 - 4);    // integers, ties
  for (int i = 0; i < 256; ++i) block(9)[i] = (i % 16 == 3) ? 5.0f : 0.0f;      // sparse
  for (int i = 0; i < 256; ++i) block(10)[i] = static_cast<float>(i % 16) * 0.5f;  // ramps
  return x;
}

void expect_same_blocks(DType t, const std::vector<uint8_t>& scalar, const std::vector<uint8_t>& lanes, const char* path) {
  ASSERT_EQ(scalar.size(), lanes.size());
  const size_t bb = traits(t).block_bytes;
  for (size_t b = 0; b < scalar.size() / bb; ++b) {
    if (std::memcmp(lanes.data() + b * bb, scalar.data() + b * bb, bb) == 0) continue;
    ADD_FAILURE() << dtype_name(t) << " (" << path << ") block " << b << "\n  scalar: "
                  << hex(scalar.data() + b * bb, bb) << "\n  lanes:  " << hex(lanes.data() + b * bb, bb);
    return;
  }
}

TEST(GgmlLanes, KQuantLanesMatchScalarTranscription) {
  const auto x = edge_case_data();
  const auto nb = static_cast<int64_t>(x.size() / 256);
  const std::map<DType, void (*)(const float*, uint8_t*, int64_t)> scalar = {
      {DType::Q2_K, ggml::quantize_q2_K_scalar}, {DType::Q3_K, ggml::quantize_q3_K_scalar},
      {DType::Q4_K, ggml::quantize_q4_K_scalar}, {DType::Q5_K, ggml::quantize_q5_K_scalar},
      {DType::Q6_K, ggml::quantize_q6_K_scalar}};
  for (const DType t : kKQuants) {
    const auto lanes = quantize(t, x);
    std::vector<uint8_t> plain(lanes.size());
    scalar.at(t)(x.data(), plain.data(), nb);
    expect_same_blocks(t, plain, lanes, "reference");
  }
}

// The weighted paths search eight (sub-)blocks at a time in lanes; rows of 13 blocks leave the
// 32-element types a scalar tail of 5 blocks.
TEST(GgmlLanes, WeightedLanesMatchScalarTranscription) {
  const auto data = edge_case_data();
  std::mt19937 rng(3);
  std::lognormal_distribution<float> wdist(0.0f, 1.0f);
  const std::map<DType, void (*)(const float*, uint8_t*, int64_t, const float*)> scalar = {
      {DType::Q4_0, ggml::quantize_q4_0_weighted_scalar}, {DType::Q4_1, ggml::quantize_q4_1_weighted_scalar},
      {DType::Q5_0, ggml::quantize_q5_0_weighted_scalar}, {DType::Q5_1, ggml::quantize_q5_1_weighted_scalar},
      {DType::Q2_K, ggml::quantize_q2_K_weighted_scalar}, {DType::Q3_K, ggml::quantize_q3_K_weighted_scalar},
      {DType::Q4_K, ggml::quantize_q4_K_weighted_scalar}, {DType::Q5_K, ggml::quantize_q5_K_weighted_scalar},
      {DType::Q6_K, ggml::quantize_q6_K_weighted_scalar}};
  for (const auto& [t, plain_fn] : scalar) {
    const int64_t cols = traits(t).block_size == 256 ? 1024 : 32 * 13;
    const int64_t rows = static_cast<int64_t>(data.size()) / cols;
    const std::vector<float> x(data.begin(), data.begin() + rows * cols);
    std::vector<float> w(static_cast<size_t>(cols));
    for (auto& v : w) v = wdist(rng);
    std::fill(w.begin() + 40, w.begin() + 72, 0.0f);  // zero importances too
    std::vector<uint8_t> lanes(dtype_bytes(t, x.size())), plain(lanes.size());
    ggml_quantize_weighted(t, x.data(), lanes.data(), rows, cols, w.data());
    const size_t row_bytes = dtype_bytes(t, static_cast<uint64_t>(cols));
    for (int64_t r = 0; r < rows; ++r) plain_fn(x.data() + r * cols, plain.data() + r * row_bytes, cols, w.data());
    expect_same_blocks(t, plain, lanes, "weighted");
  }
}

// ---- 4. Importance-weighted variants -------------------------------------------------------------

double weighted_error(DType t, const std::vector<float>& x, const std::vector<uint8_t>& q, const std::vector<float>& w,
                      int64_t n_per_row) {
  const auto y = dequantize(t, q, x.size());
  double e = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double d = static_cast<double>(x[i]) - y[i];
    e += w[i % static_cast<size_t>(n_per_row)] * d * d;
  }
  return e;
}

class GgmlWeighted : public ::testing::TestWithParam<DType> {};

TEST_P(GgmlWeighted, LowersWeightedErrorInAggregate) {
  const DType t = GetParam();
  const int64_t rows = 64, cols = 1024;
  const auto x = normal_data(static_cast<size_t>(rows * cols), 7);
  std::mt19937 rng(11);
  std::lognormal_distribution<float> wdist(0.0f, 1.5f);  // importances spread over ~two decades
  std::vector<float> w(static_cast<size_t>(cols));
  for (auto& v : w) v = wdist(rng);

  const auto ref = quantize(t, x);
  std::vector<uint8_t> weighted(ref.size());
  ggml_quantize_weighted(t, x.data(), weighted.data(), rows, cols, w.data());
  const double e_ref = weighted_error(t, x, ref, w, cols), e_w = weighted_error(t, x, weighted, w, cols);
  std::printf("[ %s ] Σ w·(x - x̂)²: reference %.4f, weighted %.4f (ratio %.3f)\n", dtype_name(t), e_ref, e_w,
              e_w / e_ref);
  if (t == DType::Q8_0) {
    EXPECT_EQ(weighted, ref) << "q8_0 has no weighted path in ggml";
  } else {
    EXPECT_LT(e_w, 0.9 * e_ref);  // lognormal importances: the weighted path must clearly help
  }

  // Without weights the weighted entry point is the reference quantizer.
  std::vector<uint8_t> unweighted(ref.size());
  ggml_quantize_weighted(t, x.data(), unweighted.data(), rows, cols, nullptr);
  EXPECT_EQ(unweighted, ref);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, GgmlWeighted, ::testing::ValuesIn(kTypes),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

}  // namespace
}  // namespace lowbit
