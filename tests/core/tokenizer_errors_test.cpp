// Robustness of the tokenizers: malformed tokenizer.json files (not JSON, no model, an unknown
// model type, merges naming unknown tokens, wrong types anywhere) and malformed GGUF tokenizer
// metadata give an Error naming the file and the problem, never a crash; text that is not UTF-8
// gives an Error with the byte offset. Also small GGUF vocabularies whose llama.cpp ids are worked
// out by hand (SentencePiece merges by score with the leftmost-first tie rule, byte fallback,
// byte-level BPE by rank).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <functional>

#include "core/io/gguf.h"
#include "core/tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace lowbit {
namespace {

using nlohmann::json;

// A valid byte-level BPE tokenizer.json small enough to mutate field by field.
json small_tokenizer() {
  return json::parse(R"({
    "version": "1.0", "truncation": null, "padding": null,
    "added_tokens": [{"id": 5, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false,
                      "normalized": false, "special": true}],
    "normalizer": {"type": "NFC"},
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "MergedWithNext", "invert": false},
        {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
    "post_processor": {"type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [5], "tokens": ["<s>"]}}},
    "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
    "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
              "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
              "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 4},
              "merges": ["a b", "Ġ ab"]}
  })");
}

Error load_error(const std::string& text, const std::string& source = "bad.json") {
  auto tok = Tokenizer::from_json_text(text, source);
  EXPECT_FALSE(tok) << "loaded: " << text.substr(0, 200);
  return tok ? Error{} : tok.error();
}

TEST(TokenizerJsonErrors, TheSmallTokenizerIsValid) {
  auto tok = Tokenizer::from_json_text(small_tokenizer().dump(), "small.json");
  ASSERT_TRUE(tok) << tok.error().message;
  auto ids = (*tok)->encode("ab ab", true);
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<int32_t>{5, 2, 4}));
  EXPECT_EQ((*tok)->decode(*ids), "ab ab");
}

