// GPTQ's inverse factor on every Vulkan device against core's gptq_inverse_factor (the oracle), and
// against the definition: Uᵀ U (H + λI) = I, in double on the host. Blocked in other sizes and
// orders than Eigen's, the factor agrees with the CPU's to float accuracy, not bit for bit; GPTQ's
// codes from it are then nearly all the CPU's (acceptance: 99.9 %).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "core/quant/format.h"
#include "core/quant/ggml_grid.h"
#include "core/quant/gptq.h"
#include "core/tensor/dtype.h"
#include "gpu/ops/gptq_factor_op.h"
#include "gpu/memory/transfer.h"
#include "gpu/ops/gptq_op.h"
#include "gpu_test_support.h"
#include "gptq_test_layer.h"

namespace lowbit::gpu {
namespace {

using MatrixRM = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

MatrixRM as_double(const std::vector<float>& m, int64_t n) {
  return Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(m.data(), n, n).cast<double>();
}

// H with `tokens` samples: fewer than cols leaves it singular (λ alone makes it definite), as a
// wide layer calibrated on few tokens.
std::vector<float> hessian(int64_t cols, int64_t tokens, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  Eigen::MatrixXf x(tokens, cols);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t c = 0; c < cols; ++c) x(t, c) = n(rng) + (c > 0 ? 0.5f * x(t, c - 1) : 0.0f);
  for (int64_t c = 0; c < cols; c += 37) x.col(c) *= 10.0f;
  std::vector<float> h(static_cast<size_t>(cols * cols));
  Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(h.data(), cols, cols) =
      (x.transpose() * x) * (2.0f / static_cast<float>(tokens));
  return h;
}

// U against the CPU's and against the definition, for one Hessian.
void expect_factor(Device& device, const std::vector<float>& h, int64_t cols, double damp) {
  SCOPED_TRACE("cols " + std::to_string(cols));
  auto cpu = gptq_inverse_factor(h, cols, damp);
  ASSERT_TRUE(cpu) << cpu.error().message;
  auto gpu = gptq_factor(device, h, cols, damp);
  ASSERT_TRUE(gpu) << gpu.error().message;
  EXPECT_EQ(gpu->dead, cpu->dead);
  EXPECT_EQ(gpu->damp_used, cpu->damp_used);
  EXPECT_EQ(gpu->warnings, cpu->warnings);
  const MatrixRM u = as_double(gpu->u, cols), uc = as_double(cpu->u, cols);
  EXPECT_EQ(u.triangularView<Eigen::StrictlyLower>().toDenseMatrix().cwiseAbs().maxCoeff(), 0.0) << "U is not upper triangular";
  EXPECT_GT(u.diagonal().minCoeff(), 0.0);
  // Row by row relative to the row's size (GPTQ scales each row's errors by U[j][j]).
  double worst = 0;
  for (int64_t r = 0; r < cols; ++r) worst = std::max(worst, (u.row(r) - uc.row(r)).cwiseAbs().maxCoeff() / uc.row(r).cwiseAbs().maxCoeff());
  EXPECT_LT(worst, 2e-3) << "U's rows differ from the CPU's";
  // Uᵀ U (H + λI) = I with H as the factor saw it (dead columns at 1).
  MatrixRM hd = as_double(h, cols);
  for (int64_t i : gpu->dead) hd(i, i) = 1;
  const double lambda = static_cast<float>(gpu->damp_used * hd.diagonal().mean());
  hd.diagonal().array() += lambda;
  const MatrixRM residual = u.transpose() * u * hd - MatrixRM::Identity(cols, cols);
  const MatrixRM residual_cpu = uc.transpose() * uc * hd - MatrixRM::Identity(cols, cols);
  std::printf("cols %lld: U rows within %.2e of the CPU's; |UᵀU(H+λI) − I| %.2e (CPU's U: %.2e)\n", static_cast<long long>(cols),
              worst, residual.cwiseAbs().maxCoeff(), residual_cpu.cwiseAbs().maxCoeff());
  EXPECT_LT(residual.cwiseAbs().maxCoeff(), 10 * residual_cpu.cwiseAbs().maxCoeff() + 1e-6);
}

TEST(GptqFactorOp, MatchesTheCpuAndTheDefinition) {
  FOR_EACH_DEVICE({
    for (int64_t cols : {1, 7, 64, 65, 130, 320}) expect_factor(device, hessian(cols, 2 * cols + 4, 3), cols, 0.01);
    expect_factor(device, hessian(256, 96, 5), 256, 0.01);  // singular H: λ alone makes it definite
  });
}

TEST(GptqFactorOp, DeadColumnsAndDampingAsTheCpu) {
  FOR_EACH_DEVICE({
    auto h = hessian(150, 300, 7);
    for (int64_t d : {0, 64, 149})
      for (int64_t j = 0; j < 150; ++j) h[static_cast<size_t>(d * 150 + j)] = h[static_cast<size_t>(j * 150 + d)] = 0.0f;
    expect_factor(device, h, 150, 0.01);
    // Indefinite: H − c v vᵀ with the Rayleigh quotient along v at −0.02 · mean diag, which damping
    // 0.01 does not cover.
    auto indefinite = hessian(96, 200, 9);
    Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> hm(indefinite.data(), 96, 96);
    Eigen::VectorXf v(96);
    for (int i = 0; i < 96; ++i) v[i] = std::sin(0.3f * static_cast<float>(i));
    const float mean = hm.diagonal().mean(), vv = v.squaredNorm();
    const float c = (v.dot(hm * v) / vv + 0.02f * mean) / vv;
    hm -= c * v * v.transpose();
    auto cpu = gptq_inverse_factor(indefinite, 96, 0.01);
    ASSERT_TRUE(cpu) << cpu.error().message;
    ASSERT_GT(cpu->damp_used, 0.01) << "the test's Hessian should need more damping";
    expect_factor(device, indefinite, 96, 0.01);
  });
}

// H and W already on the device (gptq_factor_on_device and gptq_int taking buffers: what the
// benchmark comparable with the reference GPTQ times): the same kernels on the same values — U, the
// dead columns, the damping, the codes and weights bit for bit the host path's — and the caller's
// buffers left as they were.
TEST(GptqFactorOp, HessianAndWeightsOnTheDeviceGiveTheHostPathsBits) {
  Layer l = make_layer(40, 320, 27);
  for (int64_t j = 0; j < l.cols; ++j) l.h[static_cast<size_t>(5 * l.cols + j)] = l.h[static_cast<size_t>(j * l.cols + 5)] = 0.0f;
  for (int64_t r = 0; r < l.rows; ++r) l.w[static_cast<size_t>(r * l.cols + 5)] = 0.0f;  // the caller zeroes a dead column's weights
  FOR_EACH_DEVICE({
    auto hb = Buffer::create(device, l.h.size() * 4, MemoryUse::Device);
    auto wb = Buffer::create(device, l.w.size() * 4, MemoryUse::Device);
    ASSERT_TRUE(hb && wb);
    ASSERT_TRUE(upload(device, *hb, std::as_bytes(std::span<const float>(l.h))));
    ASSERT_TRUE(upload(device, *wb, std::as_bytes(std::span<const float>(l.w))));
    auto host = gptq_factor_on_device(device, l.h, l.cols, 0.01);
    auto resident = gptq_factor_on_device(device, *hb, l.cols, 0.01);
    ASSERT_TRUE(host) << host.error().message;
    ASSERT_TRUE(resident) << resident.error().message;
    EXPECT_EQ(resident->dead, host->dead);
    EXPECT_EQ(resident->dead, std::vector<int64_t>{5});
    EXPECT_EQ(resident->damp_used, host->damp_used);
    std::vector<float> u_host(l.h.size()), u_resident(l.h.size()), h_after(l.h.size()), w_after(l.w.size());
    ASSERT_TRUE(download(device, host->u, std::as_writable_bytes(std::span<float>(u_host))));
    ASSERT_TRUE(download(device, resident->u, std::as_writable_bytes(std::span<float>(u_resident))));
    EXPECT_EQ(0, std::memcmp(u_host.data(), u_resident.data(), u_host.size() * 4)) << "U differs from the host path's";
    const GptqIntShape shape{l.rows, l.cols, *Format::parse("int4g64a"), true};
    auto swept_host = gptq_int(device, shape, l.w, host->u);
    auto swept_resident = gptq_int(device, shape, *wb, resident->u);
    ASSERT_TRUE(swept_host) << swept_host.error().message;
    ASSERT_TRUE(swept_resident) << swept_resident.error().message;
    EXPECT_TRUE(swept_resident->tensor.codes == swept_host->tensor.codes);
    EXPECT_EQ(0, std::memcmp(swept_resident->dequantized.data(), swept_host->dequantized.data(), l.w.size() * 4));
    ASSERT_TRUE(download(device, *hb, std::as_writable_bytes(std::span<float>(h_after))));
    ASSERT_TRUE(download(device, *wb, std::as_writable_bytes(std::span<float>(w_after))));
    EXPECT_TRUE(h_after == l.h) << "the caller's H was written";
    EXPECT_TRUE(w_after == l.w) << "the caller's W was written";
    auto small = gptq_factor_on_device(device, *wb, 400, 0.01);  // a buffer smaller than 400² floats
    ASSERT_FALSE(small);
    EXPECT_EQ(small.error().code, ErrorCode::InvalidArgument);
  });
}

TEST(GptqFactorOp, ErrorsAsTheCpu) {
  FOR_EACH_DEVICE({
    auto h = hessian(80, 160, 11);
    auto wrong = gptq_factor(device, std::span<const float>(h).first(100), 80, 0.01);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, ErrorCode::InvalidArgument);
    h[80 * 5 + 9] = std::numeric_limits<float>::quiet_NaN();
    auto nan = gptq_factor(device, h, 80, 0.01, "blk.0.attn_q");
    ASSERT_FALSE(nan);
    EXPECT_EQ(nan.error().code, ErrorCode::InvalidArgument);
    EXPECT_EQ(nan.error().message, gptq_inverse_factor(h, 80, 0.01, "blk.0.attn_q").error().message);
    std::vector<float> negative(64 * 64, 0.0f);
    for (int i = 0; i < 64; ++i) negative[static_cast<size_t>(i * 65)] = -1.0f;
    auto never = gptq_factor(device, negative, 64, 0.01);
    ASSERT_FALSE(never);
    EXPECT_EQ(never.error().code, ErrorCode::Format);
    EXPECT_EQ(never.error().message, gptq_inverse_factor(negative, 64, 0.01).error().message);
  });
}

