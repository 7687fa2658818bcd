// The GPU RTN quantizer (gpu/ops/rtn_int_op.h) against core's rtn_int on every Vulkan device present:
// codes and grids must be identical — every scale, zero point and code — for 2..8 bits, per-row (g0)
// and grouped formats, asymmetric and symmetric, a clip ratio, fp16-rounded scales, and matrices
// made to be hard: outliers, all-zero, all-positive and all-negative groups, tiny and huge
// magnitudes, and weights placed exactly on and next to the rounding midpoints of their grid (where
// a division off by one ulp changes the code). Also format errors.
// Skips with a message where there is no Vulkan device.
#include "gpu/ops/rtn_int_op.h"

#include <gtest/gtest.h>

#include <cmath>

#include "gpu_test_support.h"
#include "op_test_support.h"

namespace lowbit::gpu {
namespace {

// rows × cols weights, row r made hard in its own way (see above).
std::vector<float> hard_matrix(int64_t rows, int64_t cols, uint32_t seed) {
  std::vector<float> w = random_floats(static_cast<size_t>(rows * cols), seed, 0.05f);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = w.data() + r * cols;
    switch (r % 8) {
      case 1:
        row[r % cols] = 3.0f;
        break;  // an outlier
      case 2:
        std::fill(row, row + cols, 0.0f);
        break;  // all zero
      case 3:
        for (int64_t c = 0; c < cols; ++c) row[c] = std::abs(row[c]);
        break;
      case 4:
        for (int64_t c = 0; c < cols; ++c) row[c] = -std::abs(row[c]);
        break;
      case 5:
        for (int64_t c = 0; c < cols; ++c) row[c] *= 1e-30f;
        break;
      case 6:
        for (int64_t c = 0; c < cols; ++c) row[c] *= 1e30f;
        break;
      default:
        break;
    }
  }
  return w;
}

// Weights on the midpoints k + 1/2 of the row's own grid, and one ulp either side of them.
void place_on_midpoints(std::vector<float>& w, int64_t row, int64_t cols, const IntTensor& t) {
  const int maxq = max_code(t.format.bits);
  for (int64_t c = 1; c < cols; ++c) {
    const IntGrid& g = t.grid(row, c);
    const float k = static_cast<float>(c % maxq) - g.zero;
    const float mid = (k + 0.5f) * g.scale;
    w[static_cast<size_t>(row * cols + c)] = c % 3 == 0 ? mid : std::nextafter(mid, c % 3 == 1 ? INFINITY : -INFINITY);
  }
}

void expect_identical(const IntTensor& got, const IntTensor& want, const std::string& what) {
  ASSERT_EQ(got.codes.size(), want.codes.size()) << what;
  ASSERT_EQ(got.grids.size(), want.grids.size()) << what;
  int64_t bad_codes = 0, bad_grids = 0;
  for (size_t i = 0; i < want.codes.size(); ++i) bad_codes += got.codes[i] != want.codes[i];
  for (size_t i = 0; i < want.grids.size(); ++i)
    bad_grids += got.grids[i].scale != want.grids[i].scale || got.grids[i].zero != want.grids[i].zero;
  EXPECT_EQ(bad_codes, 0) << what << ": codes that differ";
  EXPECT_EQ(bad_grids, 0) << what << ": grids that differ";
}

TEST(RtnIntOp, IdenticalToCore) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  const int64_t rows = 48, cols = 256;
  for (auto& device : devices)
    for (const int bits : {2, 3, 4, 8})
      for (const int64_t group : {int64_t{0}, int64_t{32}, int64_t{128}})
        for (const bool symmetric : {false, true})
          for (const bool fp16 : {false, true}) {
            const Format f = Format::integer(bits, group, symmetric);
            std::vector<float> w = hard_matrix(rows, cols, static_cast<uint32_t>(bits * 7 + group));
            // Rows 0 and 7 on their grid's midpoints (grids from a first pass, which placing
            // weights inside the range does not change much; what counts is the second pass).
            const IntTensor first = rtn_int(w.data(), rows, cols, f, 1.0f, fp16);
            place_on_midpoints(w, 0, cols, first);
            place_on_midpoints(w, 7, cols, first);
            for (const float shrink : {1.0f, 0.9f}) {
              const std::string what = f.name() + (fp16 ? " fp16 scales" : "") + " shrink " + std::to_string(shrink) +
                                       " on " + device->info().name;
              auto got = rtn_int(*device, {rows, cols, f, shrink, fp16}, w);
              ASSERT_TRUE(got.has_value()) << got.error().message;
              expect_identical(*got, rtn_int(w.data(), rows, cols, f, shrink, fp16), what);
            }
          }
}

