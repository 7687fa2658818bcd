// `lowbit` on damaged or wrong input: exit 1 with a message naming the file and the problem, exit 2
// on usage errors, never a crash. Runs the real binary; also built under ASan + UBSan by scripts/test.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_support.h"

namespace lowbit::test {
namespace {

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::string safetensors(const std::string& header, const std::string& data) { return le64(header.size()) + header + data; }

void expect_failure_naming(const CliResult& r, const std::string& file, const std::string& phrase) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(file), std::string::npos) << "stderr does not name " << file << ": " << r.err;
  EXPECT_NE(r.err.find(phrase), std::string::npos) << "stderr lacks '" << phrase << "': " << r.err;
}

TEST(CliRobustness, UsageErrorsExit2) {
  EXPECT_EQ(run_lowbit({}).exit_code, 2);
  EXPECT_EQ(run_lowbit({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(run_lowbit({"info"}).exit_code, 2);
  EXPECT_EQ(run_lowbit({"ppl", "x", "--ctx"}).exit_code, 2);
  EXPECT_EQ(run_lowbit({"ppl", "x", "--text", "y", "--ctx", "abc"}).exit_code, 2);
  EXPECT_EQ(run_lowbit({"info", "x", "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(run_lowbit({"--help"}).exit_code, 0);
}

TEST(CliRobustness, MissingFile) {
  auto r = run_lowbit({"info", "/nonexistent/model.gguf"});
  expect_failure_naming(r, "/nonexistent/model.gguf", "no such file");
}

TEST(CliRobustness, HeaderLengthPastEnd) {
  const auto dir = fresh_temp_dir("hdrlen");
  write_file(dir / "bad.safetensors", le64(1 << 20) + "{}");
  expect_failure_naming(run_lowbit({"info", (dir / "bad.safetensors").string()}), "bad.safetensors", "past the end");
}

TEST(CliRobustness, UnknownDtype) {
  const auto dir = fresh_temp_dir("dtype");
  write_file(dir / "bad.safetensors",
             safetensors(R"({"w":{"dtype":"F12","shape":[2],"data_offsets":[0,4]}})", std::string(4, '\0')));
  expect_failure_naming(run_lowbit({"info", (dir / "bad.safetensors").string()}), "bad.safetensors", "unknown dtype 'F12'");
}

TEST(CliRobustness, OverlappingRanges) {
  const auto dir = fresh_temp_dir("overlap");
  write_file(dir / "bad.safetensors",
             safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                         std::string(12, '\0')));
  expect_failure_naming(run_lowbit({"info", (dir / "bad.safetensors").string()}), "bad.safetensors", "overlapping");
}

TEST(CliRobustness, BadGgufMagicAndVersion) {
  const auto dir = fresh_temp_dir("gguf");
  write_file(dir / "magic.gguf", "GGUX" + std::string(20, '\0'));
  auto r = run_lowbit({"info", (dir / "magic.gguf").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("magic.gguf"), std::string::npos) << r.err;
  std::string v9 = "GGUF";
  v9 += std::string("\x09\0\0\0", 4) + le64(0) + le64(0);
  write_file(dir / "version.gguf", v9);
  r = run_lowbit({"info", (dir / "version.gguf").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("version.gguf"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("version"), std::string::npos) << r.err;
}

TEST(CliRobustness, AbsurdGgufCounts) {
  const auto dir = fresh_temp_dir("gguf_counts");
  std::string f = "GGUF";
  f += std::string("\x03\0\0\0", 4) + le64(1ull << 60) + le64(1ull << 60);
  write_file(dir / "counts.gguf", f);
  auto r = run_lowbit({"info", (dir / "counts.gguf").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("counts.gguf"), std::string::npos) << r.err;
}

// A copy of a real sharded checkpoint with its second shard cut short.
TEST(CliRobustness, TruncatedShard) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  const auto src = shared_dir() / "models/kjv-llama-8m";
  const auto dir = fresh_temp_dir("shard");
  for (const auto& e : std::filesystem::directory_iterator(src)) std::filesystem::copy(e.path(), dir / e.path().filename());
  const auto shard = dir / "model-00002-of-00002.safetensors";
  std::filesystem::resize_file(shard, std::filesystem::file_size(shard) / 2);
  expect_failure_naming(run_lowbit({"info", dir.string()}), "model-00002-of-00002.safetensors", "truncated");
  std::filesystem::remove_all(dir);
}

TEST(CliRobustness, MalformedTokenizerJson) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  const auto dir = fresh_temp_dir("tok");
  for (const auto& e : std::filesystem::directory_iterator(shared_dir() / "models/hf-fixtures/llama-gqa"))
    std::filesystem::copy(e.path(), dir / e.path().filename());
  write_file(dir / "tokenizer.json", R"({"model": {"type": "BPE", "vocab": [1, 2)");
  write_file(dir / "text.txt", "hello");
  auto r = run_lowbit({"tokenize", dir.string(), "--text", (dir / "text.txt").string()});
  expect_failure_naming(r, "tokenizer.json", "JSON");
  std::filesystem::remove_all(dir);
}

TEST(CliRobustness, TextThatIsNotUtf8) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  const auto dir = fresh_temp_dir("utf8");
  write_file(dir / "latin1.txt", "caf\xe9 au lait");
  auto r = run_lowbit({"tokenize", (shared_dir() / "models/kjv-llama-8m").string(), "--text", (dir / "latin1.txt").string()});
  expect_failure_naming(r, "latin1.txt", "UTF-8");
}

TEST(CliRobustness, UnsupportedArchitectureIsNamed) {
  const auto dir = fresh_temp_dir("arch");
  write_file(dir / "config.json", R"({"model_type": "mamba", "hidden_size": 8})");
  write_file(dir / "model.safetensors", safetensors(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')));
  expect_failure_naming(run_lowbit({"info", dir.string()}), "config.json", "'mamba'");
}

TEST(CliRobustness, JsonErrorObject) {
  auto r = run_lowbit({"info", "/nonexistent.safetensors", "--json"});
  EXPECT_EQ(r.exit_code, 1);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["ok"], false);
  EXPECT_NE(j["error"].get<std::string>().find("/nonexistent.safetensors"), std::string::npos);
}

}  // namespace
}  // namespace lowbit::test
