// The planner: the knapsack meets its budget exactly and finds the optimum on small instances
// (checked against exhaustive search); sensitivities are measured, cached and restored; a planned
// layout on a fixture meets the file-size budget as the exporter measures it; layouts round-trip.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/export/gguf_export.h"
#include "core/plan/layout.h"
#include "core/plan/planner.h"
#include "core/plan/sensitivity.h"
#include "test_support.h"

namespace lowbit {
namespace {

double brute_force(const std::vector<std::vector<KnapsackChoice>>& items, uint64_t budget) {
  double best = std::numeric_limits<double>::infinity();
  std::vector<size_t> idx(items.size(), 0);
  while (true) {
    uint64_t bytes = 0;
    double cost = 0;
    for (size_t i = 0; i < items.size(); ++i) bytes += items[i][idx[i]].bytes, cost += items[i][idx[i]].cost;
    if (bytes <= budget) best = std::min(best, cost);
    size_t k = 0;
    while (k < items.size() && ++idx[k] == items[k].size()) idx[k++] = 0;
    if (k == items.size()) break;
  }
  return best;
}

TEST(Knapsack, MeetsTheBudgetAndIsNearTheOptimum) {
  std::mt19937 rng(3);
  int exact = 0;
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::vector<KnapsackChoice>> items(5);
    for (auto& it : items) {
      // Convex-ish menus as real formats give: more bytes, less cost.
      double cost = 1.0 + std::uniform_real_distribution<double>(0, 5)(rng);
      uint64_t bytes = 10 + rng() % 10;
      for (int c = 0; c < 4; ++c) {
        it.push_back({bytes, cost});
        bytes += 5 + rng() % 20;
        cost *= std::uniform_real_distribution<double>(0.2, 0.8)(rng);
      }
    }
    uint64_t lo = 0, hi = 0;
    for (auto& it : items) lo += it.front().bytes, hi += it.back().bytes;
    const uint64_t budget = lo + rng() % (hi - lo + 1);
    auto pick = solve_knapsack(items, budget);
    ASSERT_TRUE(pick);
    uint64_t bytes = 0;
    double cost = 0;
    for (size_t i = 0; i < items.size(); ++i) bytes += items[i][(*pick)[i]].bytes, cost += items[i][(*pick)[i]].cost;
    EXPECT_LE(bytes, budget);
    const double best = brute_force(items, budget);
    EXPECT_LE(cost, best * 1.25 + 1e-12);  // Lagrangian + greedy repair: near, usually exact
    exact += cost <= best + 1e-12;
  }
  EXPECT_GE(exact, 140);  // most instances exactly optimal
  std::vector<std::vector<KnapsackChoice>> items = {{{10, 1}}, {{10, 1}}};
  EXPECT_FALSE(solve_knapsack(items, 19));  // below the smallest layout: an error that says so
}

// The llama-gqa fixture, its weights (w, changed and restored by the code under test; original, a
// copy to compare with) and 4 windows of 16 pseudo-random tokens.
class LlamaGqaPlan : public ::testing::Test {
 protected:
  void SetUp() override {
    LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa/config.json");
    auto m = open_model(test::shared_dir() / "models/hf-fixtures/llama-gqa", false);
    ASSERT_TRUE(m);
    model_ = std::move(*m);
    auto loaded = load_model(*model_.checkpoint, model_.config);
    ASSERT_TRUE(loaded);
    w_ = std::move(*loaded);
    original_ = w_;
    windows_.resize(4 * 16);
    for (size_t i = 0; i < windows_.size(); ++i) windows_[i] = static_cast<int32_t>((i * 7919 + 13) % static_cast<size_t>(w_.config.vocab));
  }
  Model model_;
  ModelWeights w_, original_;
  std::vector<int32_t> windows_;
};

TEST_F(LlamaGqaPlan, PlansTheFixtureWithinItsSizeBudgetAndLayoutsRoundTrip) {
  SensitivityOptions so;
  so.formats = {*Format::parse("q4_0"), *Format::parse("q8_0"), *Format::parse("f16")};
  so.cache = std::filesystem::temp_directory_path() / ("lowbit_planner_cache_" + std::to_string(::getpid()) + ".json");
  std::filesystem::remove(so.cache);
  auto sens = measure_sensitivity(w_, windows_, 16, so);
  ASSERT_TRUE(sens) << sens.error().message;
  EXPECT_GT(sens->measured, 0);
  EXPECT_EQ(sens->cached, 0);
  // The model is restored.
  EXPECT_TRUE(w_.blocks[0].q.w.isApprox(original_.blocks[0].q.w, 0.0f));
  EXPECT_TRUE(w_.tok_embd.isApprox(original_.tok_embd, 0.0f));
  // Coarser formats cost more (on average over tensors).
  double k4 = 0, k8 = 0;
  for (const auto& [t, by] : sens->values) {
    if (by.count("q4_0")) k4 += by.at("q4_0").kld;
    if (by.count("q8_0")) k8 += by.at("q8_0").kld;
  }
  EXPECT_GT(k4, k8);
  auto again = measure_sensitivity(w_, windows_, 16, so);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->measured, 0);  // all from the cache
  EXPECT_EQ(again->values.size(), sens->values.size());