TEST(TokenizerJsonErrors, NotJson) {
  for (const std::string text : {"", "not json", "{\"model\": ", "[1, 2", "{\"a\": 1}}"}) {
    const Error e = load_error(text, "tok.json");
    EXPECT_EQ(e.code, ErrorCode::Format);
    EXPECT_NE(e.message.find("tok.json"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("not valid JSON"), std::string::npos) << e.message;
  }
  const Error e = load_error("[1, 2]");
  EXPECT_NE(e.message.find("expected an object"), std::string::npos) << e.message;
}

TEST(TokenizerJsonErrors, MissingOrUnknownModel) {
  json j = small_tokenizer();
  j.erase("model");
  Error e = load_error(j.dump(), "nomodel.json");
  EXPECT_EQ(e.code, ErrorCode::Format);
  EXPECT_NE(e.message.find("nomodel.json: model: missing"), std::string::npos) << e.message;

  for (const char* type : {"WordPiece", "Unigram", "WordLevel"}) {
    j = small_tokenizer();
    j["model"]["type"] = type;
    e = load_error(j.dump());
    EXPECT_EQ(e.code, ErrorCode::Unsupported);
    EXPECT_NE(e.message.find(std::string("model type '") + type + "'"), std::string::npos) << e.message;
  }
  j = small_tokenizer();
  j["model"]["dropout"] = 0.1;
  e = load_error(j.dump());
  EXPECT_EQ(e.code, ErrorCode::Unsupported);
  EXPECT_NE(e.message.find("dropout"), std::string::npos) << e.message;
}

TEST(TokenizerJsonErrors, MergesNamingUnknownTokens) {
  json j = small_tokenizer();
  j["model"]["merges"] = {"a b", "a zz"};
  Error e = load_error(j.dump(), "m.json");
  EXPECT_EQ(e.code, ErrorCode::Format);
  EXPECT_NE(e.message.find("m.json: model.merges[1]"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("'zz' is not in the vocabulary"), std::string::npos) << e.message;

  j["model"]["merges"] = {"b a"};  // both parts known, "ba" is not
  e = load_error(j.dump());
  EXPECT_NE(e.message.find("merged token 'ba'"), std::string::npos) << e.message;

  j["model"]["merges"] = {"a b c"};
  e = load_error(j.dump());
  EXPECT_NE(e.message.find("model.merges[0]"), std::string::npos) << e.message;
}

// Every field, replaced by each JSON type in turn, loads or fails cleanly.
TEST(TokenizerJsonErrors, WrongTypesAnywhere) {
  const json base = small_tokenizer();
  const std::vector<json> replacements = {nullptr, 7, -1, 2.5, "x", true, json::array(), json::object(),
                                          json::array({1, "a"}), json{{"type", "Nope"}}};
  size_t failures = 0, total = 0;
  std::function<void(const json&, const json::json_pointer&)> walk = [&](const json& node, const json::json_pointer& ptr) {
    for (const json& r : replacements) {
      json mutated = base;
      mutated[ptr] = r;
      auto tok = Tokenizer::from_json_text(mutated.dump(), "mut.json");
      ++total;
      if (!tok) {
        ++failures;
        EXPECT_NE(tok.error().message.find("mut.json"), std::string::npos) << tok.error().message;
      } else {
        auto ids = (*tok)->encode("ab ab <s>", true);  // whatever loads must also run
        if (ids) (void)(*tok)->decode(*ids);
      }
    }
    if (node.is_object())
      for (auto it = node.begin(); it != node.end(); ++it) walk(it.value(), ptr / it.key());
    if (node.is_array())
      for (size_t i = 0; i < node.size(); ++i) walk(node[i], ptr / i);
  };
  for (auto it = base.begin(); it != base.end(); ++it) walk(it.value(), json::json_pointer("/" + it.key()));
  EXPECT_GT(total, 500u);
  EXPECT_GT(failures, total / 4);  // most replacements break the file
}

TEST(TokenizerJsonErrors, SpecificMessages) {
  json j = small_tokenizer();
  j["model"]["vocab"]["b"] = "one";
  Error e = load_error(j.dump(), "v.json");
  EXPECT_NE(e.message.find("v.json: model.vocab.\"b\": expected an integer id, found string"), std::string::npos)
      << e.message;

  j = small_tokenizer();
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
  e = load_error(j.dump());
  EXPECT_NE(e.message.find("pre_tokenizer.pretokenizers[0].pattern"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("does not compile"), std::string::npos) << e.message;

  j = small_tokenizer();
  j["normalizer"] = {{"type", "NFKC"}};
  e = load_error(j.dump());
  EXPECT_EQ(e.code, ErrorCode::Unsupported);
  EXPECT_NE(e.message.find("normalizer type 'NFKC'"), std::string::npos) << e.message;

  j = small_tokenizer();
  j["model"]["byte_fallback"] = "yes";
  e = load_error(j.dump());
  EXPECT_NE(e.message.find("model.byte_fallback: expected true or false, found string"), std::string::npos) << e.message;

  j = small_tokenizer();
  j["post_processor"]["special_tokens"] = json::object();
  e = load_error(j.dump());
  EXPECT_NE(e.message.find("no ids for the template's token '<s>'"), std::string::npos) << e.message;

  j = small_tokenizer();
  j["added_tokens"][0].erase("content");
  e = load_error(j.dump());
  EXPECT_NE(e.message.find("added_tokens[0].content: missing"), std::string::npos) << e.message;
}

TEST(TokenizerJsonErrors, MissingFile) {
  auto tok = Tokenizer::from_json_file("/nonexistent/dir/tokenizer.json");
  ASSERT_FALSE(tok);
  EXPECT_EQ(tok.error().code, ErrorCode::Io);
  EXPECT_NE(tok.error().message.find("/nonexistent/dir/tokenizer.json"), std::string::npos) << tok.error().message;
}

void expect_utf8_error(const Tokenizer& tok, const std::string& text, size_t offset) {
  auto ids = tok.encode(text, false);
  ASSERT_FALSE(ids) << "accepted invalid UTF-8 at " << offset;
  EXPECT_EQ(ids.error().code, ErrorCode::Format);
  EXPECT_NE(ids.error().message.find("byte offset " + std::to_string(offset)), std::string::npos) << ids.error().message;
}

void expect_utf8_checks(const Tokenizer& tok) {
  expect_utf8_error(tok, "abc\xFF" "def", 3);
  expect_utf8_error(tok, "ab\xE4\xBD", 2);           // truncated sequence at the end
  expect_utf8_error(tok, "\xC0\xAF", 0);             // overlong '/'
  expect_utf8_error(tok, "x\xED\xA0\x80", 1);        // UTF-16 surrogate
  expect_utf8_error(tok, "\xF4\x90\x80\x80", 0);     // above U+10FFFF
  expect_utf8_error(tok, "\xE4\xBD\xA0\x80", 3);     // stray continuation byte
  EXPECT_TRUE(tok.encode("\xE4\xBD\xA0\xF0\x9F\xA4\x96", false));
}

TEST(TokenizerUtf8, HfTokenizerRejectsInvalidText) {
  auto tok = Tokenizer::from_json_text(small_tokenizer().dump(), "small.json");
  ASSERT_TRUE(tok) << tok.error().message;
  expect_utf8_checks(**tok);
}

// Writes a GGUF v3 file with metadata only, for the GGUF tokenizer tests.
class GgufWriter {
 public:
  GgufWriter& str(const std::string& key, const std::string& v) {
    header(key, 8);
    string(v);
    return *this;
  }
  GgufWriter& u32(const std::string& key, uint32_t v) {
    header(key, 4);
    pod(v);
    return *this;
  }
  GgufWriter& boolean(const std::string& key, bool v) {
    header(key, 7);
    pod(static_cast<uint8_t>(v));
    return *this;
  }
  GgufWriter& strs(const std::string& key, const std::vector<std::string>& v) {
    header(key, 9);
    pod(uint32_t{8});
    pod(static_cast<uint64_t>(v.size()));
    for (const auto& s : v) string(s);
    return *this;
  }
  GgufWriter& f32s(const std::string& key, const std::vector<float>& v) {
    header(key, 9);
    pod(uint32_t{6});
    pod(static_cast<uint64_t>(v.size()));
    for (const float f : v) pod(f);
    return *this;
  }
  GgufWriter& i32s(const std::string& key, const std::vector<int32_t>& v) {
    header(key, 9);
    pod(uint32_t{5});
    pod(static_cast<uint64_t>(v.size()));
    for (const int32_t i : v) pod(i);
    return *this;
  }
  std::shared_ptr<GgufFile> open(const std::string& name) const {
    const auto path = std::filesystem::path(::testing::TempDir()) / ("lowbit_tokenizer_" + name + ".gguf");
    {
      std::ofstream out(path, std::ios::binary);
      out.write("GGUF", 4);
      const uint32_t version = 3;
      const uint64_t tensors = 0;
      out.write(reinterpret_cast<const char*>(&version), 4);
      out.write(reinterpret_cast<const char*>(&tensors), 8);
      out.write(reinterpret_cast<const char*>(&n_), 8);
      out.write(body_.data(), static_cast<std::streamsize>(body_.size()));
    }
    auto g = GgufFile::open(path);
    EXPECT_TRUE(g) << (g ? "" : g.error().message);
    return g ? *g : nullptr;
  }

 private:
  template <class T>
  void pod(T v) {
    body_.append(reinterpret_cast<const char*>(&v), sizeof(v));
  }
  void string(const std::string& s) {
    pod(static_cast<uint64_t>(s.size()));
    body_ += s;
  }
  void header(const std::string& key, uint32_t type) {
    string(key);
    pod(type);
    ++n_;
  }
  std::string body_;
  uint64_t n_ = 0;
};

const std::string kU2581 = "\xE2\x96\x81";

GgufWriter tiny_spm() {
  GgufWriter w;
  w.str("tokenizer.ggml.model", "llama")
      .strs("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", kU2581, "a", "b", "c", kU2581 + "a", "ab", "bc",
                                      kU2581 + "ab", "<0xE4>", "<0xBD>", "<0xA0>"})
      .f32s("tokenizer.ggml.scores", {0, 0, 0, -1, -2, -2, -2, -3, -1.5f, -1.5f, -1, 0, 0, 0})
      .i32s("tokenizer.ggml.token_type", {2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6, 6, 6});
  return w;
}

TEST(GgufTokenizerSmall, SpmMergesByScoreLeftmostFirst) {
  auto g = tiny_spm().open("spm");
  ASSERT_TRUE(g);
  auto tok = Tokenizer::from_gguf(*g);
  ASSERT_TRUE(tok) << tok.error().message;
  EXPECT_EQ((*tok)->kind(), "spm-gguf");
  // "▁abc": "ab" and "bc" tie at -1.5; the leftmost merges first, then "▁ab" (-1) beats "▁a".
  auto ids = (*tok)->encode("abc", false);
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<int32_t>{10, 6}));
  // Default BOS for a llama vocabulary without add_bos_token.
  ids = (*tok)->encode("abc", true);
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<int32_t>{1, 10, 6}));
  // An unknown character falls back to its bytes; "▁" stays a piece of its own.
  ids = (*tok)->encode("\xE4\xBD\xA0", false);
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<int32_t>{3, 11, 12, 13}));
  EXPECT_EQ((*tok)->decode(*ids), "\xE4\xBD\xA0");
  // Spaces become U+2581 inside the text too.
  ids = (*tok)->encode("c ab", false);
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<int32_t>{3, 6, 10}));
  EXPECT_EQ((*tok)->decode(*ids), "c ab");
  expect_utf8_checks(**tok);
}