// Out of device memory (a limit that holds H but not the factor's three n² buffers): that call
// fails with OutOfMemory, nothing stays allocated, and the device works again.
TEST(GptqFactorOp, OutOfDeviceMemoryFailsTheCallOnly) {
  FOR_EACH_DEVICE({
    const int64_t cols = 200;
    const auto h = hessian(cols, 400, 13);
    const uint64_t before = device.device_bytes_in_use();
    device.set_max_device_bytes(before + 2 * h.size() * sizeof(float));
    auto oom = gptq_factor(device, h, cols, 0.01);
    ASSERT_FALSE(oom);
    EXPECT_EQ(oom.error().code, ErrorCode::OutOfMemory) << oom.error().message;
    EXPECT_EQ(device.device_bytes_in_use(), before);
    device.set_max_device_bytes(0);
    expect_factor(device, h, cols, 0.01);
  });
}

// Through vulkan_gptq: where the factor's scratch does not fit but the sweep does, the factor runs on
// the CPU (said in a warning) and the layer is the CPU run's bit for bit; where not even the sweep
// fits, the layer fails with OutOfMemory.
TEST(GptqFactorOp, ALayerWhoseFactorDoesNotFitTakesTheCpusFactor) {
  const Layer l = make_layer(48, 512, 31);
  GptqOptions o;
  o.format = *Format::parse("int4g128a");
  auto cpu = gptq_quantize(l.w, l.rows, l.cols, l.h, o);
  ASSERT_TRUE(cpu) << cpu.error().message;
  FOR_EACH_DEVICE({
    const GptqBackend backend = vulkan_gptq(device);
    const uint64_t n2 = static_cast<uint64_t>(l.cols * l.cols) * sizeof(float);
    device.set_max_device_bytes(device.device_bytes_in_use() + n2 + n2 / 2);  // U and the sweep's buffers, not 3 n²
    auto gpu = backend(l.w, l.rows, l.cols, l.h, o, "blk.0.ffn_down");
    ASSERT_TRUE(gpu) << gpu.error().message;
    ASSERT_FALSE(gpu->warnings.empty());
    EXPECT_NE(gpu->warnings[0].find("the inverse factor ran on the CPU"), std::string::npos) << gpu->warnings[0];
    EXPECT_TRUE(gpu->tensor.codes == cpu->tensor.codes);
    EXPECT_EQ(0, std::memcmp(gpu->dequantized.data(), cpu->dequantized.data(), cpu->dequantized.size() * sizeof(float)));
    device.set_max_device_bytes(device.device_bytes_in_use() + n2 / 2);
    auto none = backend(l.w, l.rows, l.cols, l.h, o, "blk.0.ffn_down");
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, ErrorCode::OutOfMemory) << none.error().message;
    device.set_max_device_bytes(0);
  });
}