  // A budget between the all-q4_0 and all-q8_0 files.
  const Layout l4 = Layout::uniform(w_, *Format::parse("q4_0"), QuantMethod::Rtn, true);
  const Layout l8 = Layout::uniform(w_, *Format::parse("q8_0"), QuantMethod::Rtn, true);
  auto s4 = gguf_file_size(model_, w_, l4.tensors);
  auto s8 = gguf_file_size(model_, w_, l8.tensors);
  ASSERT_TRUE(s4 && s8);
  PlanOptions po;
  po.formats = so.formats;
  po.budget_bytes = (*s4 + *s8) / 2;
  auto plan = plan_layout(model_, w_, *sens, po);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_TRUE(plan->exact_size);
  EXPECT_LE(plan->file_bytes, *po.budget_bytes);
  EXPECT_GT(plan->file_bytes, *s4);
  ASSERT_TRUE(plan->layout.validate(w_));
  // The exporter agrees on the size of what was planned.
  auto exact = gguf_file_size(model_, w_, plan->layout.tensors);
  ASSERT_TRUE(exact);
  EXPECT_EQ(*exact, plan->file_bytes);
  // Layout JSON round trip.
  const auto path = std::filesystem::temp_directory_path() / ("lowbit_planner_" + std::to_string(::getpid()) + ".json");
  ASSERT_TRUE(write_layout(plan->layout, path));
  auto back = read_layout(path);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->tensors, plan->layout.tensors);
  EXPECT_EQ(back->method, plan->layout.method);
  // A budget below the smallest layout is an error, not a silent over-budget layout.
  po.budget_bytes = *s4 / 2;
  EXPECT_FALSE(plan_layout(model_, w_, *sens, po));
  std::filesystem::remove(so.cache);
}

TEST_F(LlamaGqaPlan, HessianSensitivityIsOnePassAndRanksFormats) {
  SensitivityOptions so;
  so.kind = SensitivityKind::Hessian;
  so.formats = {*Format::parse("q4_0"), *Format::parse("q8_0")};
  auto sens = measure_sensitivity(w_, windows_, 16, so);
  ASSERT_TRUE(sens) << sens.error().message;
  EXPECT_TRUE(w_.blocks[1].down.w.isApprox(original_.blocks[1].down.w, 0.0f));  // unchanged
  size_t linears = 0;
  for (const LinearRef& r : block_linears(w_)) {
    ++linears;
    ASSERT_TRUE(sens->values.count(r.tensor)) << r.tensor;
    const auto& by = sens->values.at(r.tensor);
    EXPECT_GT(by.at("q4_0").kld, by.at("q8_0").kld) << r.tensor;  // coarser grid, larger output error
    EXPECT_TRUE(std::isnan(by.at("q4_0").dnll));
  }
  EXPECT_EQ(sens->values.size(), linears);  // no embeddings or head
  PlanOptions po;
  po.formats = so.formats;
  // Between all-q4_0 and all-q8_0 linears (the f32 embeddings stay as they are).
  auto s4 = gguf_file_size(model_, w_, Layout::uniform(w_, so.formats[0], QuantMethod::Rtn, false).tensors);
  auto s8 = gguf_file_size(model_, w_, Layout::uniform(w_, so.formats[1], QuantMethod::Rtn, false).tensors);
  ASSERT_TRUE(s4 && s8);
  po.budget_bytes = (*s4 + *s8) / 2;
  auto plan = plan_layout(model_, w_, *sens, po);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_LE(plan->file_bytes, plan->budget_bytes);
  EXPECT_TRUE(std::isnan(plan->predicted_ppl(sens->nll_ref)));
  EXPECT_FALSE(plan->warnings.empty());
  ASSERT_TRUE(plan->layout.validate(w_));
}

