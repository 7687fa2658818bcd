// The matmul op (gpu/ops/matmul_op.h) with weights in every stored format, on every Vulkan device
// present: random weights are quantized by the core (ggml_quantize for the ggml block types, rtn_int
// for the int family, fp16/bf16 rounding for the float types), the oracle is the core's
// dequantization (ggml_dequantize, dequantize_int) followed by an Eigen product, and the GPU result
// must agree within max |Δ| ≤ 1e-4 · max |Y|. Shapes cross the 64×64 output tile and the 32-wide K
// step without being multiples of them (K = 256·k for the K-quants). Also: the int family's GPU
// layout bit by bit, and the errors for K that is not a whole number of blocks or groups, onebit
// weights and wrong span or buffer sizes. Skips with a message where there is no Vulkan device.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "core/quant/ggml_formats.h"
#include "core/quant/int_quant.h"
#include "core/tensor/eigen_types.h"
#include "core/tensor/half.h"
#include "gpu/ops/int_weights.h"
#include "gpu/ops/matmul_op.h"
#include "gpu_test_support.h"

namespace lowbit::gpu {
namespace {

constexpr double kTolerance = 1e-4;  // of max |Y|

// Normal weights with a few outliers, as real layers have: they stretch the block scales.
std::vector<float> random_weights(int64_t n, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::uniform_int_distribution<int> outlier(0, 63);
  std::vector<float> w(static_cast<size_t>(n * k));
  for (float& v : w) v = dist(rng) * (outlier(rng) == 0 ? 6.0f : 1.0f);
  return w;
}

std::vector<float> random_inputs(int64_t m, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(m * k));
  for (float& v : x) v = dist(rng);
  return x;
}

// The oracle: Y = X · Ŵᵀ with the dequantized weights Ŵ, by Eigen.
std::vector<float> eigen_product(const std::vector<float>& x, const std::vector<float>& w, const MatmulShape& s) {
  const ConstMatrixRMMap X(x.data(), s.m, s.k), W(w.data(), s.n, s.k);
  const MatrixRM Y = X * W.transpose();
  return {Y.data(), Y.data() + Y.size()};
}

// max |got − want| / max |want|.
double max_relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  double err = 0.0, scale = 0.0;
  for (size_t i = 0; i < want.size(); ++i) {
    err = std::max(err, std::abs(double(got[i]) - double(want[i])));
    scale = std::max(scale, std::abs(double(want[i])));
  }
  return err / std::max(scale, 1e-30);
}

std::string text(const MatmulShape& s) {
  return std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
}

// Runs the product of packed weights `w` (format `f`) on `device` and checks it against `want`.
void expect_product(Device& device, const Format& f, const MatmulShape& s, const std::vector<float>& x,
                    std::span<const std::byte> w, const std::vector<float>& want) {
  std::vector<float> y(static_cast<size_t>(s.m * s.n), NAN);
  auto done = matmul(device, s, f, x, w, y);
  ASSERT_TRUE(done.has_value()) << f.name() << " " << text(s) << ": " << done.error().message;
  const double err = max_relative_error(y, want);
  std::printf("[ %s ] matmul %-9s %s: max relative error %.3g\n", device.info().name.c_str(), f.name().c_str(),
              text(s).c_str(), err);
  EXPECT_LE(err, kTolerance) << device.info().name << " " << f.name() << " " << text(s);
}

TEST(MatmulDequant, GgmlBlockTypesMatchTheCoreDequantization) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  const DType types[] = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                         DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};
  uint32_t seed = 100;
  for (const DType type : types) {
    const int64_t block = traits(type).block_size;  // 32 or 256
    // One element; several tiles along M and N, none of them whole; and K of several blocks.
    const MatmulShape shapes[] = {{1, 1, block}, {17, 70, 2 * block}, {66, 130, block == 32 ? 320 : 256}};
    for (const MatmulShape& s : shapes) {
      const auto w = random_weights(s.n, s.k, ++seed);
      const auto x = random_inputs(s.m, s.k, ++seed);
      std::vector<uint8_t> packed(dtype_bytes(type, static_cast<uint64_t>(s.n * s.k)));
      ggml_quantize(type, w.data(), packed.data(), w.size());
      std::vector<float> dequantized(w.size());
      ASSERT_TRUE(ggml_dequantize(type, packed.data(), dequantized.data(), dequantized.size()));
      const auto want = eigen_product(x, dequantized, s);
      for (auto& device : devices)
        expect_product(*device, Format::ggml(type), s, x, std::as_bytes(std::span(packed)), want);
    }
  }
}

