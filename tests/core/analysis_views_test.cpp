// The studio's views (core/analysis/views.h) on the tiny llama fixture with random windows: the fp
// weight Hessians are the calibration folder's, the Hessians at b bits equal them in block 0 and
// differ after it; the scale Hessian is symmetric and its diagonal agrees with a 1-D finite difference
// of the loss of independently quantized models; the landscape at (1, 1) is the RTN model's loss;
// the AWQ curves' minima are the α AWQ picks; histograms count every weight; Pearson kurtosis of
// a known sample; the views files round-trip; a cancelled run leaves nothing; the model is unchanged.
#include "core/analysis/views.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "core/analysis/awq_curves.h"
#include "core/analysis/outliers.h"
#include "core/analysis/scale_loss.h"
#include "core/analysis/scaled_rtn.h"
#include "core/analysis/views_file.h"
#include "core/io/checkpoint.h"
#include "core/model/config.h"
#include "core/quant/quantize_model.h"
#include "test_support.h"

namespace lowbit {
namespace {

constexpr int64_t kWindows = 4, kCtx = 24;
const char* kFixture = "models/hf-fixtures/llama-gqa";

// A fresh copy of the fixture (read from disk once).
ModelWeights load_fixture() {
  static const ModelWeights loaded = [] {
    auto ck = Checkpoint::open(test::shared_dir() / kFixture);
    EXPECT_TRUE(ck.has_value()) << ck.error().message;
    auto cfg = read_model_config(**ck);
    EXPECT_TRUE(cfg.has_value()) << cfg.error().message;
    auto w = load_model(**ck, *cfg);
    EXPECT_TRUE(w.has_value()) << w.error().message;
    return std::move(*w);
  }();
  return loaded;
}

std::vector<int32_t> random_windows(int64_t vocab, uint64_t seed = 5) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> d(0, static_cast<int32_t>(vocab - 1));
  std::vector<int32_t> t(static_cast<size_t>(kWindows * kCtx));
  for (auto& v : t) v = d(rng);
  return t;
}

std::filesystem::path temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("lowbit_views_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p;
}

AnalyzeInfo info_for() { return {"llama-gqa", "random", {kWindows, kCtx, 0}}; }

// Mean next-token NLL of a model on the windows, by the plain forward pass.
double loss_of(const ModelWeights& m, const std::vector<int32_t>& windows) {
  double nll = 0;
  auto ok = forward_windows(m, windows, kWindows, kCtx, [&](int64_t w, const MatrixRM& logits) {
    for (int64_t p = 0; p + 1 < kCtx; ++p) {
      const Eigen::VectorXd row = logits.row(p).transpose().cast<double>();
      const double mx = row.maxCoeff();
      nll += mx + std::log((row.array() - mx).exp().sum()) - row[windows[static_cast<size_t>(w * kCtx + p + 1)]];
    }
  });
  EXPECT_TRUE(ok.has_value());
  return nll / static_cast<double>(kWindows * (kCtx - 1));
}

// The fixture with every block RTN-quantized by quantize_model, block `k` instead by a scaled grid.
ModelWeights rtn_model(const Format& f, int64_t k = -1, float c = 1.0f) {
  ModelWeights m = load_fixture();
  const DecoderBlock original = k >= 0 ? m.blocks[static_cast<size_t>(k)] : DecoderBlock{};
  QuantizeOptions o;
  o.format = f;
  auto r = quantize_model(m, o, {});
  EXPECT_TRUE(r.has_value());
  if (k >= 0) {
    m.blocks[static_cast<size_t>(k)] = original;
    scaled_rtn_block(m.blocks[static_cast<size_t>(k)], f, c);
  }
  return m;
}

bool same_blocks(const ModelWeights& a, const ModelWeights& b) {
  for (size_t i = 0; i < a.blocks.size(); ++i) {
    const DecoderBlock &x = a.blocks[i], &y = b.blocks[i];
    if (x.q.w != y.q.w || x.k.w != y.k.w || x.v.w != y.v.w || x.o.w != y.o.w || x.gate.w != y.gate.w ||
        x.up.w != y.up.w || x.down.w != y.down.w || x.attn_norm != y.attn_norm || x.ffn_norm != y.ffn_norm)
      return false;
  }
  return true;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(static_cast<double>(a[i]) - b[i]));
  return d;
}

