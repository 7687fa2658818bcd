// The reverse-mode engine of core/recon/block_grad.h on every hf-fixtures architecture:
// block_forward_tape reproduces block_forward, and every parameter gradient, the input gradient and
// the head's KL gradient agree with central finite differences of random directional derivatives
// (L = ⟨R, y⟩ for a fixed random R; ⟨∇L, v⟩ against (L(θ + εv) − L(θ − εv)) / 2ε). The finite
// differences are taken on a plain double-precision forward written here independently of the
// engine (which it must also agree with), so fp32 rounding does not hide small gradient errors.
// Variants switch on what the fixtures lack: a sliding window (mistral), interleaved RoPE (llama),
// partial rotary (phi3). Adam is checked on its first, bias-corrected step.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/io/checkpoint.h"
#include "core/model/config.h"
#include "core/model/forward.h"
#include "core/recon/block_grad.h"
#include "fixture_model.h"
#include "test_support.h"

namespace lowbit {
namespace {

constexpr int64_t kB = 2, kT = 16;

ModelWeights load_fixture(const std::string& name) {
  auto ck = Checkpoint::open(test::shared_dir() / "models/hf-fixtures" / name);
  EXPECT_TRUE(ck.has_value()) << (ck ? "" : ck.error().message);
  auto cfg = read_model_config(**ck);
  EXPECT_TRUE(cfg.has_value()) << (cfg ? "" : cfg.error().message);
  auto w = load_model(**ck, *cfg);
  EXPECT_TRUE(w.has_value()) << (w ? "" : w.error().message);
  return std::move(*w);
}

MatrixRM random_matrix(int64_t r, int64_t c, std::mt19937& rng, float sd = 1.0f) {
  std::normal_distribution<float> n(0.0f, sd);
  MatrixRM m(r, c);
  for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = n(rng);
  return m;
}

// The hidden states entering block 0 for random tokens.
MatrixRM embedded_input(const ModelWeights& m, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(m.config.vocab - 1));
  std::vector<int32_t> ids(kB * kT);
  for (auto& t : ids) t = tok(rng);
  MatrixRM x;
  EXPECT_TRUE(embed_windows(m, ids, kB, kT, x).has_value());
  return x;
}

// Random-weight fixtures start with norm weights 1 and biases 0: jitter them so that no gradient
// is checked at a special point.
void jitter_norms(DecoderBlock& b, std::mt19937& rng) {
  std::normal_distribution<float> n(0.0f, 0.1f);
  for (VectorF* v : {&b.attn_norm, &b.attn_norm_b, &b.ffn_norm, &b.ffn_norm_b, &b.q_norm, &b.k_norm, &b.q.b, &b.k.b, &b.v.b,
                     &b.o.b, &b.up.b, &b.gate.b, &b.down.b})
    for (int64_t i = 0; i < v->size(); ++i) (*v)[i] += n(rng);
}

// ---- The double-precision reference block ----------------------------------------------------
using MatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using VecD = Eigen::VectorXd;
struct LinD {
  MatD w;
  VecD b;
};
struct BlockD {
  VecD attn_norm, attn_norm_b, ffn_norm, ffn_norm_b, q_norm, k_norm;
  LinD q, k, v, o, gate, up, down;
};

BlockD to_double(const DecoderBlock& b) {
  auto lin = [](const Linear& l) { return LinD{l.w.cast<double>(), l.b.cast<double>()}; };
  return {b.attn_norm.cast<double>(), b.attn_norm_b.cast<double>(), b.ffn_norm.cast<double>(), b.ffn_norm_b.cast<double>(),
          b.q_norm.cast<double>(),    b.k_norm.cast<double>(),      lin(b.q),
          lin(b.k),                   lin(b.v),                     lin(b.o),
          lin(b.gate),                lin(b.up),                    lin(b.down)};
}

// Name → storage of every parameter tensor of a block; both precisions list the same names in order.
template <class Scalar, class Vec, class Lin, class Block>
std::vector<std::pair<std::string, Eigen::Map<Eigen::Matrix<Scalar, Eigen::Dynamic, 1>>>> tensors_of(Block& b) {
  using Map = Eigen::Map<Eigen::Matrix<Scalar, Eigen::Dynamic, 1>>;
  std::vector<std::pair<std::string, Map>> out;
  auto vec = [&](const char* n, Vec& v) {
    if (v.size()) out.emplace_back(n, Map(v.data(), v.size()));
  };
  auto lin = [&](const std::string& n, Lin& l) {
    if (l.w.size()) out.emplace_back(n + ".w", Map(l.w.data(), l.w.size()));
    if (l.b.size()) out.emplace_back(n + ".b", Map(l.b.data(), l.b.size()));
  };
  vec("attn_norm", b.attn_norm);
  vec("attn_norm_b", b.attn_norm_b);
  vec("ffn_norm", b.ffn_norm);
  vec("ffn_norm_b", b.ffn_norm_b);
  vec("q_norm", b.q_norm);
  vec("k_norm", b.k_norm);
  lin("q", b.q);
  lin("k", b.k);
  lin("v", b.v);
  lin("o", b.o);
  lin("gate", b.gate);
  lin("up", b.up);
  lin("down", b.down);
  return out;
}

MatD ref_norm(const ModelConfig& c, const MatD& x, const VecD& w, const VecD& b) {
  MatD y(x.rows(), x.cols());
  for (int64_t i = 0; i < x.rows(); ++i) {
    if (c.norm == NormKind::Rms) {
      y.row(i) = x.row(i) / std::sqrt(x.row(i).squaredNorm() / static_cast<double>(x.cols()) + c.norm_eps);
    } else {
      const Eigen::RowVectorXd d = x.row(i).array() - x.row(i).mean();
      y.row(i) = d / std::sqrt(d.squaredNorm() / static_cast<double>(x.cols()) + c.norm_eps);
    }
    y.row(i) = y.row(i).cwiseProduct(w.transpose());
    if (b.size()) y.row(i) += b.transpose();
  }
  return y;
}

MatD ref_linear(const MatD& x, const LinD& l) {
  MatD y = x * l.w.transpose();
  if (l.b.size()) y.rowwise() += l.b.transpose();
  return y;
}

void ref_head_norm(MatD& x, int64_t heads, int64_t hd, const VecD& w, double eps) {
  for (int64_t i = 0; i < x.rows(); ++i)
    for (int64_t h = 0; h < heads; ++h) {
      auto s = x.row(i).segment(h * hd, hd);
      s = (s / std::sqrt(s.squaredNorm() / static_cast<double>(hd) + eps)).cwiseProduct(w.transpose());
    }
}

void ref_rope(const ModelConfig& c, MatD& x, int64_t heads, int64_t T) {
  const int64_t hd = c.head_dim, rot = c.rotary_dim(), half = rot / 2;
  for (int64_t i = 0; i < x.rows(); ++i)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t j = 0; j < half; ++j) {
        const double angle =
            static_cast<double>(i % T) / std::pow(c.rope_theta, static_cast<double>(2 * j) / static_cast<double>(rot));
        const int64_t a = h * hd + (c.rope_style == RopeStyle::Neox ? j : 2 * j);
        const int64_t b = h * hd + (c.rope_style == RopeStyle::Neox ? j + half : 2 * j + 1);
        const double x0 = x(i, a), x1 = x(i, b);
        x(i, a) = x0 * std::cos(angle) - x1 * std::sin(angle);
        x(i, b) = x1 * std::cos(angle) + x0 * std::sin(angle);
      }
}

