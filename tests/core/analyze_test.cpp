// Calibration analysis: the statistics collect_block_stats hands out for block b are those of the
// inputs of block b's linear layers after blocks < b (checked against an independent pass), the
// saved folder reads back exactly, a cancelled run leaves no files, and damaged folders are errors
// that name the file.
#include "core/calib/analyze.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>

#include "core/io/checkpoint.h"
#include "core/model/config.h"
#include "test_support.h"

namespace lowbit {
namespace {

constexpr int64_t kCtx = 16, kWindows = 5;

ModelWeights load_fixture() {
  auto ck = Checkpoint::open(test::shared_dir() / "models/hf-fixtures/llama-gqa");
  EXPECT_TRUE(ck.has_value()) << ck.error().message;
  auto cfg = read_model_config(**ck);
  EXPECT_TRUE(cfg.has_value()) << cfg.error().message;
  auto w = load_model(**ck, *cfg);
  EXPECT_TRUE(w.has_value()) << w.error().message;
  return std::move(*w);
}

std::vector<int32_t> random_windows(int64_t vocab) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> d(0, static_cast<int32_t>(vocab - 1));
  std::vector<int32_t> t(kWindows * kCtx);
  for (auto& v : t) v = d(rng);
  return t;
}

// The statistics of block b's inputs computed the plain way: all windows in one batch through blocks < b.
BlockStats direct_stats(const ModelWeights& m, const std::vector<int32_t>& tokens, int64_t b) {
  MatrixRM x;
  EXPECT_TRUE(embed_windows(m, tokens, kWindows, kCtx, x).has_value());
  for (int64_t i = 0; i < b; ++i) block_forward(m.config, m.blocks[static_cast<size_t>(i)], x, kWindows, kCtx);
  BlockStats s;
  for (LinearInput i : kLinearInputs) s.emplace(i, InputStats(linear_input_channels(m.config, i)));
  block_forward(m.config, m.blocks[static_cast<size_t>(b)], x, kWindows, kCtx,
                [&](LinearInput which, const MatrixRM& in) { s.at(which).add(in); });
  return s;
}

double rel_diff(const float* a, const float* b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) num = std::max(num, std::abs(double(a[i]) - b[i])), den = std::max(den, std::abs(double(b[i])));
  return den > 0 ? num / den : num;
}

std::filesystem::path temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("lowbit_analyze_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(d);
  return d;
}

TEST(Analyze, BlockStatisticsMatchAnIndependentPass) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  ModelWeights m = load_fixture();
  const auto tokens = random_windows(m.config.vocab);
  int64_t seen = 0;
  auto r = collect_block_stats(m, tokens, kCtx, [&](int64_t b, BlockStats& stats) -> Expected<void> {
    EXPECT_EQ(b, seen++);
    const BlockStats want = direct_stats(m, tokens, b);
    for (LinearInput i : kLinearInputs) {
      const MatrixRM h = stats.at(i).hessian(), hw = want.at(i).hessian();
      EXPECT_EQ(stats.at(i).tokens(), kWindows * kCtx);
      EXPECT_LT(rel_diff(h.data(), hw.data(), static_cast<size_t>(h.size())), 1e-5) << "block " << b << " " << linear_input_name(i);
      const VectorF ma = stats.at(i).mean_abs(), mw = want.at(i).mean_abs();
      EXPECT_LT(rel_diff(ma.data(), mw.data(), static_cast<size_t>(ma.size())), 1e-5);
      EXPECT_LT(rel_diff(stats.at(i).max_abs().data(), want.at(i).max_abs().data(), static_cast<size_t>(ma.size())), 1e-5);
    }
    return {};
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(seen, m.config.n_layers);
}

// A walker factory that answers Unsupported leaves the walk on the CPU, with the reason in the note
// and "cpu" as the walker used; any other error fails the walk.
TEST(Analyze, AWalkerTheModelCannotUseFallsBackToTheCpu) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  ModelWeights m = load_fixture();
  const auto tokens = random_windows(m.config.vocab);
  std::string note, used;
  BlockHooks hooks;
  hooks.walker = [](const ModelConfig&) -> Expected<std::unique_ptr<BlockWalker>> {
    return make_error(ErrorCode::Unsupported, "no such device here");
  };
  hooks.walker_note = &note;
  hooks.walker_used = &used;
  int64_t blocks = 0;
  auto count = [&](int64_t, BlockStats& stats) -> Expected<void> {
    EXPECT_EQ(stats.at(LinearInput::kDown).tokens(), kWindows * kCtx);
    ++blocks;
    return {};
  };
  ASSERT_TRUE(collect_block_stats(m, tokens, kCtx, count, nullptr, nullptr, hooks));
  EXPECT_EQ(blocks, m.config.n_layers);
  EXPECT_EQ(note, "no such device here");
  EXPECT_EQ(used, "cpu");
  hooks.walker = [](const ModelConfig&) -> Expected<std::unique_ptr<BlockWalker>> {
    return make_error(ErrorCode::OutOfMemory, "out of device memory");
  };
  auto failed = collect_block_stats(m, tokens, kCtx, count, nullptr, nullptr, hooks);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::OutOfMemory);
}