TEST(AnalysisViews, WeightHessiansAtFpAndAtBBits) {
  LOWBIT_REQUIRE_SHARED(kFixture);
  ModelWeights m = load_fixture();
  const ModelWeights before = m;
  const auto windows = random_windows(m.config.vocab);
  const auto dir = temp_dir("hessian");
  ViewsOptions o;
  o.views = {ViewKind::Hessian};
  o.bits = {2};
  auto r = analyze_views_to_folder(m, windows, info_for(), o, dir);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(same_blocks(m, before));
  auto calib = CalibrationSet::open(dir);
  ASSERT_TRUE(calib.has_value()) << calib.error().message;
  auto views = ViewsFile::open(dir);
  ASSERT_TRUE(views.has_value()) << views.error().message;
  ASSERT_TRUE(views->data().hessian.has_value());
  EXPECT_EQ(views->data().hessian->levels, (std::vector<std::string>{"fp", "b2"}));
  EXPECT_EQ(views->data().hessian->layers.size(), 2u * 2u * 4u);
  for (int64_t b = 0; b < 2; ++b)
    for (LinearInput i : kLinearInputs) {
      auto ref = calib->hessian(b, i);
      auto fp = views->hessian(b, i, "fp");
      auto b2 = views->hessian(b, i, "b2");
      ASSERT_TRUE(ref && fp && b2);
      double scale = 0;
      for (float v : *ref) scale = std::max(scale, std::fabs(static_cast<double>(v)));
      EXPECT_EQ(max_abs_diff(*fp, *ref), 0.0) << "block " << b << " " << linear_input_name(i);
      if (b == 0) {
        EXPECT_LE(max_abs_diff(*b2, *fp), 1e-6 * scale) << linear_input_name(i);
      } else {
        EXPECT_GT(max_abs_diff(*b2, *fp), 1e-3 * scale) << linear_input_name(i);
      }
      // The stored spectrum is H's: descending, summing to the trace.
      auto ev = views->hessian_eigenvalues(b, i, "b2");
      auto diag = views->hessian_diag(b, i, "b2");
      ASSERT_TRUE(ev && diag);
      double tr = 0, sum = 0;
      for (float v : *diag) tr += v;
      for (size_t k = 0; k < ev->size(); ++k) {
        sum += (*ev)[k];
        if (k) {
          EXPECT_GE((*ev)[k - 1], (*ev)[k]);
        }
      }
      EXPECT_NEAR(sum, tr, 1e-4 * std::fabs(tr));
    }
  for (const HessianSummary& s : views->data().hessian->layers) {
    EXPECT_GT(s.offdiag_mass, 0.0);
    EXPECT_LT(s.offdiag_mass, 1.0);
    EXPECT_GT(s.mean_abs_corr, 0.0);
    EXPECT_LE(s.mean_abs_corr, 1.0 + 1e-6);
    EXPECT_GE(s.effective_rank, 1.0 - 1e-9);
    EXPECT_LE(s.effective_rank, static_cast<double>(s.channels) + 1e-6);
  }
  std::filesystem::remove_all(dir);
}

TEST(AnalysisViews, OffDiagonalMassOfKnownMatrices) {
  MatrixRM h = MatrixRM::Identity(4, 4);
  EXPECT_EQ(hessian_offdiag_mass(h), 0.0);
  EXPECT_EQ(hessian_mean_abs_corr(h), 0.0);
  h.setOnes();
  EXPECT_DOUBLE_EQ(hessian_offdiag_mass(h), 12.0 / 16.0);
  EXPECT_DOUBLE_EQ(hessian_mean_abs_corr(h), 1.0);
  h << 4, -2, 0, 0, -2, 1, 0, 0, 0, 0, 9, 0, 0, 0, 0, 1;  // |corr(0,1)| = 2 / sqrt(4) = 1
  EXPECT_DOUBLE_EQ(hessian_offdiag_mass(h), 4.0 / 19.0);
  EXPECT_DOUBLE_EQ(hessian_mean_abs_corr(h), 2.0 / 12.0);
}