MatD ref_block(const ModelConfig& c, const BlockD& b, const MatD& x, int64_t B, int64_t T) {
  const int64_t hd = c.head_dim, nh = c.n_heads, group = c.n_heads / c.n_kv_heads;
  MatD h = ref_norm(c, x, b.attn_norm, b.attn_norm_b);
  MatD q = ref_linear(h, b.q), k = ref_linear(h, b.k), v = ref_linear(h, b.v);
  if (c.qk_norm) {
    ref_head_norm(q, nh, hd, b.q_norm, c.norm_eps);
    ref_head_norm(k, c.n_kv_heads, hd, b.k_norm, c.norm_eps);
  }
  if (!c.learned_positions) {
    ref_rope(c, q, nh, T);
    ref_rope(c, k, c.n_kv_heads, T);
  }
  MatD att = MatD::Zero(x.rows(), nh * hd);
  std::vector<double> p(static_cast<size_t>(T));
  for (int64_t w = 0; w < B; ++w)
    for (int64_t hh = 0; hh < nh; ++hh)
      for (int64_t i = 0; i < T; ++i) {
        const int64_t lo = c.sliding_window > 0 ? std::max<int64_t>(0, i - c.sliding_window + 1) : 0;
        const int64_t kv = hh / group * hd;
        double mx = -1e300, sum = 0;
        for (int64_t j = lo; j <= i; ++j) {
          const size_t pj = static_cast<size_t>(j);
          p[pj] = q.row(w * T + i).segment(hh * hd, hd).dot(k.row(w * T + j).segment(kv, hd)) / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, p[pj]);
        }
        for (int64_t j = lo; j <= i; ++j) sum += (p[static_cast<size_t>(j)] = std::exp(p[static_cast<size_t>(j)] - mx));
        for (int64_t j = lo; j <= i; ++j)
          att.row(w * T + i).segment(hh * hd, hd) += p[static_cast<size_t>(j)] / sum * v.row(w * T + j).segment(kv, hd);
      }
  MatD x1 = x + ref_linear(att, b.o);
  h = ref_norm(c, x1, b.ffn_norm, b.ffn_norm_b);
  auto act = [&](double z) {
    if (c.act == Activation::Silu) return z / (1.0 + std::exp(-z));
    return 0.5 * z * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (z + 0.044715 * z * z * z)));
  };
  MatD g = ref_linear(h, b.gate.w.size() ? b.gate : b.up).unaryExpr(act);
  if (b.gate.w.size()) g = g.cwiseProduct(ref_linear(h, b.up));
  return x1 + ref_linear(g, b.down);
}