TEST(Analyze, SavedFolderReadsBackExactly) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  ModelWeights m = load_fixture();
  const ModelWeights original = m;
  const auto tokens = random_windows(m.config.vocab);
  const auto dir = temp_dir("ok");
  AnalyzeInfo info{"llama-gqa", "random", {kWindows, kCtx, 0}};
  auto j = analyze_to_folder(m, tokens, info, dir);
  ASSERT_TRUE(j.has_value()) << j.error().message;
  EXPECT_EQ((*j)["tokens"], kWindows * kCtx);
  EXPECT_EQ((*j)["inputs"].size(), static_cast<size_t>(4 * m.config.n_layers));
  auto set = CalibrationSet::open(dir);
  ASSERT_TRUE(set.has_value()) << set.error().message;
  EXPECT_EQ(set->blocks(), m.config.n_layers);
  EXPECT_EQ(set->info()["architecture"], (*j)["architecture"]);
  for (int64_t b = 0; b < m.config.n_layers; ++b) {
    const BlockStats want = direct_stats(original, tokens, b);
    for (LinearInput i : kLinearInputs) {
      auto h = set->hessian(b, i);
      ASSERT_TRUE(h.has_value()) << h.error().message;
      const MatrixRM hw = want.at(i).hessian();
      ASSERT_EQ(h->size(), static_cast<size_t>(hw.size()));
      EXPECT_EQ(set->channels(b, i), hw.rows());
      EXPECT_LT(rel_diff(h->data(), hw.data(), h->size()), 1e-5);
      auto mx = set->max_abs(b, i);
      ASSERT_TRUE(mx.has_value());
      EXPECT_LT(rel_diff(mx->data(), want.at(i).max_abs().data(), mx->size()), 1e-5);
    }
  }
  // Analysis does not change the model.
  EXPECT_EQ(m.blocks[0].q.w, original.blocks[0].q.w);
  std::filesystem::remove_all(dir);
}

TEST(Analyze, CancelledRunLeavesNoFiles) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  ModelWeights m = load_fixture();
  const auto dir = temp_dir("cancel");
  CancelToken cancel;
  cancel.cancel();
  auto j = analyze_to_folder(m, random_windows(m.config.vocab), {"m", "t", {kWindows, kCtx, 0}}, dir, nullptr, &cancel);
  ASSERT_FALSE(j.has_value());
  EXPECT_EQ(j.error().code, ErrorCode::Cancelled);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A resumable analysis cancelled after its first block keeps its state and its unfinished statistics;
// resumed, it writes the statistics and summaries of an uninterrupted run, byte for byte.
TEST(Analyze, CancelledAndResumedWritesTheUninterruptedFolder) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  ModelWeights m = load_fixture();
  ASSERT_GE(m.config.n_layers, 2);
  const auto tokens = random_windows(m.config.vocab);
  const AnalyzeInfo info{"llama-gqa", "random", {kWindows, kCtx, 0}};
  const auto whole = temp_dir("whole"), resumed = temp_dir("resumed");
  AnalyzeResume r;
  r.dir = temp_dir("resumed.resume");
  r.run_id = "analyze resume test";
  auto a = analyze_to_folder(m, tokens, info, whole);
  ASSERT_TRUE(a.has_value()) << a.error().message;

  CancelToken cancel;
  Progress stop([&cancel](const ProgressUpdate& u) {
    if (u.fraction > 0) cancel.cancel();  // after the first block
  });
  auto cut = analyze_to_folder(m, tokens, info, resumed, &stop, &cancel, {}, r);
  ASSERT_FALSE(cut.has_value());
  EXPECT_EQ(cut.error().code, ErrorCode::Cancelled);
  EXPECT_TRUE(std::filesystem::exists(r.dir / "state.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(resumed / "stats.safetensors.partial")) << "the unfinished statistics were not kept";
  EXPECT_FALSE(std::filesystem::exists(resumed / "calibration.json"));

  r.resume = true;
  auto b = analyze_to_folder(m, tokens, info, resumed, nullptr, nullptr, {}, r);
  ASSERT_TRUE(b.has_value()) << b.error().message;
  EXPECT_EQ(slurp(whole / "stats.safetensors"), slurp(resumed / "stats.safetensors"));
  EXPECT_EQ((*a)["inputs"], (*b)["inputs"]);
  EXPECT_EQ((*a)["tokens"], (*b)["tokens"]);
  EXPECT_FALSE(std::filesystem::exists(resumed / "stats.safetensors.partial"));

  // Another run's folder (other windows) is refused.
  auto other = tokens;
  other[0] = (other[0] + 1) % static_cast<int32_t>(m.config.vocab);
  auto refused = analyze_to_folder(m, other, info, resumed, nullptr, nullptr, {}, r);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("belongs to another run"), std::string::npos) << refused.error().message;
  for (const auto& d : {whole, resumed, r.dir}) std::filesystem::remove_all(d);
}

TEST(Analyze, DamagedFoldersAreErrorsThatNameTheFile) {
  const auto dir = temp_dir("damaged");
  std::filesystem::create_directories(dir);
  auto s = CalibrationSet::open(dir);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("calibration.json"), std::string::npos) << s.error().message;
  std::ofstream(dir / "calibration.json") << "{ not json";
  s = CalibrationSet::open(dir);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("not valid JSON"), std::string::npos) << s.error().message;
  std::ofstream(dir / "calibration.json") << R"({"format": "lowbit-calibration", "version": 1, "blocks": 1})";
  s = CalibrationSet::open(dir);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("stats.safetensors"), std::string::npos) << s.error().message;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lowbit