TEST(GgufTokenizerSmall, SpmFlagsFromMetadata) {
  auto g = tiny_spm().boolean("tokenizer.ggml.add_bos_token", false).boolean("tokenizer.ggml.add_space_prefix", false).open("flags");
  ASSERT_TRUE(g);
  auto tok = Tokenizer::from_gguf(*g);
  ASSERT_TRUE(tok) << tok.error().message;
  EXPECT_FALSE((*tok)->adds_bos());
  auto ids = (*tok)->encode("abc", true);
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<int32_t>{8, 6}));  // no BOS, no leading "▁": "ab" then "c"
}

TEST(GgufTokenizerSmall, BpeMergesByRank) {
  auto g = GgufWriter()
               .str("tokenizer.ggml.model", "gpt2")
               .str("tokenizer.ggml.pre", "gpt-2")
               .strs("tokenizer.ggml.tokens", {"a", "b", "ab", "\xC4\xA0", "\xC4\xA0" "a", "\xC4\xA0" "ab", "<s>"})
               .i32s("tokenizer.ggml.token_type", {1, 1, 1, 1, 1, 1, 3})
               .strs("tokenizer.ggml.merges", {"a b", "\xC4\xA0 a", "\xC4\xA0" "a b", "x y"})
               .u32("tokenizer.ggml.bos_token_id", 6)
               .open("bpe");
  ASSERT_TRUE(g);
  auto tok = Tokenizer::from_gguf(*g);
  ASSERT_TRUE(tok) << tok.error().message;
  EXPECT_EQ((*tok)->kind(), "bpe-gguf");
  EXPECT_FALSE((*tok)->adds_bos());  // gpt2 vocabularies add no BOS unless the file says so
  // " ab": "a b" (rank 0) merges before "Ġ a" (rank 1), and "Ġ ab" is no merge.
  auto ids = (*tok)->encode("ab ab", true);
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<int32_t>{2, 3, 2}));
  EXPECT_EQ((*tok)->decode(*ids), "ab ab");
  // "<s>" is a control token: plain text unless parse_special.
  ids = (*tok)->encode("<s>", false);
  ASSERT_TRUE(ids);
  EXPECT_TRUE(std::find(ids->begin(), ids->end(), 6) == ids->end());
  auto parsing = Tokenizer::from_gguf(*g, GgufTokenizerOptions{true});
  ASSERT_TRUE(parsing);
  ids = (*parsing)->encode("a<s>b", false);
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<int32_t>{0, 6, 1}));
}