// `--mse`: per group the shrink ratio with the least Σ |w − Q(w)|^2.4 (core's rtn_int_mse). The
// GPU's terms are d² · |d|^0.4 in float against the CPU's std::pow in double, so two ratios whose
// errors are within ~1e-7 relative may be chosen differently: at least 99 % of the groups must be the
// CPU's grid and codes, and any other must be as good to 1e-6 by the CPU's own measure.
TEST(RtnIntOp, MseSearchMatchesTheCpu) {
  const int64_t rows = 40;
  FOR_EACH_DEVICE({
    for (const char* name : {"int4g128a", "int3g32s", "int2g64a", "int8g32a", "int4g0a"}) {
      const Format f = *Format::parse(name);
      for (const bool fp16 : {false, true}) {
        const int64_t cols = f.group == 0 ? 100 : 256;
        const std::vector<float> w = hard_matrix(rows, cols, 17);
        auto got = rtn_int(device, {rows, cols, f, kRtnMseMinShrink, fp16, kRtnMseSteps}, w);
        ASSERT_TRUE(got.has_value()) << got.error().message;
        const IntTensor want = rtn_int_mse(w.data(), rows, cols, f, kRtnMseMinShrink, kRtnMseSteps, fp16);
        const int64_t gs = f.group_size(cols), groups = cols / gs;
        const int maxq = max_code(f.bits);
        int64_t same = 0;
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t g = 0; g < groups; ++g) {
            const size_t gi = static_cast<size_t>(r * groups + g);
            const IntGrid &a = got->grids[gi], &b = want.grids[gi];
            bool equal = a.scale == b.scale && a.zero == b.zero;
            for (int64_t i = 0; i < gs && equal; ++i)
              equal = got->codes[static_cast<size_t>(r * cols + g * gs + i)] == want.codes[static_cast<size_t>(r * cols + g * gs + i)];
            if (equal) {
              ++same;
              continue;
            }
            // The CPU's error of each choice.
            auto err = [&](const IntGrid& grid) {
              double e = 0;
              for (int64_t i = 0; i < gs; ++i) {
                const float x = w[static_cast<size_t>(r * cols + g * gs + i)];
                e += std::pow(std::fabs(static_cast<double>(x - dequantize_code(quantize_code(x, grid, maxq), grid))), 2.4);
              }
              return e;
            };
            EXPECT_LE(err(a), err(b) * (1 + 1e-6)) << name << " row " << r << " group " << g;
          }
        std::printf("[ %s ] rtn --mse %s%s: %lld of %lld groups as the CPU\n", device.info().name.c_str(), name,
                    fp16 ? " fp16" : "", static_cast<long long>(same), static_cast<long long>(rows * groups));
        EXPECT_GE(same, rows * groups * 99 / 100) << name;
      }
    }
  });
}

TEST(RtnIntOp, Errors) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  std::vector<float> w(64);
  EXPECT_EQ(rtn_int(*devices.front(), {2, 32, Format::float_type(DType::F16)}, w).error().code,
            ErrorCode::InvalidArgument);
  EXPECT_EQ(rtn_int(*devices.front(), {2, 32, Format::integer(4, 24, false)}, w).error().code,
            ErrorCode::InvalidArgument);
  EXPECT_EQ(rtn_int(*devices.front(), {2, 32, Format::integer(4, 32, false), 0.0f}, w).error().code,
            ErrorCode::InvalidArgument);
  EXPECT_EQ(rtn_int(*devices.front(), {3, 32, Format::integer(4, 32, false)}, w).error().code,
            ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace lowbit::gpu