TEST(AnalysisViews, ScaleHessianAndLandscapeAgreeWithIndependentLosses) {
  LOWBIT_REQUIRE_SHARED(kFixture);
  const ModelWeights m = load_fixture();
  const auto windows = random_windows(m.config.vocab);
  const Format f = Format::integer(2, 64, false);
  auto model = ScaleLossModel::build(m, windows, kCtx, f);
  ASSERT_TRUE(model.has_value()) << model.error().message;
  const double l0 = loss_of(rtn_model(f), windows);
  EXPECT_NEAR((*model)->base_loss(), l0, 1e-5 * l0);

  const double h = 0.05;
  auto sh = (*model)->scale_hessian(h);
  ASSERT_TRUE(sh.has_value()) << sh.error().message;
  ASSERT_EQ(sh->matrix.size(), 2u);
  EXPECT_EQ(sh->evaluations, 2 * 2 * 2);
  EXPECT_EQ(sh->matrix[0][1], sh->matrix[1][0]);
  for (int64_t k = 0; k < 2; ++k) {
    const float cp = static_cast<float>(1 + h), cm = static_cast<float>(1 - h);
    const double step = (static_cast<double>(cp) - cm) / 2;
    const double lp = loss_of(rtn_model(f, k, cp), windows), lm = loss_of(rtn_model(f, k, cm), windows);
    const double fd = (lp - 2 * l0 + lm) / (step * step);
    EXPECT_NEAR(sh->matrix[static_cast<size_t>(k)][static_cast<size_t>(k)], fd, 1e-3 * std::fabs(fd) + 1e-3) << "block " << k;
    // And the evaluator's own loss at one perturbed block is the independent one.
    auto one = (*model)->loss({{k, cp}});
    ASSERT_TRUE(one.has_value());
    EXPECT_NEAR(*one, lp, 1e-5 * lp);
  }
  // The off-diagonal from four independent two-block losses.
  {
    const float cp = static_cast<float>(1 + h), cm = static_cast<float>(1 - h);
    const double step = (static_cast<double>(cp) - cm) / 2;
    auto two = [&](float a, float b) {
      ModelWeights q = rtn_model(f, 0, a);
      q.blocks[1] = m.blocks[1];
      scaled_rtn_block(q.blocks[1], f, b);
      return loss_of(q, windows);
    };
    const double off = (two(cp, cp) - two(cp, cm) - two(cm, cp) + two(cm, cm)) / (4 * step * step);
    EXPECT_NEAR(sh->matrix[0][1], off, 1e-3 * std::fabs(off) + 1e-3);
  }

  auto land = (*model)->landscape(0, {0.9, 1.0, 1.1});
  ASSERT_TRUE(land.has_value()) << land.error().message;
  ASSERT_EQ(land->loss.size(), 3u);
  EXPECT_NEAR(land->loss[1][1], l0, 1e-5 * l0);
  EXPECT_EQ(land->block_a, 0);
  EXPECT_EQ(land->block_b, 1);
  EXPECT_FALSE((*model)->landscape(1, {1.0}).has_value());  // no block 2
}

