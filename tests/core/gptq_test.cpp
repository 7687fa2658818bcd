// GPTQ (core/quant/gptq.h) on small seeded problems: with H = I it is RTN (int family: the same
// codes and grids; ggml types: ggml_quantize's bytes), on a correlated Hessian its loss
// tr(ΔW H ΔWᵀ) is below RTN's, dead columns are zeroed, a Hessian that is not positive definite
// raises the damping with a warning (or fails cleanly), act-order keeps static grids, and for ggml
// types the packed blocks are exactly what the dequantized result holds.
#include "core/quant/gptq.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <Eigen/Cholesky>
#include <Eigen/LU>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/quant/ggml_formats.h"
#include "core/quant/ggml_grid.h"
#include "core/tensor/eigen_types.h"
#include "synthetic_data.h"

namespace lowbit {
namespace {

const std::vector<DType> kGgmlTypes = {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                                       DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};



std::vector<float> identity(int64_t cols) {
  std::vector<float> h(static_cast<size_t>(cols * cols), 0.0f);
  for (int64_t i = 0; i < cols; ++i) h[static_cast<size_t>(i * cols + i)] = 1.0f;
  return h;
}

// tr((W − Ŵ) H (W − Ŵ)ᵀ)
double loss(const std::vector<float>& w, const std::vector<float>& wq, const std::vector<float>& h, int64_t rows,
            int64_t cols) {
  const Eigen::MatrixXd dd =
      ConstMatrixRMMap(w.data(), rows, cols).cast<double>() - ConstMatrixRMMap(wq.data(), rows, cols).cast<double>();
  const Eigen::MatrixXd hd = ConstMatrixRMMap(h.data(), cols, cols).cast<double>();
  return (dd * hd).cwiseProduct(dd).sum();
}

std::vector<float> rtn_values(const std::vector<float>& w, int64_t rows, int64_t cols, const Format& f) {
  std::vector<float> out(w.size());
  if (f.kind == Format::Kind::Int) {
    dequantize_int(rtn_int(w.data(), rows, cols, f), out.data());
  } else {
    std::vector<uint8_t> bytes(dtype_bytes(f.dtype, w.size()));
    ggml_quantize(f.dtype, w.data(), bytes.data(), w.size());
    EXPECT_TRUE(ggml_dequantize(f.dtype, bytes.data(), out.data(), w.size()));
  }
  return out;
}

GptqResult run(const std::vector<float>& w, int64_t rows, int64_t cols, const std::vector<float>& h,
               const GptqOptions& o) {
  auto r = gptq_quantize(w, rows, cols, h, o, "blk.0.test");
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? std::move(*r) : GptqResult{};
}

// For a ggml type the packed blocks are the result: dequantizing them gives the returned values bit for bit.
void expect_packed_matches(const GptqResult& r, DType t, size_t n) {
  ASSERT_EQ(r.ggml.size(), dtype_bytes(t, n));
  std::vector<float> deq(n);
  ASSERT_TRUE(ggml_dequantize(t, r.ggml.data(), deq.data(), n));
  ASSERT_EQ(0, std::memcmp(deq.data(), r.dequantized.data(), n * sizeof(float))) << dtype_name(t);
}

TEST(Gptq, IdentityHessianIsRtnForTheIntFamily) {
  const int64_t rows = 32, cols = 256;
  const auto w = test::normal_values(static_cast<size_t>(rows * cols), 1, 0.05f);
  for (const char* name : {"int4g128a", "int3g32s", "int8g0a"}) {
    GptqOptions o;
    o.format = *Format::parse(name);
    const GptqResult r = run(w, rows, cols, identity(cols), o);
    const IntTensor ref = rtn_int(w.data(), rows, cols, o.format);
    EXPECT_EQ(r.tensor.codes, ref.codes) << name;
    ASSERT_EQ(r.tensor.grids.size(), ref.grids.size());
    for (size_t i = 0; i < ref.grids.size(); ++i) {
      ASSERT_EQ(r.tensor.grids[i].scale, ref.grids[i].scale) << name;
      ASSERT_EQ(r.tensor.grids[i].zero, ref.grids[i].zero) << name;
    }
    EXPECT_EQ(r.dequantized, rtn_values(w, rows, cols, o.format)) << name;
    EXPECT_TRUE(r.ggml.empty());
  }
}

TEST(Gptq, IdentityHessianIsGgmlQuantizeForEveryGgmlType) {
  const int64_t rows = 16, cols = 512;
  auto w = test::normal_values(static_cast<size_t>(rows * cols), 2, 0.05f);
  for (int64_t i = 0; i < 32; ++i) w[static_cast<size_t>(3 * cols + i)] = 0;  // an all-zero legacy block
  for (DType t : kGgmlTypes) {
    GptqOptions o;
    o.format = Format::ggml(t);
    const GptqResult r = run(w, rows, cols, identity(cols), o);
    std::vector<uint8_t> ref(dtype_bytes(t, w.size()));
    ggml_quantize(t, w.data(), ref.data(), w.size());
    EXPECT_EQ(r.ggml, ref) << dtype_name(t);
    expect_packed_matches(r, t, w.size());
  }
}

// The damped inverse factor is the reference's — chol(inv(H + λI)), upper — computed in double,
// though it is found without forming the inverse (J(H + λI)J = LLᵀ, U = J L⁻¹ J), for sizes that are
// and are not a whole number of its 256-column panels; and the same bits whatever the thread count.
TEST(Gptq, InverseFactorIsTheCholeskyFactorOfTheInverse) {
  for (const int64_t cols : {int64_t{200}, int64_t{512}, int64_t{700}}) {
    SCOPED_TRACE(cols);
    const auto h = test::correlated_hessian(cols, 2 * cols, 21);
    auto f = gptq_inverse_factor(h, cols, 0.01, "blk.0.test");
    ASSERT_TRUE(f) << f.error().message;
    const Eigen::MatrixXd hd = ConstMatrixRMMap(h.data(), cols, cols).cast<double>();
    Eigen::MatrixXd damped = hd;
    damped.diagonal().array() += 0.01 * hd.diagonal().mean();
    const Eigen::MatrixXd inv = damped.inverse();
    const Eigen::MatrixXd want = Eigen::LLT<Eigen::MatrixXd>(0.5 * (inv + inv.transpose())).matrixU();
    const Eigen::MatrixXd got = ConstMatrixRMMap(f->u.data(), cols, cols).cast<double>();
    EXPECT_EQ(got.triangularView<Eigen::StrictlyLower>().toDenseMatrix().cwiseAbs().maxCoeff(), 0.0) << "upper triangular";
    EXPECT_LT((got - want).norm() / want.norm(), 1e-4);
    EXPECT_LT((got.transpose() * got * damped - Eigen::MatrixXd::Identity(cols, cols)).cwiseAbs().maxCoeff(), 1e-3);
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    auto one = gptq_inverse_factor(h, cols, 0.01, "blk.0.test");
    omp_set_num_threads(threads);
    ASSERT_TRUE(one);
    EXPECT_EQ(one->u, f->u) << "1 thread and " << threads;
  }
}

// The sweep's block updates sum in a fixed order (that of the Vulkan sweep): the result is the same
// bits whatever the thread count — rows not a multiple of the update's tiles, columns leaving a
// partial tile after every block, an int and a ggml target.
TEST(Gptq, BitsDoNotDependOnTheThreadCount) {
  const int64_t rows = 203, cols = 640;
  const auto w = test::normal_values(static_cast<size_t>(rows * cols), 21, 0.05f);
  const auto h = test::correlated_hessian(cols, 1024, 22);
  const int threads = omp_get_max_threads();
  for (const char* name : {"int4g128a", "q4_0"}) {
    GptqOptions o;
    o.format = *Format::parse(name);
    std::vector<GptqResult> results;
    for (int t : {1, 2, 3}) {
      omp_set_num_threads(t);
      results.push_back(run(w, rows, cols, h, o));
    }
    omp_set_num_threads(threads);
    for (size_t i = 1; i < results.size(); ++i) {
      ASSERT_EQ(results[0].dequantized.size(), results[i].dequantized.size());
      EXPECT_EQ(0, std::memcmp(results[0].dequantized.data(), results[i].dequantized.data(),
                               results[0].dequantized.size() * sizeof(float)))
          << name << ": 1 thread against " << i + 1;
      EXPECT_EQ(results[0].tensor.codes, results[i].tensor.codes) << name;
      EXPECT_EQ(results[0].ggml, results[i].ggml) << name;
    }
  }
}

TEST(Gptq, LossBelowRtnOnACorrelatedHessian) {
  const int64_t rows = 128, cols = 512;
  const auto w = test::normal_values(static_cast<size_t>(rows * cols), 3, 0.05f);
  const auto h = test::correlated_hessian(cols, 1024, 4);
  for (const char* name : {"int4g128a", "q4_k", "q3_k", "q4_0", "q2_k", "q6_k"}) {
    GptqOptions o;
    o.format = *Format::parse(name);
    const GptqResult r = run(w, rows, cols, h, o);
    const double lg = loss(w, r.dequantized, h, rows, cols),
                 lr = loss(w, rtn_values(w, rows, cols, o.format), h, rows, cols);
    EXPECT_LT(lg, 0.9 * lr) << name << ": GPTQ " << lg << " vs RTN " << lr;
    EXPECT_TRUE(r.warnings.empty()) << name;
    if (o.format.kind == Format::Kind::Ggml) expect_packed_matches(r, o.format.dtype, w.size());
  }
}

TEST(Gptq, WeightedGridsOption) {
  const int64_t rows = 64, cols = 512;
  const auto w = test::normal_values(static_cast<size_t>(rows * cols), 5, 0.05f);
  const auto h = test::correlated_hessian(cols, 1024, 6);
  for (DType t : {DType::Q4_K, DType::Q4_0}) {
    GptqOptions o;
    o.format = Format::ggml(t);
    o.weighted_grids = true;
    const GptqResult r = run(w, rows, cols, h, o);
    expect_packed_matches(r, t, w.size());
    EXPECT_LT(loss(w, r.dequantized, h, rows, cols), loss(w, rtn_values(w, rows, cols, o.format), h, rows, cols))
        << dtype_name(t);
  }
}

TEST(Gptq, DeadColumnsAreZeroed) {
  const int64_t rows = 32, cols = 256;
  const auto w = test::normal_values(static_cast<size_t>(rows * cols), 7, 0.05f);
  auto h = test::correlated_hessian(cols, 512, 8);
  const std::vector<int64_t> dead = {0, 17, 200};
  for (int64_t d : dead)
    for (int64_t i = 0; i < cols; ++i) h[static_cast<size_t>(d * cols + i)] = h[static_cast<size_t>(i * cols + d)] = 0;
  for (const char* name : {"int4g128a", "q4_0", "q8_0"}) {
    GptqOptions o;
    o.format = *Format::parse(name);
    const GptqResult r = run(w, rows, cols, h, o);
    EXPECT_EQ(r.dead_columns, 3) << name;
    for (int64_t d : dead)
      for (int64_t row = 0; row < rows; ++row)
        ASSERT_EQ(r.dequantized[static_cast<size_t>(row * cols + d)], 0.0f) << name;
  }
}

TEST(Gptq, NonPositiveDefiniteHessianRaisesDamping) {
  const int64_t rows = 16, cols = 256;
  const auto w = test::normal_values(static_cast<size_t>(rows * cols), 9, 0.05f);
  // I − 1.1 v vᵀ / |v|²: one eigenvalue −0.1; damping 1 % and 5 % of the mean diagonal leave it negative.
  auto v = test::normal_values(static_cast<size_t>(cols), 10, 1.0f);
  double vv = 0;
  for (float x : v) vv += static_cast<double>(x) * x;
  auto h = identity(cols);
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j)
      h[static_cast<size_t>(i * cols + j)] -=
          static_cast<float>(1.1 * v[static_cast<size_t>(i)] * v[static_cast<size_t>(j)] / vv);
  for (const char* name : {"int4g128a", "q4_k"}) {
    GptqOptions o;
    o.format = *Format::parse(name);
    const GptqResult r = run(w, rows, cols, h, o);
    EXPECT_GT(r.damp_used, 0.05) << name;
    EXPECT_FALSE(r.warnings.empty());
    EXPECT_NE(r.warnings[0].find("blk.0.test"), std::string::npos) << r.warnings[0];
    for (float x : r.dequantized) ASSERT_TRUE(std::isfinite(x));
  }
  // Negative definite: no damping helps; an error, not a crash.
  auto neg = identity(cols);
  for (auto& x : neg) x = -x;
  GptqOptions o;
  auto r = gptq_quantize(w, rows, cols, neg, o, "blk.0.test");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("blk.0.test"), std::string::npos);
}