TEST(MatmulDequant, FloatTypesMatchTheRoundedWeights) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  const MatmulShape shapes[] = {{1, 1, 1}, {17, 70, 65}, {66, 130, 300}};
  uint32_t seed = 200;
  for (const DType type : {DType::F32, DType::F16, DType::BF16})
    for (const MatmulShape& s : shapes) {
      const auto w = random_weights(s.n, s.k, ++seed);
      const auto x = random_inputs(s.m, s.k, ++seed);
      std::vector<std::byte> packed(dtype_bytes(type, w.size()));
      std::vector<float> rounded(w.size());
      for (size_t i = 0; i < w.size(); ++i) {
        if (type == DType::F32) {
          std::memcpy(packed.data() + 4 * i, &w[i], 4);
          rounded[i] = w[i];
        } else {
          const uint16_t h = type == DType::F16 ? f32_to_f16(w[i]) : f32_to_bf16(w[i]);
          std::memcpy(packed.data() + 2 * i, &h, 2);
          rounded[i] = type == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
        }
      }
      const auto want = eigen_product(x, rounded, s);
      for (auto& device : devices) expect_product(*device, Format::float_type(type), s, x, packed, want);
    }
}

TEST(MatmulDequant, IntFamilyMatchesDequantizeInt) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  // Every bit width, symmetric and asymmetric, per-row (g0, with K not a multiple of 8 or 32, so
  // codes straddle words and the last K step is partial) and grouped.
  const char* formats[] = {"int2g32a",  "int3g32s", "int3g128a", "int3g0a",   "int4g128a", "int4g0s", "int5g32a",
                           "int5g128s", "int5g0a",  "int6g32s",  "int7g128a", "int8g32a",  "int8g0s", "int2g0s"};
  uint32_t seed = 300;
  for (const char* name : formats) {
    const Format f = *Format::parse(name);
    const int64_t k = f.group == 0 ? 100 : 256;
    for (const MatmulShape& s : {MatmulShape{1, 1, k}, MatmulShape{17, 70, k}, MatmulShape{66, 130, k}}) {
      const auto w = random_weights(s.n, s.k, ++seed);
      const auto x = random_inputs(s.m, s.k, ++seed);
      const IntTensor q = rtn_int(w.data(), s.n, s.k, f);
      std::vector<float> dequantized(w.size());
      dequantize_int(q, dequantized.data());
      const auto want = eigen_product(x, dequantized, s);
      auto packed = pack_int_weights(q);
      ASSERT_TRUE(packed.has_value()) << packed.error().message;
      ASSERT_EQ(packed->size() * 4, matmul_weight_bytes(f, s));
      for (auto& device : devices)
        expect_product(*device, f, s, x, std::as_bytes(std::span<const uint32_t>(*packed)), want);
    }
  }
  // The IntTensor overload packs by itself.
  const Format f = *Format::parse("int3g32a");
  const MatmulShape s{5, 9, 64};
  const auto w = random_weights(s.n, s.k, 1), x = random_inputs(s.m, s.k, 2);
  const IntTensor q = rtn_int(w.data(), s.n, s.k, f);
  std::vector<float> dequantized(w.size()), y(static_cast<size_t>(s.m * s.n));
  dequantize_int(q, dequantized.data());
  for (auto& device : devices) {
    auto done = matmul(*device, x, q, s.m, y);
    ASSERT_TRUE(done.has_value()) << done.error().message;
    EXPECT_LE(max_relative_error(y, eigen_product(x, dequantized, s)), kTolerance) << device->info().name;
  }
}

