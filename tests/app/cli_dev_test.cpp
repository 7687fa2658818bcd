// `lowbit dev synth` end to end with the tiny preset: the checkpoint it writes opens (`lowbit
// info`), tokenizes and scores (`lowbit ppl`, close to the vocabulary size, as random weights of
// std 0.02 must give), is sharded with an index when asked, depends only on the seed, has the
// promised weight statistics (std 0.02, norms 1, heavy input channels with --outliers), and is not
// overwritten without --force.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "cli_support.h"
#include "core/io/checkpoint.h"

namespace lowbit::test {
namespace {

namespace fs = std::filesystem;

CliResult synth(const fs::path& dir, std::vector<std::string> extra) {
  std::vector<std::string> a = {"dev", "synth", dir.string(), "--preset", "tiny", "--json", "--threads", "2"};
  a.insert(a.end(), extra.begin(), extra.end());
  return run_lowbit(a);
}

// Standard deviations of the columns of a [rows, cols] tensor.
std::vector<double> column_std(const Checkpoint& ck, const std::string& name) {
  const TensorInfo* t = ck.find(name);
  EXPECT_NE(t, nullptr) << name;
  if (!t) return {};
  const auto v = ck.read_f32(name);
  EXPECT_TRUE(v) << name;
  const auto rows = static_cast<size_t>(t->rows()), cols = static_cast<size_t>(t->cols());
  std::vector<double> out(cols);
  for (size_t c = 0; c < cols; ++c) {
    double s = 0;
    for (size_t r = 0; r < rows; ++r) s += static_cast<double>((*v)[r * cols + c]) * (*v)[r * cols + c];
    out[c] = std::sqrt(s / static_cast<double>(rows));
  }
  return out;
}

TEST(CliDevSynth, TinyCheckpointOpensTokenizesAndScores) {
  const auto dir = fresh_temp_dir("synth_tiny");
  const auto model = dir / "model";
  auto r = synth(model, {"--seed", "7", "--shard-size", "1MB"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["parameters"].get<uint64_t>(), 1'705'216u);  // 2 · 1024·256 + 2 · 590,336 + 256
  EXPECT_EQ(out["shards"].size(), 4u);
  for (const char* f : {"config.json", "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json"})
    EXPECT_TRUE(fs::exists(model / f)) << f;
  for (const auto& e : fs::directory_iterator(model))
    EXPECT_EQ(e.path().extension() == ".partial", false) << e.path() << " is a leftover temporary file";

  r = run_lowbit({"info", model.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info["config"]["architecture"], "llama");
  EXPECT_EQ(info["config"]["hidden"], 256);
  EXPECT_EQ(info["config"]["layers"], 2);
  EXPECT_EQ(info["config"]["kv_heads"], 2);
  EXPECT_EQ(info["config"]["vocab"], 1024);
  EXPECT_EQ(info["parameters"].get<uint64_t>(), 1'705'216u);

  std::string text;
  for (int i = 0; i < 40; ++i) text += "In the beginning the quick brown fox jumps over the lazy dog, line " + std::to_string(i) + ".\n";
  write_file(dir / "text.txt", text);
  r = run_lowbit({"ppl", model.string(), "--text", (dir / "text.txt").string(), "--ctx", "64", "--max-windows", "1",
                  "--threads", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ppl = nlohmann::json::parse(r.out);
  EXPECT_EQ(ppl["windows"], 1);
  EXPECT_EQ(ppl["tokens_scored"], 63);
  // Logits of random weights with std 0.02 are nearly flat: perplexity near the vocabulary size.
  EXPECT_GT(ppl["ppl"].get<double>(), 1024 / 2.0);
  EXPECT_LT(ppl["ppl"].get<double>(), 1024 * 2.0);
  fs::remove_all(dir);
}

TEST(CliDevSynth, WeightsDependOnlyOnTheSeedAndHaveTheirStatistics) {
  const auto dir = fresh_temp_dir("synth_seed");
  ASSERT_EQ(synth(dir / "a", {"--seed", "3"}).exit_code, 0);
  ASSERT_EQ(synth(dir / "b", {"--seed", "3", "--shard-size", "600KB", "--threads", "1"}).exit_code, 0);
  ASSERT_EQ(synth(dir / "c", {"--seed", "4"}).exit_code, 0);
  ASSERT_EQ(synth(dir / "d", {"--seed", "3", "--outliers", "--layers", "1"}).exit_code, 0);
  const auto a = Checkpoint::open(dir / "a"), b = Checkpoint::open(dir / "b"), c = Checkpoint::open(dir / "c"),
             d = Checkpoint::open(dir / "d");
  ASSERT_TRUE(a && b && c && d);
  EXPECT_EQ((*a)->kind(), Checkpoint::Kind::HfFolder);
  const std::string q = "model.layers.0.self_attn.q_proj.weight";
  EXPECT_EQ(*(*a)->read_f32(q), *(*b)->read_f32(q)) << "same seed, other sharding and threads";
  EXPECT_NE(*(*a)->read_f32(q), *(*c)->read_f32(q)) << "another seed";
  EXPECT_EQ((*a)->find("model.layers.0.mlp.down_proj.weight")->dtype, DType::BF16);
  EXPECT_EQ((*d)->find("model.layers.1.input_layernorm.weight"), nullptr) << "--layers 1";

  const auto norm = (*a)->read_f32("model.layers.1.post_attention_layernorm.weight");
  ASSERT_TRUE(norm);
  for (float w : *norm) ASSERT_EQ(w, 1.0f);
  const auto gate = (*a)->read_f32("model.layers.1.mlp.gate_proj.weight");
  double s2 = 0, m = 0;
  for (float w : *gate) s2 += static_cast<double>(w) * w, m += w;
  const double n = static_cast<double>(gate->size());
  EXPECT_NEAR(std::sqrt(s2 / n), 0.02, 0.001);
  EXPECT_NEAR(m / n, 0.0, 0.001);

  // Without --outliers every column is alike; with it some input channels have 8× the deviation.
  auto spread = [&](const Checkpoint& ck) {
    auto s = column_std(ck, "model.layers.0.mlp.up_proj.weight");
    std::sort(s.begin(), s.end());
    return s.back() / s[s.size() / 2];
  };
  EXPECT_LT(spread(**a), 1.5);
  EXPECT_GT(spread(**d), 5.0);
  fs::remove_all(dir);
}

TEST(CliDevSynth, RefusesToOverwriteAndRejectsBadOptions) {
  const auto dir = fresh_temp_dir("synth_force");
  ASSERT_EQ(synth(dir, {}).exit_code, 0);
  auto r = synth(dir, {});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_EQ(synth(dir, {"--force", "--seed", "1"}).exit_code, 0);
  EXPECT_EQ(run_lowbit({"dev", "synth", dir.string(), "--preset", "llama-70b"}).exit_code, 2);
  EXPECT_EQ(run_lowbit({"dev", "synth", dir.string(), "--preset", "tiny", "--shard-size", "lots"}).exit_code, 2);
  EXPECT_EQ(run_lowbit({"dev", "synth", dir.string(), "--preset", "tiny", "--layers", "0"}).exit_code, 2);
  EXPECT_EQ(run_lowbit({"dev", "frobnicate"}).exit_code, 2);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lowbit::test