TEST(AnalysisViews, FixedCodesScaleTheQuantizedWeightsSmoothly) {
  LOWBIT_REQUIRE_SHARED(kFixture);
  const ModelWeights m = load_fixture();
  const auto windows = random_windows(m.config.vocab);
  const Format f = Format::integer(2, 64, false);
  // ŵ(c) = c·ŵ(1) with the codes kept; rounding again on the scaled grid changes codes.
  const MatrixRM& w = m.blocks[0].up.w;
  MatrixRM one = w, fixed = w, again = w;
  scaled_rtn_matrix(one.data(), w.rows(), w.cols(), f, 1.0f);
  scaled_rtn_matrix(fixed.data(), w.rows(), w.cols(), f, 0.9f, true);
  scaled_rtn_matrix(again.data(), w.rows(), w.cols(), f, 0.9f, false);
  EXPECT_LE((fixed - 0.9f * one).cwiseAbs().maxCoeff(), 1e-6f * one.cwiseAbs().maxCoeff());
  EXPECT_GT((again - 0.9f * one).cwiseAbs().maxCoeff(), 0.1f * one.cwiseAbs().maxCoeff());
  // The loss with block 0 at c = 1.1 is that of the RTN model with block 0's linear weights × 1.1.
  auto model = ScaleLossModel::build(m, windows, kCtx, f, true);
  ASSERT_TRUE(model.has_value()) << model.error().message;
  ModelWeights q = rtn_model(f);
  for (Linear* l : {&q.blocks[0].q, &q.blocks[0].k, &q.blocks[0].v, &q.blocks[0].o, &q.blocks[0].gate, &q.blocks[0].up,
                    &q.blocks[0].down})
    l->w *= 1.1f;
  auto l = (*model)->loss({{0, 1.1f}});
  ASSERT_TRUE(l.has_value());
  const double ref = loss_of(q, windows);
  EXPECT_NEAR(*l, ref, 1e-5 * ref);
  // A smooth function: halving the step barely moves its second derivatives.
  auto a = (*model)->scale_hessian(0.04), b = (*model)->scale_hessian(0.02);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->fixed_codes);
  for (size_t i = 0; i < 2; ++i)
    for (size_t j = 0; j < 2; ++j)
      EXPECT_NEAR(a->matrix[i][j], b->matrix[i][j], 0.05 * std::fabs(b->matrix[i][i]) + 1e-3) << i << "," << j;
}

TEST(AnalysisViews, AwqCurveMinimaAreTheAlphasAwqPicks) {
  LOWBIT_REQUIRE_SHARED(kFixture);
  ModelWeights m = load_fixture();
  const ModelWeights before = m;
  const auto windows = random_windows(m.config.vocab);
  const Format f = Format::integer(3, 64, false);
  AwqOptions ao;
  auto curves = awq_curves(m, windows, kCtx, f, ao);
  ASSERT_TRUE(curves.has_value()) << curves.error().message;
  EXPECT_TRUE(same_blocks(m, before));
  ASSERT_EQ(curves->groups.size(), 2u * 4u);

  ModelWeights q = load_fixture();
  QuantizeOptions o;
  o.method = QuantMethod::Awq;
  o.format = f;
  o.calib = {kWindows, kCtx, 0};
  auto rep = quantize_model(q, o, windows);
  ASSERT_TRUE(rep.has_value()) << rep.error().message;
  for (const AwqGroupCurve& c : curves->groups) {
    ASSERT_EQ(c.alpha_error.size(), 20u);
    size_t best = 0;
    for (size_t i = 1; i < c.alpha_error.size(); ++i)
      if (c.alpha_error[i] < c.alpha_error[best]) best = i;
    EXPECT_DOUBLE_EQ(c.alphas[best], c.alpha);
    EXPECT_DOUBLE_EQ(c.error_rtn, c.alpha_error[0]);
    // The clip curve starts at ratio 1 with the chosen α's error; the per-group search never does worse.
    ASSERT_EQ(c.clip_ratios.size(), 21u);
    EXPECT_DOUBLE_EQ(c.clip_ratios[0], 1.0);
    if (c.applied) {
      EXPECT_NEAR(c.clip_error[0], c.alpha_error[best], 1e-4 * c.alpha_error[best] + 1e-12);
    }
    EXPECT_LE(c.clip_search_error, c.clip_error[0] * (1 + 1e-4) + 1e-12);
    // The α quantize_model reports for the group's layers.
    const char* part = c.group == "qkv" ? "q" : c.group == "o" ? "o" : c.group == "gate_up" ? "gate" : "down";
    int64_t seen = 0;
    for (const LayerReport& l : rep->layers) {
      if (l.part != part) continue;
      if (seen++ != c.block) continue;
      EXPECT_EQ(c.applied, l.awq_alpha >= 0) << c.group;
      if (c.applied) {
        EXPECT_DOUBLE_EQ(l.awq_alpha, c.alpha) << "block " << c.block << " " << c.group;
      }
    }
    EXPECT_EQ(seen, 2);
  }
}

