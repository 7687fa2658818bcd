// AWQ (core/quant/awq.h, awq_model.h): folding the scales is exact on every architecture, the
// Hessian form of the output error equals the error on materialised inputs, the α search never does
// worse than RTN (α = 0 is on the grid) and finds the salient channels, the clip search never raises
// the error, and methods awq and awq+gptq run end to end on a fixture.
#include "core/quant/awq.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/calib/calibration.h"
#include "core/io/checkpoint.h"
#include "core/model/config.h"
#include "core/model/forward.h"
#include "core/quant/quantize_model.h"
#include "test_support.h"

namespace lowbit {
namespace {

ModelWeights load_fixture(const std::string& name) {
  const auto dir = test::shared_dir() / "models/hf-fixtures" / name;
  auto ck = Checkpoint::open(dir);
  EXPECT_TRUE(ck.has_value()) << ck.error().message;
  auto cfg = read_model_config(**ck);
  EXPECT_TRUE(cfg.has_value()) << cfg.error().message;
  auto w = load_model(**ck, *cfg);
  EXPECT_TRUE(w.has_value()) << w.error().message;
  return std::move(*w);
}

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> d(0, static_cast<int32_t>(vocab - 1));
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& v : t) v = d(rng);
  return t;
}

MatrixRM all_logits(const ModelWeights& m, const std::vector<int32_t>& tokens, int64_t B, int64_t T) {
  MatrixRM out(B * T, m.config.vocab);
  auto ok = forward_windows(m, tokens, B, T, [&](int64_t w, const MatrixRM& l) { out.middleRows(w * T, T) = l; });
  EXPECT_TRUE(ok.has_value());
  return out;
}

// Log-uniform scales in [1/8, 8], wider than the normalized s_x^α AWQ produces on real models.
VectorF random_scales(int64_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> d(-std::log(8.0f), std::log(8.0f));
  VectorF s(n);
  for (int64_t i = 0; i < n; ++i) s[i] = std::exp(d(rng));
  return s;
}

int64_t group_inputs(const DecoderBlock& b, AwqGroup g) {
  switch (g) {
    case AwqGroup::Qkv:
      return b.q.w.cols();
    case AwqGroup::O:
      return b.o.w.cols();
    case AwqGroup::GateUp:
      return b.up.w.cols();
    case AwqGroup::Down:
      return b.down.w.cols();
  }
  return 0;
}

class AwqFold : public ::testing::TestWithParam<const char*> {};

TEST_P(AwqFold, FoldedScalesLeaveTheFp32ModelUnchanged) {
  LOWBIT_REQUIRE_SHARED(std::string("models/hf-fixtures/") + GetParam());
  ModelWeights m = load_fixture(GetParam());
  const int64_t B = 2, T = 24;
  const auto tokens = random_tokens(B * T, m.config.vocab, 1);
  const MatrixRM ref = all_logits(m, tokens, B, T);
  std::mt19937_64 rng(7);
  int folded = 0;
  for (DecoderBlock& b : m.blocks)
    for (AwqGroup g : {AwqGroup::Qkv, AwqGroup::O, AwqGroup::GateUp, AwqGroup::Down}) {
      const VectorF s = random_scales(group_inputs(b, g), rng);
      const auto blocker = awq_fold_blocker(m.config, b, g);
      const auto applied = awq_apply_scale(m.config, b, g, s);
      EXPECT_EQ(applied.has_value(), !blocker.has_value()) << awq_group_name(g);
      folded += applied.has_value();
    }
  EXPECT_GE(folded, 2 * static_cast<int>(m.blocks.size()));  // q/k/v and gate/up always fold
  const MatrixRM got = all_logits(m, tokens, B, T);
  EXPECT_LE((got - ref).norm() / ref.norm(), 1e-5) << GetParam();
  EXPECT_LE((got - ref).cwiseAbs().maxCoeff() / ref.cwiseAbs().maxCoeff(), 1e-5) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Architectures, AwqFold,
                         ::testing::Values("llama-gqa", "mistral", "phi3-fused", "qwen2-tied-bias", "qwen3-qknorm",
                                           "gpt2"));

TEST(AwqFold, SaysWhichGroupsCannotFold) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/gpt2");
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/phi3-fused");
  const ModelWeights gqa = load_fixture("llama-gqa"), gpt2 = load_fixture("gpt2"), phi3 = load_fixture("phi3-fused");
  EXPECT_TRUE(awq_fold_blocker(gqa.config, gqa.blocks[0], AwqGroup::O).has_value());  // grouped-query attention
  EXPECT_FALSE(awq_fold_blocker(gqa.config, gqa.blocks[0], AwqGroup::Down).has_value());
  EXPECT_FALSE(awq_fold_blocker(phi3.config, phi3.blocks[0], AwqGroup::O).has_value());  // fused qkv, split on load
  EXPECT_FALSE(awq_fold_blocker(gpt2.config, gpt2.blocks[0], AwqGroup::O).has_value());
  EXPECT_TRUE(awq_fold_blocker(gpt2.config, gpt2.blocks[0], AwqGroup::Down).has_value());  // GELU between up and down
}

// Inputs X [n, cols] with a few salient channels, and weights W [rows, cols].
struct Problem {
  MatrixRM w, x;
  InputStats stats;
};

