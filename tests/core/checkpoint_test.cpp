// Checkpoint::open on every kind of input: the sharded kjv-llama-8m folder and a GGUF of ../shared,
// folders and files built in memory, and damaged checkpoints — a truncated second shard, an index
// naming a missing tensor or shard, a folder without config.json, an unknown file extension —
// each of which must give an error naming the file and the problem.
#include "core/io/checkpoint.h"

#include <gtest/gtest.h>

#include "damaged_files.h"
#include "test_support.h"

namespace lowbit {
namespace {

using nlohmann::json;
using test::Bytes;
using test::expect_failure;
using test::SafetensorsBuilder;
using test::TempDir;

const std::string kKjv = "models/kjv-llama-8m";

SafetensorsBuilder one_tensor(const std::string& name, float value) {
  SafetensorsBuilder s;
  s.add_f32(name, {2}, {value, -value});
  return s;
}

// A two-shard folder built in memory: a.weight in shard 1, b.weight in shard 2.
void write_small_folder(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  test::write_file(dir / "config.json", std::string(R"({"model_type": "llama", "hidden_size": 2})"));
  test::write_file(dir / "s1.safetensors", one_tensor("a.weight", 1).build());
  test::write_file(dir / "s2.safetensors", one_tensor("b.weight", 2).build());
  const json index = {{"weight_map", {{"a.weight", "s1.safetensors"}, {"b.weight", "s2.safetensors"}}}};
  test::write_file(dir / "model.safetensors.index.json", index.dump());
}

void rewrite_index(const std::filesystem::path& dir, const std::function<void(json&)>& edit) {
  const Bytes b = test::read_file(dir / "model.safetensors.index.json");
  json j = json::parse(std::string(b.begin(), b.end()));
  edit(j);
  test::write_file(dir / "model.safetensors.index.json", j.dump(2));
}

TEST(CheckpointShared, KjvFolder) {
  LOWBIT_REQUIRE_SHARED(kKjv + "/model.safetensors.index.json");
  auto ck = Checkpoint::open(test::shared_dir() / kKjv);
  ASSERT_TRUE(ck) << ck.error().message;
  const Checkpoint& c = **ck;
  EXPECT_EQ(c.kind(), Checkpoint::Kind::HfFolder);
  EXPECT_STREQ(c.kind_name(), "huggingface");
  EXPECT_EQ(c.tensors().size(), 75u);
  EXPECT_EQ(c.parameter_count(), 8392960u);  // the index's metadata.total_parameters
  EXPECT_EQ(c.config().value("hidden_size", 0), 256);
  EXPECT_EQ(c.tokenizer_json().filename(), "tokenizer.json");
  EXPECT_EQ(c.file_bytes(), 9971568u + 6822440u);
  EXPECT_EQ(c.gguf(), nullptr);
  const TensorInfo* t = c.find("model.layers.7.mlp.down_proj.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->shape, (std::vector<int64_t>{256, 768}));
  auto w = c.read_f32("model.layers.7.mlp.down_proj.weight");
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->size(), 256u * 768u);
  auto missing = c.read_f32("model.layers.8.mlp.down_proj.weight");
  expect_failure(missing, "kjv-llama-8m", "has no tensor 'model.layers.8.mlp.down_proj.weight'");
}

TEST(CheckpointShared, GgufFile) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m-gguf/kjv-llama-8m-q8_0-pure.gguf");
  auto ck = Checkpoint::open(test::shared_dir() / "models/kjv-llama-8m-gguf/kjv-llama-8m-q8_0-pure.gguf");
  ASSERT_TRUE(ck) << ck.error().message;
  EXPECT_EQ((*ck)->kind(), Checkpoint::Kind::Gguf);
  EXPECT_EQ((*ck)->tensors().size(), 75u);
  EXPECT_EQ((*ck)->parameter_count(), 8392960u);
  EXPECT_EQ((*ck)->file_bytes(), 9067488u);
  ASSERT_NE((*ck)->gguf(), nullptr);
  EXPECT_EQ((*ck)->gguf()->get_int("llama.block_count"), 8);
}

// The acceptance case: a sharded folder whose second shard is cut short.
TEST(CheckpointDamaged, TruncatedSecondShard) {
  LOWBIT_REQUIRE_SHARED(kKjv + "/model.safetensors.index.json");
  TempDir dir;
  test::copy_folder(test::shared_dir() / kKjv, dir / "kjv");
  const auto shard = dir / "kjv" / "model-00002-of-00002.safetensors";
  const Bytes b = test::read_file(shard);
  test::write_file(shard, Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(b.size() * 3 / 4)));
  expect_failure(Checkpoint::open(dir / "kjv"), "model-00002-of-00002.safetensors", "(file truncated?)");
  test::write_file(shard, Bytes(b.begin(), b.begin() + 4));
  expect_failure(Checkpoint::open(dir / "kjv"), "model-00002-of-00002.safetensors", "shorter than the 8-byte header");
}

TEST(CheckpointDamaged, IndexNamesMissingTensorOrShard) {
  LOWBIT_REQUIRE_SHARED(kKjv + "/model.safetensors.index.json");
  TempDir dir;
  test::copy_folder(test::shared_dir() / kKjv, dir / "kjv");
  rewrite_index(dir / "kjv", [](json& j) { j["weight_map"]["model.layers.8.mlp.up_proj.weight"] = "model-00002-of-00002.safetensors"; });
  expect_failure(Checkpoint::open(dir / "kjv"), "model.safetensors.index.json",
                 "tensor 'model.layers.8.mlp.up_proj.weight' is listed but not found in model-00002-of-00002.safetensors");
  rewrite_index(dir / "kjv", [](json& j) {
    j["weight_map"].erase("model.layers.8.mlp.up_proj.weight");
    j["weight_map"]["lm_head.weight"] = "model-00003-of-00003.safetensors";
  });
  expect_failure(Checkpoint::open(dir / "kjv"), "model.safetensors.index.json",
                 "names shard 'model-00003-of-00003.safetensors', which is missing");
}