TEST(GgufTokenizerErrors, MalformedMetadata) {
  const auto error_of = [](const GgufWriter& w, const std::string& name) {
    auto g = w.open(name);
    if (!g) return Error{ErrorCode::Io, "could not write the test file"};
    auto tok = Tokenizer::from_gguf(*g);
    EXPECT_FALSE(tok) << name << " loaded";
    return tok ? Error{} : tok.error();
  };
  Error e = error_of(GgufWriter().str("general.architecture", "llama"), "nomodel");
  EXPECT_NE(e.message.find("tokenizer.ggml.model is missing"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("lowbit_tokenizer_nomodel.gguf"), std::string::npos) << e.message;

  e = error_of(GgufWriter().str("tokenizer.ggml.model", "bert").strs("tokenizer.ggml.tokens", {"a"}), "bert");
  EXPECT_EQ(e.code, ErrorCode::Unsupported);
  EXPECT_NE(e.message.find("'bert'"), std::string::npos) << e.message;

  e = error_of(GgufWriter().str("tokenizer.ggml.model", "llama"), "notokens");
  EXPECT_NE(e.message.find("tokenizer.ggml.tokens"), std::string::npos) << e.message;

  e = error_of(GgufWriter().str("tokenizer.ggml.model", "llama").i32s("tokenizer.ggml.tokens", {1, 2}), "inttokens");
  EXPECT_NE(e.message.find("not an array of strings"), std::string::npos) << e.message;

  e = error_of(GgufWriter().str("tokenizer.ggml.model", "llama").strs("tokenizer.ggml.tokens", {"a", "b"})
                   .f32s("tokenizer.ggml.scores", {0}), "shortscores");
  EXPECT_NE(e.message.find("tokenizer.ggml.scores"), std::string::npos) << e.message;

  e = error_of(GgufWriter().str("tokenizer.ggml.model", "llama").strs("tokenizer.ggml.tokens", {"a", "a"}), "dup");
  EXPECT_NE(e.message.find("'a' twice"), std::string::npos) << e.message;

  e = error_of(GgufWriter().str("tokenizer.ggml.model", "gpt2").str("tokenizer.ggml.pre", "gpt-2")
                   .strs("tokenizer.ggml.tokens", {"a"}), "nomerges");
  EXPECT_NE(e.message.find("tokenizer.ggml.merges"), std::string::npos) << e.message;

  e = error_of(GgufWriter().str("tokenizer.ggml.model", "gpt2").str("tokenizer.ggml.pre", "martian")
                   .strs("tokenizer.ggml.tokens", {"a"}).strs("tokenizer.ggml.merges", {}), "pre");
  EXPECT_EQ(e.code, ErrorCode::Unsupported);
  EXPECT_NE(e.message.find("tokenizer.ggml.pre 'martian'"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace lowbit