TEST(AnalysisViews, HistogramsAndKurtosis) {
  // Mean 2, deviations −2 (four times) and 8: m₂ = 80 / 5 = 16, m₄ = 4160 / 5 = 832 → 832 / 16² = 3.25.
  const std::vector<float> s = {0, 0, 0, 0, 10};
  EXPECT_DOUBLE_EQ(pearson_kurtosis(s), 3.25);
  const std::vector<float> pm = {-1, 1, -1, 1};
  EXPECT_DOUBLE_EQ(pearson_kurtosis(pm), 1.0);
  std::mt19937_64 rng(3);
  std::normal_distribution<float> g(0, 1);
  MatrixRM w(200, 300);
  for (int64_t i = 0; i < w.size(); ++i) w.data()[i] = g(rng);
  const WeightHistogram h = weight_histogram(w, 64);
  int64_t sum = 0;
  for (int64_t c : h.counts) sum += c;
  EXPECT_EQ(sum, w.size());
  EXPECT_EQ(h.counts.size(), 64u);
  EXPECT_NEAR(h.kurtosis, 3.0, 0.1);
  EXPECT_DOUBLE_EQ(h.range, static_cast<double>(w.cwiseAbs().maxCoeff()));
  EXPECT_GT(h.counts[31] + h.counts[32], h.counts[0] + h.counts[63]);
  // The extreme weight lands in the last bin, not past it.
  MatrixRM e(1, 3);
  e << -2, 0, 2;
  const WeightHistogram he = weight_histogram(e, 4);
  EXPECT_EQ(he.counts, (std::vector<int64_t>{1, 0, 1, 1}));
}

