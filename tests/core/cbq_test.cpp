// CBQ (core/quant/cbq.h) and its LoRA-Rounding quantizer (core/recon/lora_round.h): the rounding
// compensation's gradients against finite differences, hard rounding onto the grid, the exactness
// of the start (soft weights = W), and on a tiny fixture: codes kept for export that dequantize to
// the model's weights, and a lower output error than round-to-nearest.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <random>

#include "core/io/checkpoint.h"
#include "core/model/config.h"
#include "core/model/forward.h"
#include "core/quant/quantize_model.h"
#include "core/recon/lora_round.h"
#include "fixture_model.h"
#include "test_support.h"

namespace lowbit {
namespace {

MatrixRM random_matrix(int64_t r, int64_t c, uint64_t seed, float sd = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, sd);
  MatrixRM m(r, c);
  for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = n(rng);
  return m;
}

double dot(const MatrixRM& a, const MatrixRM& b) { return (a.cast<double>().cwiseProduct(b.cast<double>())).sum(); }

TEST(LoraRounding, DefaultRankAndExactStart) {
  EXPECT_EQ(lora_round_default_rank(256, 768), 13);
  EXPECT_EQ(lora_round_default_rank(64, 64), 4);
  EXPECT_EQ(lora_round_default_rank(2, 64), 2);
  const MatrixRM w = random_matrix(16, 64, 1, 0.05f);
  LoraRounding lr(w, Format::integer(3, 32, false), 0, 3);
  EXPECT_EQ(lr.rank(), 4);
  MatrixRM soft;
  lr.soft_weights(1.0f, soft);  // B = 0: h is the fractional part, so Ŵ = W wherever the grid reaches W
  int64_t inside = 0;
  for (int64_t r = 0; r < w.rows(); ++r)
    for (int64_t c = 0; c < w.cols(); ++c) {
      const float s = lr.step_size(r, c / 32);
      const IntGrid g = minmax_grid(w.row(r).data() + c / 32 * 32, 32, 3, false);
      const float lo = s * (0 - g.zero), hi = s * (7 - g.zero);
      if (w(r, c) <= lo || w(r, c) >= hi) continue;  // the min-max grid's zero rounding leaves ≤ s/2 outside
      ++inside;
      EXPECT_NEAR(soft(r, c), w(r, c), 1e-5f * s) << r << "," << c;
    }
  EXPECT_GT(inside, w.size() * 9 / 10);
  // Hard rounding at the start is round-to-nearest.
  const IntTensor hard = lr.harden(false);
  const IntTensor rtn = rtn_int(w.data(), w.rows(), w.cols(), Format::integer(3, 32, false));
  int64_t differ = 0;
  for (size_t i = 0; i < hard.codes.size(); ++i) differ += hard.codes[i] != rtn.codes[i];
  EXPECT_LE(differ, 2);  // only exact ties may round the other way
}

// ⟨∇L, v⟩ of L = ⟨R, Ŵ⟩ + λ·reg for A and B against central differences.
TEST(LoraRounding, GradientMatchesFiniteDifferences) {
  const MatrixRM w = random_matrix(12, 48, 2, 0.05f);
  for (bool symmetric : {false, true}) {
    LoraRounding lr(w, Format::integer(2, 16, symmetric), 3, 5);
    lr.b() = random_matrix(3, 48, 6, 0.7f);  // a generic point, not B = 0
    const MatrixRM R = random_matrix(12, 48, 7);
    const float kappa = 2.5f, lambda = 0.3f, beta = 4.0f;
    auto loss = [&]() {
      MatrixRM soft;
      lr.soft_weights(kappa, soft);
      return dot(R, soft) + lambda * lr.regularizer(kappa, beta);
    };
    MatrixRM soft;
    lr.soft_weights(kappa, soft);
    lr.zero_grad();
    lr.backward(R, kappa, lambda, beta);
    const MatrixRM ga = lr.grad_a(), gb = lr.grad_b();
    for (int which = 0; which < 2; ++which) {
      MatrixRM& p = which == 0 ? lr.a() : lr.b();
      const MatrixRM& g = which == 0 ? ga : gb;
      const MatrixRM v = random_matrix(p.rows(), p.cols(), 10 + which);
      const float eps = 1e-3f;
      const MatrixRM saved = p;
      p = saved + eps * v;
      const double lp = loss();
      p = saved - eps * v;
      const double lm = loss();
      p = saved;
      const double fd = (lp - lm) / (2.0 * eps), an = dot(g, v);
      EXPECT_NEAR(an, fd, 2e-2 * std::max(std::fabs(fd), 1e-3)) << (which ? "B" : "A") << (symmetric ? " symmetric" : "");
    }
    // The step-size gradient is LSQ's straight-through one: Σ G·((c − z) − u) inside the clamp.
    const IntTensor hard = lr.harden(false);
    EXPECT_EQ(lr.grad_scale_mult().size(), hard.grids.size());
  }
}

TEST(LoraRounding, HardRoundingStaysOnTheGridAndMatchesTheSharpLimit) {
  const MatrixRM w = random_matrix(16, 64, 3, 0.05f);
  const Format f = Format::integer(2, 32, false);
  LoraRounding lr(w, f, 0, 9);
  Adam a(0.05f), b(0.05f), s(0.01f);
  // A few steps on a random objective move A, B and the step sizes off their start.
  for (int i = 0; i < 20; ++i) {
    MatrixRM soft;
    lr.soft_weights(1.0f, soft);
    lr.backward(random_matrix(16, 64, 100 + static_cast<uint64_t>(i)), 1.0f, 0.1f, 10.0f);
    lr.step(a, b, s);
  }
  for (bool fp16 : {false, true}) {
    const IntTensor t = lr.harden(fp16);
    for (uint8_t q : t.codes) EXPECT_LE(q, max_code(f.bits));
    MatrixRM deq(16, 64);
    dequantize_int(t, deq.data());
    for (int64_t r = 0; r < 16; ++r)
      for (int64_t g = 0; g < 2; ++g) {
        const float sc = lr.step_size(r, g);
        EXPECT_EQ(t.grids[static_cast<size_t>(r * 2 + g)].scale, fp16 ? fp16_grid_scale(sc) : sc);
      }
    if (fp16) continue;
    // The soft weights at a very sharp sigmoid are the hard ones (up to weights exactly at a boundary).
    MatrixRM sharp;
    lr.soft_weights(1e5f, sharp);
    int64_t differ = 0;
    for (int64_t i = 0; i < sharp.size(); ++i) differ += std::fabs(sharp.data()[i] - deq.data()[i]) > 1e-6f;
    EXPECT_LE(differ, 2);
  }
}

TEST(Cbq, OptionsAreValidated) {
  QuantizeOptions o;
  o.method = QuantMethod::Cbq;
  o.format = Format::integer(2, 64, false);
  EXPECT_TRUE(o.validate().has_value());
  o.cbq.window = 0;
  EXPECT_FALSE(o.validate().has_value());
  o.cbq.window = 2;
  o.cbq.kappa_end = 0.5;
  EXPECT_FALSE(o.validate().has_value());
  o.cbq.kappa_end = 10;
  o.format = *Format::parse("q4_k");
  auto v = o.validate();
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message.find("int family"), std::string::npos);
  EXPECT_EQ(quant_method_from_name("cbq"), QuantMethod::Cbq);
  EXPECT_STREQ(quant_method_name(QuantMethod::Cbq), "cbq");
}