// The documented layout (gpu/ops/int_weights.h), independently of any shader.
TEST(MatmulDequant, IntWeightsPackAsDocumented) {
  IntTensor t;
  t.format = *Format::parse("int3g8a");
  t.rows = 2;
  t.cols = 16;
  for (int64_t i = 0; i < t.rows * t.cols; ++i) t.codes.push_back(static_cast<uint8_t>((5 * i + 3) % 8));
  for (int i = 0; i < 4; ++i) t.grids.push_back({0.25f * static_cast<float>(i + 1), static_cast<float>(i)});
  auto layout = int_weight_layout(t.format, t.rows, t.cols);
  ASSERT_TRUE(layout.has_value());
  EXPECT_EQ(layout->row_words, 2u);  // 48 bits
  EXPECT_EQ(layout->groups, 2u);
  EXPECT_EQ(layout->grid_offset, 4u);
  EXPECT_EQ(layout->words, 12u);
  auto words = pack_int_weights(t);
  ASSERT_TRUE(words.has_value()) << words.error().message;
  ASSERT_EQ(words->size(), 12u);
  for (int64_t r = 0; r < t.rows; ++r)
    for (int64_t c = 0; c < t.cols; ++c) {
      uint64_t stream = (*words)[2 * r] | (uint64_t{(*words)[2 * r + 1]} << 32);
      EXPECT_EQ((stream >> (3 * c)) & 7u, t.codes[static_cast<size_t>(r * t.cols + c)]) << r << "," << c;
    }
  EXPECT_EQ(((*words)[0] >> 30) | (((*words)[1] & 1u) << 2), t.codes[10]);  // code 10 straddles the words
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(std::bit_cast<float>((*words)[4 + 2 * i]), t.grids[i].scale);
    EXPECT_EQ(std::bit_cast<float>((*words)[5 + 2 * i]), t.grids[i].zero);
  }
  t.codes[3] = 8;  // does not fit 3 bits
  EXPECT_EQ(pack_int_weights(t).error().code, ErrorCode::InvalidArgument);
  t.codes.pop_back();
  EXPECT_EQ(pack_int_weights(t).error().code, ErrorCode::InvalidArgument);
}

TEST(MatmulDequant, UnusableFormatsAndSizesAreErrors) {
  const auto code = [](const Format& f, MatmulShape s) {
    auto r = check_matmul_weights(f, s);
    return r ? std::string("ok") : std::string(to_string(r.error().code)) + ": " + r.error().message;
  };
  EXPECT_EQ(code(Format::ggml(DType::Q4_K), {4, 4, 512}), "ok");
  const std::string q4k = code(Format::ggml(DType::Q4_K), {4, 4, 128});
  EXPECT_EQ(q4k.rfind(to_string(ErrorCode::InvalidArgument), 0), 0u) << q4k;
  EXPECT_NE(q4k.find("block size 256"), std::string::npos) << q4k;
  EXPECT_EQ(check_matmul_weights(Format::ggml(DType::Q4_0), {4, 4, 48}).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(check_matmul_weights(*Format::parse("int4g32a"), {4, 4, 48}).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(code(*Format::parse("int4g0a"), {4, 4, 47}), "ok");
  EXPECT_EQ(check_matmul_weights(*Format::parse("onebit"), {4, 4, 64}).error().code, ErrorCode::Unsupported);
  EXPECT_EQ(check_matmul_weights(Format::float_type(DType::I8), {4, 4, 64}).error().code, ErrorCode::Unsupported);
  EXPECT_EQ(matmul_weight_bytes(Format::ggml(DType::Q4_0), {4, 3, 64}), 3u * 36u);
  EXPECT_EQ(matmul_weight_buffer_bytes(Format::ggml(DType::Q4_0), {4, 1, 32}), 20u);  // 18 bytes, whole words
  EXPECT_EQ(matmul_weight_bytes(Format::float_type(DType::BF16), {4, 3, 5}), 30u);

  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  Device& d = *devices.front();
  const MatmulShape s{2, 3, 256};
  const Format f = Format::ggml(DType::Q6_K);
  std::vector<float> x(2 * 256), y(6);
  std::vector<std::byte> w(matmul_weight_bytes(f, s));
  EXPECT_TRUE(matmul(d, s, f, x, w, y).has_value());
  auto short_w = matmul(d, s, f, x, std::span(w).first(w.size() - 1), y);
  ASSERT_FALSE(short_w.has_value());
  EXPECT_EQ(short_w.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(short_w.error().message.find("M=2, N=3, K=256"), std::string::npos) << short_w.error().message;
  auto bad_k = matmul(d, {2, 3, 100}, f, std::span(x).first(200), w, y);
  ASSERT_FALSE(bad_k.has_value());
  EXPECT_EQ(bad_k.error().code, ErrorCode::InvalidArgument);

  auto xb = Buffer::create(d, x.size() * 4, MemoryUse::Device);
  auto wb = Buffer::create(d, matmul_weight_buffer_bytes(f, s) - 4, MemoryUse::Device);
  auto yb = Buffer::create(d, y.size() * 4, MemoryUse::Device);
  ASSERT_TRUE(xb && wb && yb);
  auto rec = CommandRecorder::begin(d);
  ASSERT_TRUE(rec.has_value());
  auto small_w = record_matmul(*rec, s, f, *xb, *wb, *yb);
  ASSERT_FALSE(small_w.has_value());
  EXPECT_EQ(small_w.error().code, ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace lowbit::gpu