// KL(teacher ‖ student) of the head in double precision, mean over rows.
double ref_head_kl(const ModelWeights& m, const MatD& x, const MatD& teacher) {
  const MatD h = ref_norm(m.config, x, m.final_norm.cast<double>(), m.final_norm_b.cast<double>());
  const MatD s = h * m.output().cast<double>().transpose();
  double kl = 0;
  for (int64_t i = 0; i < s.rows(); ++i) {
    const double ms = s.row(i).maxCoeff(), mt = teacher.row(i).maxCoeff();
    const double ls = std::log((s.row(i).array() - ms).exp().sum()), lt = std::log((teacher.row(i).array() - mt).exp().sum());
    for (int64_t j = 0; j < s.cols(); ++j) {
      const double pt = teacher(i, j) - mt - lt;
      kl += std::exp(pt) * (pt - (s(i, j) - ms - ls));
    }
  }
  return kl / static_cast<double>(s.rows());
}

// ---- Directional finite differences ----------------------------------------------------------
struct FdCheck {
  double analytic = 0, numeric = 0;
  bool ok(double rel_tol, double abs_floor) const {
    return std::fabs(analytic - numeric) <= rel_tol * std::max(std::fabs(analytic), std::fabs(numeric)) + abs_floor;
  }
};

// A random direction v over `value` (double storage), the analytic ⟨grad, v⟩ and the central
// difference of `loss` along v with a step of 1e-5 of the tensor's rms.
FdCheck directional(Eigen::Map<VecD> value, const float* grad, const std::function<double()>& loss, std::mt19937& rng) {
  std::normal_distribution<double> nd(0.0, 1.0);
  const int64_t n = value.size();
  VecD v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = nd(rng);
  double rms = std::sqrt(value.squaredNorm() / static_cast<double>(n));
  if (rms == 0) rms = 0.05;
  const double eps = 1e-5 * rms;
  const VecD saved = value;
  value = saved + eps * v;
  const double lp = loss();
  value = saved - eps * v;
  const double lm = loss();
  value = saved;
  double an = 0;
  for (int64_t i = 0; i < n; ++i) an += static_cast<double>(grad[i]) * v[i];
  return {an, (lp - lm) / (2.0 * eps)};
}