TEST(Gptq, ActOrderUsesStaticGridsAndBeatsRtn) {
  const int64_t rows = 64, cols = 512;
  const auto w = test::normal_values(static_cast<size_t>(rows * cols), 11, 0.05f);
  const auto h = test::correlated_hessian(cols, 1024, 12);
  {
    GptqOptions o;
    o.format = *Format::parse("int4g128a");
    o.act_order = true;
    const GptqResult r = run(w, rows, cols, h, o);
    const IntTensor ref = rtn_int(w.data(), rows, cols, o.format);  // min-max grids of the original weights
    for (size_t i = 0; i < ref.grids.size(); ++i) {
      ASSERT_EQ(r.tensor.grids[i].scale, ref.grids[i].scale);
      ASSERT_EQ(r.tensor.grids[i].zero, ref.grids[i].zero);
    }
    std::vector<float> deq(w.size());
    dequantize_int(r.tensor, deq.data());
    EXPECT_EQ(deq, r.dequantized);
    EXPECT_LT(loss(w, r.dequantized, h, rows, cols), 0.9 * loss(w, rtn_values(w, rows, cols, o.format), h, rows, cols));
  }
  {
    GptqOptions o;
    o.format = Format::ggml(DType::Q4_K);
    o.act_order = true;
    const GptqResult r = run(w, rows, cols, h, o);
    expect_packed_matches(r, DType::Q4_K, w.size());
    std::vector<uint8_t> ref(dtype_bytes(DType::Q4_K, w.size()));
    ggml_quantize(DType::Q4_K, w.data(), ref.data(), w.size());
    std::vector<GgmlSubGrid> a(8), b(8);
    for (size_t blk = 0; blk < w.size() / 256; ++blk) {
      ggml_block_grids(DType::Q4_K, r.ggml.data() + blk * 144, a.data());
      ggml_block_grids(DType::Q4_K, ref.data() + blk * 144, b.data());
      for (int s = 0; s < 8; ++s) {
        ASSERT_EQ(a[static_cast<size_t>(s)].scale, b[static_cast<size_t>(s)].scale);
        ASSERT_EQ(a[static_cast<size_t>(s)].offset, b[static_cast<size_t>(s)].offset);
      }
    }
    EXPECT_LT(loss(w, r.dequantized, h, rows, cols), 0.9 * loss(w, rtn_values(w, rows, cols, o.format), h, rows, cols));
  }
}

TEST(Gptq, ColumnsNotABlockMultipleAreAnErrorNamingTheTensor) {
  const int64_t rows = 8, cols = 384;
  const auto w = test::normal_values(static_cast<size_t>(rows * cols), 13, 0.05f);
  GptqOptions o;
  o.format = Format::ggml(DType::Q4_K);
  auto r = gptq_quantize(w, rows, cols, identity(cols), o, "blk.3.ffn_down");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("blk.3.ffn_down"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("256"), std::string::npos) << r.error().message;
  o.format = Format::ggml(DType::Q4_0);  // 384 is a multiple of 32
  EXPECT_TRUE(gptq_quantize(w, rows, cols, identity(cols), o, "blk.3.ffn_down").has_value());
  o.format = Format::float_type(DType::F16);
  EXPECT_FALSE(gptq_quantize(w, rows, cols, identity(cols), o).has_value());
}

}  // namespace
}  // namespace lowbit