// A plan cancelled half-way keeps what it measured in the cache file; run again, it measures only the
// rest and the table is the uninterrupted one.
TEST_F(LlamaGqaPlan, ACancelledPlanResumesFromItsCache) {
  SensitivityOptions so;
  so.formats = {*Format::parse("q4_0"), *Format::parse("q8_0")};
  so.cache = std::filesystem::temp_directory_path() / ("lowbit_planner_resume_" + std::to_string(::getpid()) + ".json");
  std::filesystem::remove(so.cache);
  auto whole = measure_sensitivity(w_, windows_, 16, so);
  ASSERT_TRUE(whole) << whole.error().message;
  std::filesystem::remove(so.cache);

  CancelToken cancel;
  Progress stop([&cancel](const ProgressUpdate& u) {
    if (u.fraction >= 0.5) cancel.cancel();
  });
  auto cut = measure_sensitivity(w_, windows_, 16, so, &stop, &cancel);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, ErrorCode::Cancelled);
  ASSERT_TRUE(std::filesystem::exists(so.cache)) << "nothing measured was kept";
  EXPECT_TRUE(w_.blocks[0].q.w.isApprox(original_.blocks[0].q.w, 0.0f));

  auto resumed = measure_sensitivity(w_, windows_, 16, so);
  ASSERT_TRUE(resumed) << resumed.error().message;
  EXPECT_GT(resumed->cached, 0);
  EXPECT_GT(resumed->measured, 0);
  EXPECT_EQ(resumed->cached + resumed->measured, whole->measured);
  ASSERT_EQ(resumed->values.size(), whole->values.size());
  for (const auto& [t, by] : whole->values)
    for (const auto& [f, v] : by) {
      EXPECT_EQ(resumed->values.at(t).at(f).kld, v.kld) << t << " " << f;
      EXPECT_EQ(resumed->values.at(t).at(f).dnll, v.dnll) << t << " " << f;
    }
  std::filesystem::remove(so.cache);
}

// The Hessian kind streams: blocks loaded one at a time from the checkpoint give the resident table.
TEST_F(LlamaGqaPlan, HessianSensitivityStreamedIsTheResidentOne) {
  SensitivityOptions so;
  so.kind = SensitivityKind::Hessian;
  so.formats = {*Format::parse("q4_0"), *Format::parse("q8_0")};
  auto resident = measure_sensitivity(w_, windows_, 16, so);
  ASSERT_TRUE(resident) << resident.error().message;
  auto skeleton = load_model(*model_.checkpoint, model_.config, nullptr, false);
  ASSERT_TRUE(skeleton);
  BlockStream stream = stream_blocks(*model_.checkpoint, *skeleton, nullptr);
  int64_t max_loaded = 0;
  so.hooks.before = stream.load;
  so.hooks.after = [&](int64_t b) -> Expected<void> {
    int64_t loaded = 0;
    for (int64_t i = 0; i < static_cast<int64_t>(skeleton->blocks.size()); ++i) loaded += block_loaded(*skeleton, i);
    max_loaded = std::max(max_loaded, loaded);
    EncodedTensors none;
    return stream.done(b, none);
  };
  auto streamed = measure_sensitivity(*skeleton, windows_, 16, so);
  ASSERT_TRUE(streamed) << streamed.error().message;
  EXPECT_EQ(max_loaded, 1);
  ASSERT_EQ(streamed->values.size(), resident->values.size());
  for (const auto& [t, by] : resident->values)
    for (const auto& [f, v] : by) EXPECT_EQ(streamed->values.at(t).at(f).kld, v.kld) << t << " " << f;
  // The KLD kind reruns later blocks per candidate: it refuses to stream, plainly.
  so.kind = SensitivityKind::Kld;
  auto kld = measure_sensitivity(*skeleton, windows_, 16, so);
  ASSERT_FALSE(kld);
  EXPECT_EQ(kld.error().code, ErrorCode::Unsupported);
}

TEST(Layout, BadFilesAndMismatchesAreErrorsNamingTheTensor) {
  EXPECT_FALSE(Layout::from_json(nlohmann::json::parse(R"({"format":"x"})"), "l.json"));
  EXPECT_FALSE(Layout::from_json(nlohmann::json::parse(R"({"format":"lowbit-layout","version":2,"tensors":{}})"), "l.json"));
  auto bad_fmt = Layout::from_json(nlohmann::json::parse(R"({"format":"lowbit-layout","version":1,"tensors":{"a":"q9_9"}})"), "l.json");
  ASSERT_FALSE(bad_fmt);
  EXPECT_NE(bad_fmt.error().message.find("q9_9"), std::string::npos);
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa/config.json");
  auto model = open_model(test::shared_dir() / "models/hf-fixtures/llama-gqa", false);
  ASSERT_TRUE(model);
  auto w = load_model(*model->checkpoint, model->config);
  ASSERT_TRUE(w);
  Layout l = Layout::uniform(*w, *Format::parse("q8_0"), QuantMethod::Rtn, false);
  ASSERT_TRUE(l.validate(*w));
  l.tensors["model.layers.99.mlp.up_proj.weight"] = *Format::parse("q8_0");
  auto v = l.validate(*w);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("layers.99"), std::string::npos);
  l = Layout::uniform(*w, *Format::parse("q8_0"), QuantMethod::Rtn, false);
  const std::string missing = l.tensors.begin()->first;
  l.tensors.erase(l.tensors.begin());
  v = l.validate(*w);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find(missing), std::string::npos);
}

}  // namespace
}  // namespace lowbit
