// The damaged-file corpus of tests/data/damaged (manifest.json, written by make_corpus.py there):
// each file, opened with the parser its entry names, must fail with the entry's ErrorCode and a
// message that names the file and contains the entry's phrase — never crash (this test also runs
// in the ASan + UBSan build). Also: every corpus file is listed and small, and the seed corpora of
// the fuzz targets (tests/fuzz/corpus) are valid inputs, so the fuzzers start from files that parse.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <ostream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/io/checkpoint.h"
#include "core/io/gguf.h"
#include "core/io/mapped_file.h"
#include "core/io/project_file.h"
#include "core/io/safetensors.h"
#include "core/model/config.h"
#include "core/plan/layout.h"
#include "core/tokenizer/tokenizer.h"
#include "test_support.h"

namespace lowbit {
namespace {

namespace fs = std::filesystem;

fs::path corpus_dir() { return test::source_dir() / "tests/data/damaged"; }
fs::path seeds_dir() { return test::source_dir() / "tests/fuzz/corpus"; }

struct Case {
  std::string file, parser, code, message;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.file << " (" << c.parser << ")"; }

std::vector<Case> load_cases() {
  std::vector<Case> cases;
  auto text = read_text_file(corpus_dir() / "manifest.json");
  if (!text) return cases;
  const auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("cases") || !j["cases"].is_array()) return cases;
  for (const auto& c : j["cases"])
    cases.push_back({c.value("file", ""), c.value("parser", ""), c.value("code", ""), c.value("message", "")});
  return cases;
}

const std::map<std::string, ErrorCode>& codes() {
  static const std::map<std::string, ErrorCode> m = {{"Io", ErrorCode::Io}, {"Format", ErrorCode::Format},
                                                     {"Unsupported", ErrorCode::Unsupported},
                                                     {"InvalidArgument", ErrorCode::InvalidArgument},
                                                     {"OutOfMemory", ErrorCode::OutOfMemory}};
  return m;
}

template <class T>
std::optional<Error> error_of(const Expected<T>& r) {
  if (r) return std::nullopt;
  return r.error();
}

// The error `parser` gives for `path`; nullopt (and a test failure) when it accepts the file, or
// when the step before the one under test fails.
std::optional<Error> open_with(const std::string& parser, const fs::path& path) {
  if (parser == "safetensors") return error_of(SafetensorsFile::open(path));
  if (parser == "gguf") return error_of(GgufFile::open(path));
  if (parser == "gguf-tokenizer") {
    const auto g = GgufFile::open(path);
    if (!g) {
      ADD_FAILURE() << "the GGUF must open for its tokenizer to be tested: " << g.error().message;
      return std::nullopt;
    }
    return error_of(Tokenizer::from_gguf(**g));
  }
  if (parser == "gguf-config") {
    const auto ck = Checkpoint::open(path);
    if (!ck) {
      ADD_FAILURE() << "the GGUF must open for its config to be tested: " << ck.error().message;
      return std::nullopt;
    }
    return error_of(read_model_config(**ck));
  }
  if (parser == "tokenizer") return error_of(Tokenizer::from_json_file(path));
  if (parser == "layout") return error_of(read_layout(path));
  ADD_FAILURE() << "manifest names an unknown parser '" << parser << "'";
  return std::nullopt;
}

class DamagedFile : public ::testing::TestWithParam<Case> {};

TEST_P(DamagedFile, GivesTheExpectedError) {
  const Case& c = GetParam();
  const fs::path path = corpus_dir() / c.file;
  ASSERT_TRUE(fs::is_regular_file(path)) << path << " is listed in manifest.json but missing";
  ASSERT_TRUE(codes().count(c.code)) << "unknown error code '" << c.code << "' in manifest.json";
  const auto error = open_with(c.parser, path);
  ASSERT_TRUE(error.has_value()) << c.parser << " accepted " << c.file << "; expected: " << c.message;
  EXPECT_EQ(to_string(error->code), std::string(to_string(codes().at(c.code)))) << error->message;
  EXPECT_NE(error->message.find(path.string()), std::string::npos) << "the message does not name the file: " << error->message;
  EXPECT_NE(error->message.find(c.message), std::string::npos) << "the message lacks '" << c.message << "': " << error->message;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string s = info.param.file;
  for (char& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Corpus, DamagedFile, ::testing::ValuesIn(load_cases()), case_name);

TEST(DamagedCorpus, ManifestListsEverySmallFile) {
  const auto cases = load_cases();
  ASSERT_GE(cases.size(), 60u) << "tests/data/damaged/manifest.json is missing or damaged";
  std::set<std::string> listed;
  for (const auto& c : cases) EXPECT_TRUE(listed.insert(c.file).second) << c.file << " is listed twice";
  for (const auto& e : fs::recursive_directory_iterator(corpus_dir())) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), corpus_dir()).generic_string();
    if (rel == "manifest.json" || rel == "make_corpus.py") continue;
    EXPECT_TRUE(listed.count(rel)) << rel << " is in the corpus but not in manifest.json";
    EXPECT_LE(e.file_size(), 1024u) << rel << ": corpus files stay small";
  }
}