class Recon : public ::testing::TestWithParam<const char*> {};

TEST_P(Recon, TapedForwardMatchesBlockForward) {
  LOWBIT_REQUIRE_SHARED(std::string("models/hf-fixtures/") + GetParam());
  ModelWeights m = load_fixture(GetParam());
  std::mt19937 rng(7);
  MatrixRM x = embedded_input(m, rng), y;
  BlockTape tape;
  for (const DecoderBlock& b : m.blocks) {
    MatrixRM ref = x;
    block_forward(m.config, b, ref, kB, kT);
    block_forward_tape(m.config, b, x, kB, kT, tape, y);
    const double err = (y - ref).cwiseAbs().maxCoeff() / ref.cwiseAbs().maxCoeff();
    EXPECT_LT(err, 1e-6) << GetParam();
    x = ref;
  }
  EXPECT_GT(tape.bytes(), 0);
}

// One architecture (with config overrides) through every gradient check.
void check_block_gradients(ModelWeights m, const std::string& label) {
  std::mt19937 rng(11);
  const ModelConfig& c = m.config;
  MatrixRM x = embedded_input(m, rng);
  block_forward(c, m.blocks[0], x, kB, kT);  // block 1's input: hidden states that went through a block
  DecoderBlock b = m.blocks[1];
  jitter_norms(b, rng);
  const MatrixRM R = random_matrix(x.rows(), x.cols(), rng);
  BlockTape tape;
  MatrixRM y;
  block_forward_tape(c, b, x, kB, kT, tape, y);
  DecoderBlock grads;
  zero_grads_like(b, grads);
  MatrixRM dx;
  block_backward(c, b, tape, R, grads, &dx);

  BlockD bd = to_double(b);
  MatD xd = x.cast<double>();
  const MatD Rd = R.cast<double>();
  const MatD yd = ref_block(c, bd, xd, kB, kT);  // the reference agrees with the engine's fp32 forward
  EXPECT_LT((yd - y.cast<double>()).cwiseAbs().maxCoeff(), 1e-5 * yd.cwiseAbs().maxCoeff()) << label;
  auto loss = [&]() { return Rd.cwiseProduct(ref_block(c, bd, xd, kB, kT)).sum(); };
  // Gradients that are zero in exact arithmetic (gpt2's k bias: softmax ignores a constant per row)
  // leave fp32 rounding; the floor is far below any real directional derivative here.
  const double floor = 1e-7 * static_cast<double>(R.norm()) * static_cast<double>(y.norm());
  auto dbl = tensors_of<double, VecD, LinD>(bd);
  const auto flt = tensors_of<float, VectorF, Linear>(grads);
  ASSERT_EQ(dbl.size(), flt.size());
  for (size_t i = 0; i < dbl.size(); ++i) {
    ASSERT_EQ(dbl[i].first, flt[i].first);
    const FdCheck r = directional(dbl[i].second, flt[i].second.data(), loss, rng);
    EXPECT_TRUE(r.ok(2e-4, floor)) << label << " " << dbl[i].first << ": analytic " << r.analytic << " vs finite difference "
                                   << r.numeric;
  }
  const FdCheck rx = directional(Eigen::Map<VecD>(xd.data(), xd.size()), dx.data(), loss, rng);
  EXPECT_TRUE(rx.ok(2e-4, floor)) << label << " dx: analytic " << rx.analytic << " vs finite difference " << rx.numeric;

  // Gradients accumulate: a second backward doubles them; dx == nullptr leaves the parameter grads intact.
  DecoderBlock twice = grads;
  block_backward(c, b, tape, R, twice, nullptr);
  EXPECT_NEAR((twice.down.w - 2 * grads.down.w).norm(), 0.0, 1e-5 * grads.down.w.norm()) << label;
  EXPECT_NEAR((twice.attn_norm - 2 * grads.attn_norm).norm(), 0.0, 1e-5 * grads.attn_norm.norm()) << label;
}