std::vector<int32_t> random_tokens(int64_t n, int32_t vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> d(0, vocab - 1);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = d(rng);
  return t;
}

// The hidden states entering the final norm.
MatrixRM final_hidden(const ModelWeights& m, const std::vector<int32_t>& tokens, int64_t B, int64_t T) {
  MatrixRM x;
  EXPECT_TRUE(embed_windows(m, tokens, B, T, x).has_value());
  for (const auto& b : m.blocks) block_forward(m.config, b, x, B, T);
  return x;
}

TEST(Cbq, BeatsRoundToNearestOnATinyFixtureAndKeepsExportableCodes) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  set_compute_threads(1);  // tiny matrices: one thread is faster than two on a busy machine
  const ModelWeights fp = test::load_fixture_model("llama-gqa");
  const int64_t T = 32, S = 8;
  const std::vector<int32_t> calib = random_tokens(S * T, static_cast<int32_t>(fp.config.vocab), 1);
  const std::vector<int32_t> held_out = random_tokens(S * T, static_cast<int32_t>(fp.config.vocab), 2);

  QuantizeOptions o;
  o.format = Format::integer(2, 32, false);
  o.calib.ctx = T;
  o.calib.samples = S;
  o.keep_encoded = true;
  ModelWeights rtn = fp;
  o.method = QuantMethod::Rtn;
  ASSERT_TRUE(quantize_model(rtn, o, calib).has_value());

  ModelWeights cbq = fp;
  o.method = QuantMethod::Cbq;
  o.cbq.iterations = 60;
  o.cbq.batch = 2;
  o.cbq.lr = 1e-2;
  auto r = quantize_model(cbq, o, calib);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->cbq.windows.size(), 1u);  // 2 blocks, K = 2
  const CbqWindowReport& win = r->cbq.windows[0];
  EXPECT_EQ(win.loss.size(), 60u);
  EXPECT_LT(win.mse_final, win.mse_start);
  EXPECT_EQ(r->layers.size(), 14u);

  // Every layer's kept codes dequantize exactly to the weights the model now holds.
  for (const LinearRef& ref : block_linears(cbq)) {
    auto it = r->encoded.find(ref.tensor);
    ASSERT_NE(it, r->encoded.end()) << ref.tensor;
    const EncodedTensor& t = it->second;
    EXPECT_EQ(t.format, o.format);
    for (uint8_t q : t.ints.codes) ASSERT_LE(q, 3);
    std::vector<float> deq(static_cast<size_t>(t.rows * t.cols));
    t.dequantize(deq.data());
    const Linear& l = linear_of(cbq, ref);
    ASSERT_EQ(l.w.size(), static_cast<int64_t>(deq.size()));
    EXPECT_EQ(0, std::memcmp(deq.data(), l.w.data(), deq.size() * sizeof(float))) << ref.tensor;
  }

  // The window's output error (hidden states entering the final norm) is below RTN's, on the
  // calibration windows and on held-out ones.
  for (const auto* tokens : {&calib, &held_out}) {
    const MatrixRM ref = final_hidden(fp, *tokens, S, T);
    const double e_rtn = (final_hidden(rtn, *tokens, S, T) - ref).squaredNorm();
    const double e_cbq = (final_hidden(cbq, *tokens, S, T) - ref).squaredNorm();
    EXPECT_LT(e_cbq, e_rtn) << (tokens == &calib ? "calibration" : "held-out");
    std::cout << "  output error: RTN " << e_rtn << ", CBQ " << e_cbq << "\n";
  }
}