TEST(CheckpointDamaged, FolderWithoutConfig) {
  TempDir dir;
  write_small_folder(dir / "m");
  ASSERT_TRUE(Checkpoint::open(dir / "m"));
  std::filesystem::remove(dir / "m" / "config.json");
  expect_failure(Checkpoint::open(dir / "m"), "m", "folder has no config.json");
  test::write_file(dir / "m" / "config.json", std::string("{\"model_type\": "));
  expect_failure(Checkpoint::open(dir / "m"), "config.json", "not well-formed JSON");
  test::write_file(dir / "m" / "config.json", std::string("[]"));
  expect_failure(Checkpoint::open(dir / "m"), "config.json", "not a JSON object");
}

TEST(CheckpointDamaged, UnknownExtensionAndMissingPath) {
  TempDir dir;
  test::write_file(dir / "model.bin", test::small_gguf().build());  // even a GGUF inside
  auto r = Checkpoint::open(dir / "model.bin");
  expect_failure(r, "model.bin", "not a checkpoint folder, .safetensors or .gguf file");
  EXPECT_EQ(r.error().code, ErrorCode::Unsupported);
  auto m = Checkpoint::open(dir / "nothing-here.gguf");
  expect_failure(m, "nothing-here.gguf", "no such file or folder");
  EXPECT_EQ(m.error().code, ErrorCode::Io);
}

TEST(CheckpointBuilt, ShardedFolder) {
  TempDir dir;
  write_small_folder(dir / "m");
  auto ck = Checkpoint::open(dir / "m");
  ASSERT_TRUE(ck) << ck.error().message;
  EXPECT_EQ((*ck)->tensors().size(), 2u);
  EXPECT_EQ(*(*ck)->read_f32("b.weight"), (std::vector<float>{2, -2}));
  EXPECT_TRUE((*ck)->tokenizer_json().empty());
}

TEST(CheckpointBuilt, SingleFileAndFolderWithOneFile) {
  TempDir dir;
  std::filesystem::create_directories(dir / "one");
  test::write_file(dir / "one" / "model.safetensors", one_tensor("w", 3).build());
  auto file = Checkpoint::open(dir / "one" / "model.safetensors");
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ((*file)->kind(), Checkpoint::Kind::Safetensors);
  EXPECT_TRUE((*file)->config().is_null());
  expect_failure(Checkpoint::open(dir / "one"), "one", "folder has no config.json");
  test::write_file(dir / "one" / "config.json", std::string("{}"));
  auto folder = Checkpoint::open(dir / "one");
  ASSERT_TRUE(folder) << folder.error().message;
  EXPECT_EQ((*folder)->kind(), Checkpoint::Kind::HfFolder);
  test::write_file(dir / "one" / "config.json", std::string("\"text\""));
  expect_failure(Checkpoint::open(dir / "one" / "model.safetensors"), "config.json", "not a JSON object");
  std::filesystem::remove(dir / "one" / "model.safetensors");
  test::write_file(dir / "one" / "config.json", std::string("{}"));
  expect_failure(Checkpoint::open(dir / "one"), "one", "neither model.safetensors nor model.safetensors.index.json");
}

TEST(CheckpointBuilt, BadIndexes) {
  TempDir dir;
  write_small_folder(dir / "m");
  const auto index = dir / "m" / "model.safetensors.index.json";
  struct Case {
    std::string text;
    std::string phrase;
  };
  for (const Case& c : {Case{"{}", "no 'weight_map' object"}, Case{"[1]", "no 'weight_map' object"},
                        Case{R"({"weight_map": []})", "no 'weight_map' object"},
                        Case{R"({"weight_map": {}})", "'weight_map' lists no tensors"},
                        Case{R"({"weight_map": {"a.weight": 3}})", "weight_map entry 'a.weight' is not a file name"},
                        Case{R"({"weight_map": {"a.weight": "../s1.safetensors"}})", "which is not a file in the folder"},
                        Case{R"({"weight_map": {"a.weight": "s1.safetensors",)", "not well-formed JSON"}}) {
    SCOPED_TRACE(c.text);
    test::write_file(index, c.text);
    expect_failure(Checkpoint::open(dir / "m"), "model.safetensors.index.json", c.phrase);
  }
  // One tensor in two shards.
  test::write_file(dir / "m" / "s2.safetensors", one_tensor("a.weight", 2).build());
  test::write_file(index, json{{"weight_map", {{"a.weight", "s1.safetensors"}, {"b.weight", "s2.safetensors"}}}}.dump());
  expect_failure(Checkpoint::open(dir / "m"), "s2.safetensors", "tensor 'a.weight' appears in more than one file");
}

TEST(CheckpointDamaged, DamagedGgufAndSafetensorsFiles) {
  TempDir dir;
  Bytes g = test::small_gguf().build();
  g.resize(g.size() - 10);
  test::write_file(dir / "cut.gguf", g);
  expect_failure(Checkpoint::open(dir / "cut.gguf"), "cut.gguf", "runs past the end of the file");
  Bytes s = one_tensor("w", 1).build();
  s.resize(s.size() - 1);
  test::write_file(dir / "cut.safetensors", s);
  expect_failure(Checkpoint::open(dir / "cut.safetensors"), "cut.safetensors", "(file truncated?)");
}

}  // namespace
}  // namespace lowbit