// The codes of a GPTQ result, in element order: the int family's, or unpacked from ggml's blocks.
std::vector<int> codes_of(const GptqResult& r, const Format& f) {
  if (f.kind != Format::Kind::Ggml) return {r.tensor.codes.begin(), r.tensor.codes.end()};
  const auto& t = traits(f.dtype);
  std::vector<int> out;
  std::vector<int8_t> block(t.block_size);
  for (size_t b = 0; b < r.ggml.size() / t.block_bytes; ++b) {
    ggml_block_codes(f.dtype, r.ggml.data() + b * t.block_bytes, block.data());
    out.insert(out.end(), block.begin(), block.end());
  }
  return out;
}

// A whole layer through vulkan_gptq with the factor on the device: nearly every code the CPU's (the
// int family's float scales may differ in their last bits, so the quantized weights are compared
// within a relative tolerance).
TEST(GptqFactorOp, LayerCodesAreNearlyAllTheCpus) {
  const Layer l = make_layer(128, 384, 21);
  const Layer k = make_layer(64, 512, 23);
  FOR_EACH_DEVICE({
    const GptqBackend backend = vulkan_gptq(device);
    for (const char* name : {"int4g128a", "int3g64s", "q4_k", "q6_k", "q4_0"}) {
      SCOPED_TRACE(name);
      GptqOptions o;
      o.format = *Format::parse(name);
      const Layer& x = o.format.kind == Format::Kind::Ggml && traits(o.format.dtype).block_size == 256 ? k : l;
      auto cpu = gptq_quantize(x.w, x.rows, x.cols, x.h, o);
      ASSERT_TRUE(cpu) << cpu.error().message;
      auto gpu = backend(x.w, x.rows, x.cols, x.h, o, "layer");
      ASSERT_TRUE(gpu) << gpu.error().message;
      const std::vector<int> a = codes_of(*cpu, o.format), b = codes_of(*gpu, o.format);
      ASSERT_EQ(a.size(), static_cast<size_t>(x.rows * x.cols));
      ASSERT_EQ(b.size(), a.size());
      int64_t same = 0;
      for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
      const double agree = static_cast<double>(same) / static_cast<double>(a.size());
      std::printf("%s: %.4f %% of codes the CPU's\n", name, 100 * agree);
      // A K-quant's super-block scales come from a search whose choice can turn on the weights' last
      // bits, taking a super-block's codes with it: a little more room there.
      EXPECT_GE(agree, traits(o.format.dtype).block_size == 256 ? 0.998 : 0.999);
      ASSERT_EQ(gpu->dequantized.size(), cpu->dequantized.size());
      double err = 0, norm = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        err += std::pow(gpu->dequantized[i] - cpu->dequantized[i], 2);
        norm += std::pow(cpu->dequantized[i], 2);
      }
      // A K-quant super-block whose scales moved takes all its weights with it: 1.5 % on an H100 for q4_k.
      EXPECT_LT(std::sqrt(err / norm), traits(o.format.dtype).block_size == 256 ? 0.03 : 0.01) << "quantized weights far from the CPU's";
      EXPECT_NEAR(gpu->loss, cpu->loss, 5e-3 * cpu->loss);
    }
  });
}

}  // namespace
}  // namespace lowbit::gpu