Problem make_problem(int64_t rows, int64_t cols, int64_t n, float salient_gain, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Problem p;
  p.w.resize(rows, cols);
  p.x.resize(n, cols);
  for (int64_t i = 0; i < p.w.size(); ++i) p.w.data()[i] = 0.05f * nd(rng);
  for (int64_t i = 0; i < p.x.size(); ++i) p.x.data()[i] = nd(rng);
  for (int64_t c = 0; c < cols; c += 17) p.x.col(c) *= salient_gain;
  p.stats = InputStats(cols);
  p.stats.add(p.x);
  return p;
}

TEST(AwqError, HessianFormEqualsTheErrorOnTheInputs) {
  const Problem p = make_problem(48, 128, 512, 10.0f, 3);
  const Format f = Format::integer(3, 32, false);
  const VectorF s = awq_scales(p.stats.mean_abs(), 0.5);
  auto e = awq_scaled_error({{&p.w, f, "w"}}, p.stats.hessian(), s);
  ASSERT_TRUE(e.has_value()) << e.error().message;
  auto q = quantize_dequantize(p.w * s.asDiagonal(), f, "w");
  ASSERT_TRUE(q.has_value());
  const MatrixRM dw = *q * s.cwiseInverse().asDiagonal() - p.w;
  const double direct = 2.0 / static_cast<double>(p.x.rows()) * (p.x * dw.transpose()).squaredNorm();
  EXPECT_NEAR(*e, direct, 1e-4 * direct);
}

TEST(AwqSearch, UniformActivationsGiveAlphaZero) {
  // s_x constant: every α normalizes to s = 1, the curve is flat and ties keep α = 0.
  const Problem p = make_problem(32, 64, 256, 1.0f, 5);
  const VectorF flat = VectorF::Constant(64, 0.8f);
  auto r = awq_search_scale({{&p.w, Format::integer(4, 32, false), "w"}}, p.stats.hessian(), flat, AwqOptions{});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->alpha, 0.0);
  EXPECT_EQ(r->curve.size(), 20u);
  for (double c : r->curve) EXPECT_EQ(c, r->error_rtn);
  EXPECT_TRUE((r->scales.array() == 1.0f).all());
}

TEST(AwqSearch, NeverWorseThanRtnAndFindsSalientChannels) {
  for (const Format& f : {Format::integer(3, 32, false), Format::integer(4, 0, true), Format::ggml(DType::Q4_0),
                          Format::ggml(DType::Q4_K)}) {
    const int64_t cols = f.kind == Format::Kind::Ggml && f.dtype == DType::Q4_K ? 256 : 128;
    const Problem p = make_problem(32, cols, 512, 12.0f, 11);
    const Problem second = make_problem(16, cols, 8, 1.0f, 12);  // a second layer on the same input
    auto r =
        awq_search_scale({{&p.w, f, "a"}, {&second.w, f, "b"}}, p.stats.hessian(), p.stats.mean_abs(), AwqOptions{});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_LE(r->error, r->error_rtn) << f.name();
    EXPECT_GT(r->alpha, 0.0) << f.name();
    EXPECT_LT(r->error, 0.9 * r->error_rtn) << f.name();
  }
}

TEST(AwqClip, NeverIncreasesTheOutputError) {
  for (const Format& f : {Format::integer(3, 32, false), Format::integer(4, 32, true), Format::integer(2, 0, false)}) {
    const Problem p = make_problem(40, 96, 400, 6.0f, 21);
    const MatrixRM h = p.stats.hessian();
    const AwqClipResult c = awq_clip_int(p.w, h, f, AwqOptions{});
    EXPECT_LE(c.error_after, c.error_before * (1 + 1e-9)) << f.name();
    EXPECT_LT(c.error_after, c.error_before) << f.name();  // some group always gains on random weights
    EXPECT_GT(c.mean_shrink, 0.5 - 1e-6);
    EXPECT_LE(c.mean_shrink, 1.0);
    // The reported error is the error of the tensor it returns.
    MatrixRM q(p.w.rows(), p.w.cols());
    dequantize_int(c.tensor, q.data());
    const MatrixRM d = q - p.w;
    const double direct = (d * h).cwiseProduct(d).cast<double>().sum();
    EXPECT_NEAR(direct, c.error_after, 1e-4 * c.error_after) << f.name();
  }
}

TEST(AwqModel, AwqAndAwqGptqRunBlockByBlock) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  for (QuantMethod method : {QuantMethod::Awq, QuantMethod::AwqGptq}) {
    ModelWeights m = load_fixture("llama-gqa");
    QuantizeOptions o;
    o.method = method;
    o.format = Format::integer(4, 32, false);
    o.calib.samples = 4;
    o.calib.ctx = 32;
    const auto calib = random_tokens(4 * 32, m.config.vocab, 9);
    auto r = quantize_model(m, o, calib);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->layers.size(), 7 * m.blocks.size());
    for (const LayerReport& l : r->layers) {
      if (l.part == "o") {
        EXPECT_EQ(l.awq_alpha, -1);  // grouped-query attention: not scaled
        EXPECT_FALSE(l.note.empty());
      } else {
        EXPECT_GE(l.awq_alpha, 0);
        EXPECT_LT(l.awq_alpha, 1);
      }
      EXPECT_GT(l.awq_clip, 0.5 - 1e-6);  // int family: the clip search ran (awq+gptq clamps with it)
      EXPECT_LE(l.awq_clip, 1.0);
      EXPECT_GT(l.output_rel_error, 0);
      EXPECT_LT(l.output_rel_error, 0.5);
    }
    const auto tokens = random_tokens(32, m.config.vocab, 2);
    const MatrixRM logits = all_logits(m, tokens, 1, 32);
    EXPECT_TRUE(logits.allFinite());
  }
}

}  // namespace
}  // namespace lowbit