std::vector<fs::path> seeds(const std::string& target) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(seeds_dir() / target, ec))
    if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FuzzSeeds, SafetensorsSeedsOpen) {
  const auto files = seeds("safetensors");
  ASSERT_FALSE(files.empty()) << seeds_dir() / "safetensors" << " has no seeds";
  for (const auto& p : files) {
    const auto f = SafetensorsFile::open(p);
    EXPECT_TRUE(f) << (f ? "" : f.error().message);
  }
}

TEST(FuzzSeeds, GgufSeedsOpenWithTheirTokenizers) {
  const auto files = seeds("gguf");
  ASSERT_FALSE(files.empty()) << seeds_dir() / "gguf" << " has no seeds";
  for (const auto& p : files) {
    const auto ck = Checkpoint::open(p);
    ASSERT_TRUE(ck) << ck.error().message;
    for (const auto& t : (*ck)->tensors()) EXPECT_TRUE((*ck)->read_f32(t.name)) << p << ": " << t.name;
    if (!(*ck)->gguf()->get_string("tokenizer.ggml.model")) continue;
    const auto config = read_model_config(**ck);
    EXPECT_TRUE(config) << (config ? "" : config.error().message);
    const auto tok = Tokenizer::from_gguf(*(*ck)->gguf());
    ASSERT_TRUE(tok) << tok.error().message;
    const auto ids = (*tok)->encode("Hello, world!\n", true);
    EXPECT_TRUE(ids && !ids->empty()) << p;
  }
}

TEST(FuzzSeeds, TokenizerSeedsLoadAndEncode) {
  const auto files = seeds("tokenizer");
  ASSERT_FALSE(files.empty()) << seeds_dir() / "tokenizer" << " has no seeds";
  for (const auto& p : files) {
    const auto tok = Tokenizer::from_json_file(p);
    ASSERT_TRUE(tok) << tok.error().message;
    const auto ids = (*tok)->encode("Hello world 12", false);
    EXPECT_TRUE(ids) << p << ": " << (ids ? "" : ids.error().message);
  }
}

TEST(FuzzSeeds, LayoutSeedsRead) {
  const auto files = seeds("layout");
  ASSERT_FALSE(files.empty()) << seeds_dir() / "layout" << " has no seeds";
  for (const auto& p : files) {
    const auto l = read_layout(p);
    EXPECT_TRUE(l) << (l ? "" : l.error().message);
  }
}

TEST(FuzzSeeds, ProjectSeedsRead) {
  const auto files = seeds("project");
  ASSERT_FALSE(files.empty()) << seeds_dir() / "project" << " has no seeds";
  for (const auto& p : files) {
    const auto project = read_project(p);
    EXPECT_TRUE(project) << (project ? "" : project.error().message);
  }
}

}  // namespace
}  // namespace lowbit