TEST_P(Recon, GradientsMatchFiniteDifferences) {
  LOWBIT_REQUIRE_SHARED(std::string("models/hf-fixtures/") + GetParam());
  ModelWeights m = load_fixture(GetParam());
  check_block_gradients(m, GetParam());
  const std::string arch = GetParam();
  if (arch == "mistral") {
    m.config.sliding_window = 5;  // the fixture's window is longer than the test's windows
    check_block_gradients(m, arch + " (sliding window 5)");
  } else if (arch == "llama-gqa") {
    m.config.rope_style = RopeStyle::Interleaved;
    check_block_gradients(m, arch + " (interleaved RoPE)");
  } else if (arch == "phi3-fused") {
    m.config.partial_rotary = 0.5;
    check_block_gradients(m, arch + " (partial rotary 0.5)");
  }
}

TEST_P(Recon, HeadKlGradientMatchesFiniteDifferences) {
  LOWBIT_REQUIRE_SHARED(std::string("models/hf-fixtures/") + GetParam());
  ModelWeights m = load_fixture(GetParam());
  std::mt19937 rng(5);
  MatrixRM x = embedded_input(m, rng);
  for (const DecoderBlock& b : m.blocks) block_forward(m.config, b, x, kB, kT);
  // The teacher: the same head on perturbed hidden states, so the KL is small but not zero.
  MatrixRM teacher;
  head_logits(m, x + random_matrix(x.rows(), x.cols(), rng, 0.3f * std::sqrt(x.squaredNorm() / static_cast<float>(x.size()))),
              teacher);
  MatrixRM dx;
  const double l0 = head_kl_loss_and_grad(m, x, teacher, &dx);
  EXPECT_GT(l0, 0.0);
  MatrixRM self;
  head_logits(m, x, self);
  EXPECT_NEAR(head_kl_loss_and_grad(m, x, self, nullptr), 0.0, 1e-6);
  MatD xd = x.cast<double>();
  const MatD td = teacher.cast<double>();
  EXPECT_NEAR(ref_head_kl(m, xd, td), l0, 1e-4 * l0);
  auto loss = [&]() { return ref_head_kl(m, xd, td); };
  for (int rep = 0; rep < 2; ++rep) {
    const FdCheck r = directional(Eigen::Map<VecD>(xd.data(), xd.size()), dx.data(), loss, rng);
    EXPECT_TRUE(r.ok(2e-4, 0.0)) << GetParam() << ": analytic " << r.analytic << " vs finite difference " << r.numeric;
  }
}

INSTANTIATE_TEST_SUITE_P(AllArchitectures, Recon,
                         ::testing::ValuesIn(test::kFixtureArchitectures), test::FixtureTestName());

TEST(Adam, FirstStepMovesEachParameterByTheLearningRate) {
  Adam adam(0.01f);
  std::vector<float> p = {1.0f, -2.0f, 0.5f}, g = {3.0f, -0.001f, 0.0f};
  adam.step(p, g);
  EXPECT_NEAR(p[0], 1.0f - 0.01f, 1e-6);
  EXPECT_NEAR(p[1], -2.0f + 0.01f, 1e-4);
  EXPECT_FLOAT_EQ(p[2], 0.5f);
  // Minimizes a quadratic.
  std::vector<float> q = {5.0f, -3.0f};
  Adam a2(0.1f);
  for (int i = 0; i < 500; ++i) {
    std::vector<float> grad = {2 * q[0], 2 * q[1]};
    a2.step(q, grad);
  }
  EXPECT_LT(std::fabs(q[0]) + std::fabs(q[1]), 0.05f);
}

}  // namespace
}  // namespace lowbit