TEST(Cbq, SlidingWindowsAndCancel) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/gpt2");
  ModelWeights m = test::load_fixture_model("gpt2");  // LayerNorm with biases, GELU, no gate: CFP folds into the LayerNorms
  set_compute_threads(1);
  const int64_t T = 16, S = 4;
  const std::vector<int32_t> calib = random_tokens(S * T, static_cast<int32_t>(m.config.vocab), 3);
  QuantizeOptions o;
  o.method = QuantMethod::Cbq;
  o.format = Format::integer(4, 32, true);
  o.calib.ctx = T;
  o.calib.samples = S;
  o.cbq.window = 1;  // one block per window: two windows
  o.cbq.iterations = 5;
  o.cbq.batch = 2;
  ModelWeights a = m;
  int reports = 0;
  Progress p([&](const ProgressUpdate& u) {
    ++reports;
    EXPECT_NE(u.stage.find("CBQ window"), std::string::npos);
  });
  auto r = quantize_model(a, o, calib, &p);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->cbq.windows.size(), 2u);
  EXPECT_EQ(reports, 10);
  CancelToken cancel;
  cancel.cancel();
  ModelWeights b = m;
  auto c = quantize_model(b, o, calib, nullptr, &cancel);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::Cancelled);
}

}  // namespace
}  // namespace lowbit