TEST(AnalysisViews, AllViewsWriteFilesThatReadBack) {
  LOWBIT_REQUIRE_SHARED(kFixture);
  ModelWeights m = load_fixture();
  const ModelWeights before = m;
  const auto windows = random_windows(m.config.vocab);
  const auto dir = temp_dir("all");
  ViewsOptions o;
  o.views = {ViewKind::Hessian, ViewKind::ScaleHessian, ViewKind::Landscape, ViewKind::Awq, ViewKind::Outliers};
  o.bits = {4, 2};
  o.landscape_points = 3;
  std::vector<std::string> stages;
  Progress progress([&](const ProgressUpdate& u) { stages.push_back(u.stage); });
  auto r = analyze_views_to_folder(m, windows, info_for(), o, dir, &progress);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(same_blocks(m, before));
  for (const char* f : {"calibration.json", "stats.safetensors", "views.json", "views.safetensors"})
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
  EXPECT_FALSE(std::filesystem::exists(dir / ".lowbit-analyze.partial"));
  auto has_stage = [&](const std::string& s) {
    for (const auto& x : stages)
      if (x.find(s) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has_stage("calibration: block"));
  EXPECT_TRUE(has_stage("hessian int2g64a"));
  EXPECT_TRUE(has_stage("scale Hessian int4g64a"));
  EXPECT_TRUE(has_stage("landscape int2g64a"));
  EXPECT_TRUE(has_stage("awq int4g64a"));

  auto views = ViewsFile::open(dir);
  ASSERT_TRUE(views.has_value()) << views.error().message;
  const ViewsData& d = views->data();
  EXPECT_EQ(d.blocks, 2);
  EXPECT_EQ(d.tokens, kWindows * kCtx);
  ASSERT_EQ(d.scale_hessian.size(), 2u);
  EXPECT_EQ(d.scale_hessian[0].bits, 2);  // ascending bits
  ASSERT_EQ(d.landscape.size(), 2u);
  ASSERT_EQ(d.landscape[0].values.size(), 3u);
  EXPECT_DOUBLE_EQ(d.landscape[0].values[0], 0.8);
  EXPECT_EQ(d.landscape[0].values[1], 1.0);  // exactly: the unperturbed model
  EXPECT_DOUBLE_EQ(d.landscape[0].values[2], 1.2);
  EXPECT_DOUBLE_EQ(d.landscape[1].loss[1][1], d.scale_hessian[1].base_loss);
  ASSERT_EQ(d.awq.size(), 2u);
  ASSERT_TRUE(d.outliers.has_value());
  EXPECT_EQ(d.outliers->weights.size(), 2u * 7u);
  EXPECT_EQ(d.outliers->inputs.size(), 2u * 4u);
  for (const InputOutliers& in : d.outliers->inputs) {
    auto mx = views->max_abs(in.block, in.input);
    ASSERT_TRUE(mx.has_value());
    EXPECT_EQ(static_cast<int64_t>(mx->size()), in.channels);
    for (int64_t c : in.cfp.outliers) EXPECT_GT((*mx)[static_cast<size_t>(c)], in.cfp.threshold);
  }
  EXPECT_TRUE(d.seconds.count("scale-hessian") && d.seconds.count("total"));

  // JSON round trip of everything the reader returned.
  auto again = views_from_json(views_to_json(d), "memory");
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(views_to_json(*again), views_to_json(d));
  EXPECT_EQ(again->hessian->layers.size(), d.hessian->layers.size());
  EXPECT_EQ(again->awq[1].groups[3].alpha_error, d.awq[1].groups[3].alpha_error);
  EXPECT_EQ(again->outliers->weights[5].counts, d.outliers->weights[5].counts);

  // Damaged: an unknown version, a missing array.
  nlohmann::json bad = views_to_json(d);
  bad["version"] = 2;
  EXPECT_FALSE(views_from_json(bad, "x").has_value());
  bad = views_to_json(d);
  bad["outliers"]["inputs"][0]["input"] = "nope";
  auto e = views_from_json(bad, "views.json");
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message.find("views.json"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(AnalysisViews, CancelLeavesNothingNew) {
  LOWBIT_REQUIRE_SHARED(kFixture);
  ModelWeights m = load_fixture();
  const ModelWeights before = m;
  const auto windows = random_windows(m.config.vocab);
  ViewsOptions o;
  o.views = {ViewKind::Hessian, ViewKind::ScaleHessian, ViewKind::Outliers};
  o.bits = {2};
  for (const char* when : {"hessian", "scale Hessian"}) {
    const auto dir = temp_dir("cancel");
    CancelToken cancel;
    Progress progress([&](const ProgressUpdate& u) {
      if (u.stage.find(when) != std::string::npos) cancel.cancel();
    });
    auto r = analyze_views_to_folder(m, windows, info_for(), o, dir, &progress, &cancel);
    ASSERT_FALSE(r.has_value()) << when;
    EXPECT_EQ(r.error().code, ErrorCode::Cancelled);
    EXPECT_FALSE(std::filesystem::exists(dir)) << when;
    EXPECT_TRUE(same_blocks(m, before)) << when;
  }
  // A folder that existed keeps what it had, and only that.
  const auto dir = temp_dir("cancel_kept");
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "keep.txt") << "x"; }
  CancelToken cancel;
  Progress progress([&](const ProgressUpdate& u) {
    if (u.stage.find("scale Hessian") != std::string::npos) cancel.cancel();
  });
  ASSERT_FALSE(analyze_views_to_folder(m, windows, info_for(), o, dir, &progress, &cancel).has_value());
  int64_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.path().filename() == "keep.txt" ? 1 : 100;
  EXPECT_EQ(files, 1);
  std::filesystem::remove_all(dir);
}

TEST(AnalysisViews, BadOptionsAreErrors) {
  EXPECT_FALSE(parse_view_list("hessian,nope").has_value());
  auto v = parse_view_list("awq,outliers");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->size(), 2u);
  ViewsOptions o;
  EXPECT_FALSE(o.validate().has_value());  // no view
  o.views = {ViewKind::Awq};
  EXPECT_TRUE(o.validate().has_value());
  o.bits = {1};
  EXPECT_FALSE(o.validate().has_value());
  o.bits = {2};
  o.fd_step = 0;
  EXPECT_FALSE(o.validate().has_value());
  LOWBIT_REQUIRE_SHARED(kFixture);
  ModelWeights m = load_fixture();
  o.fd_step = 0.02;
  o.group = 128;  // does not divide the fixture's 64 inputs
  const auto dir = temp_dir("bad");
  auto r = analyze_views_to_folder(m, random_windows(m.config.vocab), info_for(), o, dir);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("int2g128a"), std::string::npos) << r.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace lowbit
