// `lowbit info` end to end: reads headers only (a multi-GB checkpoint stays under 100 MB of resident
// memory) and reports what the checkpoint is.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_support.h"

namespace lowbit::test {
namespace {

// Writes a Llama-shaped safetensors checkpoint of `layers` blocks whose data area is a hole in a
// sparse file: gigabytes on paper, nothing on disk, and nothing to read unless a reader touches it.
void write_sparse_llama(const std::filesystem::path& dir, int layers, int hidden, int ffn, int vocab) {
  nlohmann::json h = nlohmann::json::object();
  uint64_t off = 0;
  auto add = [&](const std::string& name, std::vector<int64_t> shape) {
    uint64_t n = 2;
    for (auto d : shape) n *= static_cast<uint64_t>(d);
    h[name] = {{"dtype", "BF16"}, {"shape", shape}, {"data_offsets", {off, off + n}}};
    off += n;
  };
  add("model.embed_tokens.weight", {vocab, hidden});
  for (int i = 0; i < layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) add(p + "self_attn." + n + ".weight", {hidden, hidden});
    add(p + "mlp.gate_proj.weight", {ffn, hidden});
    add(p + "mlp.up_proj.weight", {ffn, hidden});
    add(p + "mlp.down_proj.weight", {hidden, ffn});
    add(p + "input_layernorm.weight", {hidden});
    add(p + "post_attention_layernorm.weight", {hidden});
  }
  add("model.norm.weight", {hidden});
  add("lm_head.weight", {vocab, hidden});
  std::string header = h.dump();
  header.resize((header.size() + 7) / 8 * 8, ' ');
  std::string prefix(8, '\0');
  for (int i = 0; i < 8; ++i) prefix[static_cast<size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  write_file(dir / "model.safetensors", prefix + header);
  std::filesystem::resize_file(dir / "model.safetensors", 8 + header.size() + off);
  const nlohmann::json cfg = {{"model_type", "llama"}, {"hidden_size", hidden}, {"num_hidden_layers", layers},
                              {"num_attention_heads", hidden / 128}, {"num_key_value_heads", hidden / 128},
                              {"intermediate_size", ffn}, {"vocab_size", vocab}, {"rms_norm_eps", 1e-5},
                              {"max_position_embeddings", 4096}, {"tie_word_embeddings", false}};
  write_file(dir / "config.json", cfg.dump());
}

TEST(CliInfo, MultiGigabyteCheckpointReadsHeadersOnly) {
  const auto dir = fresh_temp_dir("sparse7b");
  write_sparse_llama(dir, 32, 4096, 11008, 32000);  // Llama-7B shapes: 13.5 GB of bf16
  auto r = run_lowbit({"info", dir.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["config"]["layers"], 32);
  EXPECT_GT(j["file_bytes"].get<uint64_t>(), 13'000'000'000ull);
  EXPECT_EQ(j["parameters"].get<uint64_t>(), 6'738'415'616ull);
  EXPECT_LT(r.max_child_rss_mb, 100.0) << "lowbit info used " << r.max_child_rss_mb << " MB";
  std::filesystem::remove_all(dir);
}

TEST(CliInfo, SharedModels) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  auto r = run_lowbit({"info", (shared_dir() / "models/kjv-llama-8m").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["config"]["architecture"], "llama");
  EXPECT_EQ(j["config"]["kv_heads"], 2);
  EXPECT_EQ(j["tensor_count"], 75);
  r = run_lowbit({"info", (shared_dir() / "models/stories260K/stories260K-q4_0-pure.gguf").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["format"], "gguf");
  EXPECT_EQ(j["config"]["layers"], 5);
  EXPECT_EQ(j["config"]["vocab"], 512);
}

}  // namespace
}  // namespace lowbit::test
