// The matmul op's two shader paths (gpu/ops/matmul_op.h, MatmulPath) on every Vulkan device present.
// Where a device has cooperative matrices (DeviceInfo::cooperative_matrix: an NVIDIA GPU), the
// cooperative path's product for every weight format is checked against the oracle it promises:
// X and the dequantized weights rounded to fp16, then multiplied and summed in double; within
// 2e-5 of max |Y| for the float formats (fp32 sums in the tensor cores' order) and 1e-4 for the
// quantized ones (a weight the shader dequantizes one ulp away from the core may round to the
// neighbouring fp16), and within 2e-3 of the fp32 product (what fp16 rounding costs). Shapes cross the 128×128 tile and
// the 32-wide K step without being multiples of them. Where a device has none (lavapipe), asking for the cooperative
// path runs the portable one, bit for bit. Skips with a message where there is no Vulkan device, and the cooperative
// check skips, naming the devices, where none of them has cooperative matrices.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "core/tensor/half.h"
#include "gpu/ops/matmul_op.h"
#include "gpu_test_support.h"
#include "packed_weights.h"

namespace lowbit::gpu {
namespace {

std::vector<float> random_values(size_t count, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

float round_to_f16(float v) {
  return f16_to_f32(f32_to_f16(v));
}

// Y = X · Wᵀ in double, optionally from fp16-rounded operands.
std::vector<double> product(const std::vector<float>& x, const std::vector<float>& w, const MatmulShape& s,
                            bool fp16_operands) {
  std::vector<double> y(static_cast<size_t>(s.m * s.n), 0.0);
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      double acc = 0.0;
      for (int64_t t = 0; t < s.k; ++t) {
        float a = x[i * s.k + t], b = w[j * s.k + t];
        if (fp16_operands) a = round_to_f16(a), b = round_to_f16(b);
        acc += double(a) * double(b);
      }
      y[i * s.n + j] = acc;
    }
  return y;
}

double max_relative_error(const std::vector<float>& got, const std::vector<double>& want) {
  double err = 0.0, scale = 0.0;
  for (size_t i = 0; i < want.size(); ++i) {
    err = std::max(err, std::abs(double(got[i]) - want[i]));
    scale = std::max(scale, std::abs(want[i]));
  }
  return err / std::max(scale, 1e-30);
}

std::string text(const MatmulShape& s) {
  return std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
}

// Formats of every family, with the K they need: float, legacy and K-quant ggml blocks, grouped
// and per-row int (K = 100: the last 32-wide step is partial; f32 with K = 98: X's rows are not
// whole float quadruples, so the shader reads them one float at a time; f16 with K = 100: the
// weights through dequant8, not as stored 16-byte runs).
struct Case {
  const char* format;
  int64_t k;
};
const Case kCases[] = {{"f16", 96},   {"f32", 96},   {"bf16", 96},  {"q8_0", 96},       {"q4_0", 96},    {"q5_1", 96},
                       {"q4_k", 256}, {"q6_k", 256}, {"q2_k", 256}, {"int4g128a", 256}, {"int3g0a", 100}, {"f32", 98},
                       {"f16", 100}};

TEST(MatmulCoop, PathIsChosenFromTheDeviceFeatures) {
  FOR_EACH_DEVICE({
    EXPECT_EQ(resolve_matmul_path(device, MatmulPath::Portable), MatmulPath::Portable);
    const MatmulPath coop = resolve_matmul_path(device, MatmulPath::Cooperative);
    std::printf("[ %s ] cooperative matrices: %s (extensions: %s); a cooperative request runs the %s path\n",
                device.info().name.c_str(), device.info().cooperative_matrix ? "yes" : "no",
                device.info().cooperative_matrix_extensions.empty()
                    ? "none"
                    : device.info().cooperative_matrix_extensions.c_str(),
                matmul_path_name(coop));
    EXPECT_EQ(device.features().cooperative_matrix, device.info().cooperative_matrix);
    if (!device.info().cooperative_matrix) {
      EXPECT_EQ(coop, MatmulPath::Portable);
    }
  });
}

TEST(MatmulCoop, DevicesWithoutCooperativeMatricesRunThePortablePath) {
  FOR_EACH_DEVICE({
    if (resolve_matmul_path(device, MatmulPath::Cooperative) == MatmulPath::Cooperative) continue;
    for (const char* name : {"f16", "q4_k"}) {
      const Format f = *Format::parse(name);
      const MatmulShape s{37, 70, 256};
      const auto x = random_values(static_cast<size_t>(s.m * s.k), 1, 1.0f);
      const test::PackedWeights w = test::pack_weights(f, random_values(static_cast<size_t>(s.n * s.k), 2, 0.05f), s.n, s.k).value();
      std::vector<float> portable(static_cast<size_t>(s.m * s.n), NAN), requested(portable.size(), NAN);
      ASSERT_TRUE(matmul(device, s, f, x, w.bytes, portable, MatmulPath::Portable).has_value());
      ASSERT_TRUE(matmul(device, s, f, x, w.bytes, requested, MatmulPath::Cooperative).has_value());
      EXPECT_EQ(0, std::memcmp(portable.data(), requested.data(), portable.size() * sizeof(float))) << name;
    }
  });
}

// Runs `path` for every case on `device` and checks it against the fp16-rounded oracle.
void expect_fp16_products(Device& device, MatmulPath path, uint32_t seed) {
  for (const Case& c : kCases) {
    const Format f = *Format::parse(c.format);
    // One element; partial tiles along M and N; whole tiles with several K steps.
    for (const MatmulShape& s : {MatmulShape{1, 1, c.k}, MatmulShape{37, 150, c.k}, MatmulShape{256, 128, c.k}}) {
      const auto x = random_values(static_cast<size_t>(s.m * s.k), ++seed, 1.0f);
      const test::PackedWeights w = test::pack_weights(f, random_values(static_cast<size_t>(s.n * s.k), ++seed, 0.05f), s.n, s.k).value();
      std::vector<float> y(static_cast<size_t>(s.m * s.n), NAN);
      auto done = matmul(device, s, f, x, w.bytes, y, path);
      ASSERT_TRUE(done.has_value()) << c.format << " " << text(s) << ": " << done.error().message;
      const double rounded = max_relative_error(y, product(x, w.values, s, true));
      const double exact = max_relative_error(y, product(x, w.values, s, false));
      std::printf("[ %s ] %s %-9s %s: error %.3g against the fp16-rounded product, %.3g against fp32\n",
                  device.info().name.c_str(), matmul_path_name(path), c.format, text(s).c_str(), rounded, exact);
      EXPECT_LE(rounded, f.kind == Format::Kind::Float ? 2e-5 : 1e-4) << c.format << " " << text(s);
      // What fp16 rounding costs, against the largest |Y|: over one output, which can cancel to near
      // zero, that says nothing of the shader.
      if (s.m * s.n > 1) {
        EXPECT_LE(exact, 2e-3) << c.format << " " << text(s);
      }
    }
  }
}

// The cooperative shader's tiling, staging and edges, with its matrix operations written out.
TEST(MatmulCoop, EmulatedCooperativeShaderMatchesTheFp16RoundedProduct) {
  FOR_EACH_DEVICE({ expect_fp16_products(device, MatmulPath::CooperativeEmulated, 10); });
}

TEST(MatmulCoop, EveryFormatMatchesTheFp16RoundedProduct) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  int ran = 0;
  const std::string without = on_devices_with(
      devices, [](Device& d) { return resolve_matmul_path(d, MatmulPath::Cooperative) == MatmulPath::Cooperative; },
      [](Device& d) {
        SCOPED_TRACE(d.info().name);
        expect_fp16_products(d, MatmulPath::Cooperative, 10);
      },
      ran);
  if (ran == 0)
    GTEST_SKIP() << "no device here has cooperative matrices (" << without
                 << "); the portable path ran instead (DevicesWithoutCooperativeMatricesRunThePortablePath) and "
                    "the shader's tiling was checked with its matrix operations written out";
}

}  // namespace
}  // namespace lowbit::gpu
