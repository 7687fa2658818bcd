// Known-answer tests of the tokenizer.json path against ids that Hugging Face tokenizers produced:
// the three fixture styles of ../shared/models/tokenizer-fixtures (byte-level with Llama 3's
// Split regex, byte-level with NFC and Qwen 2's regex, Metaspace with byte fallback) and the
// kjv-llama-8m tokenizer on the whole KJV text.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>

#include "core/tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace lowbit {
namespace {

using test::ids_sha256;
using test::read_shared;
using test::same_ids;

constexpr const char* kFixtures = "models/tokenizer-fixtures";
constexpr const char* kWithSpecials = "<|im_start|>user\nHi \xE4\xBD\xA0\xE5\xA5\xBD<|im_end|>";

std::vector<int32_t> json_ids(const nlohmann::json& j) {
  std::vector<int32_t> ids;
  for (const auto& v : j) ids.push_back(v.get<int32_t>());
  return ids;
}

// The first n code points of UTF-8 text (Python's text[:n]).
std::string first_chars(const std::string& s, size_t n) {
  size_t i = 0;
  for (size_t c = 0; c < n && i < s.size(); ++c) {
    const auto b = static_cast<unsigned char>(s[i]);
    i += b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
  }
  return s.substr(0, i);
}

class FixtureTest : public ::testing::TestWithParam<const char*> {};

TEST_P(FixtureTest, MatchesHuggingFaceIds) {
  const std::string dir = std::string(kFixtures) + "/" + GetParam();
  LOWBIT_REQUIRE_SHARED(dir + "/tokenizer.json");
  auto tok = Tokenizer::from_json_file(test::shared_dir() / dir / "tokenizer.json");
  ASSERT_TRUE(tok) << tok.error().message;
  const auto ref = nlohmann::json::parse(read_shared(dir + "/reference_ids.json"));

  // tricky.txt: the full id list.
  const std::string tricky = read_shared(std::string(kFixtures) + "/tricky.txt");
  auto ids = (*tok)->encode(tricky, false);
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_TRUE(same_ids(*ids, json_ids(ref["tricky"]["ids"]), tok->get()));
  EXPECT_EQ(ids_sha256(*ids), ref["tricky"]["sha256"].get<std::string>());
  EXPECT_EQ((*tok)->decode(*ids) == tricky, ref["tricky"]["decoded_roundtrip_equal"].get<bool>());

  // The first 20000 characters of kjv-valid.txt: count and digest (the file gives no ids).
  const std::string kjv = first_chars(read_shared("data/kjv-valid.txt"), 20000);
  ids = (*tok)->encode(kjv, false);
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_EQ(ids->size(), ref["kjv_valid_20000chars"]["count"].get<size_t>());
  EXPECT_EQ(ids_sha256(*ids), ref["kjv_valid_20000chars"]["sha256"].get<std::string>());
  EXPECT_EQ((*tok)->decode(*ids) == kjv, ref["kjv_valid_20000chars"]["decoded_roundtrip_equal"].get<bool>());

  // A chat-formatted string with special tokens (added tokens in the byte-level styles).
  ids = (*tok)->encode(kWithSpecials, false);
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_TRUE(same_ids(*ids, json_ids(ref["with_specials"]["ids"]), tok->get()));
  EXPECT_EQ(ids_sha256(*ids), ref["with_specials"]["sha256"].get<std::string>());
  EXPECT_EQ((*tok)->decode(*ids) == kWithSpecials, ref["with_specials"]["decoded_roundtrip_equal"].get<bool>());

  // Without a post-processor, add_special adds nothing.
  auto with = (*tok)->encode(tricky, true);
  ASSERT_TRUE(with);
  EXPECT_TRUE(same_ids(*with, json_ids(ref["tricky"]["ids"])));
  EXPECT_FALSE((*tok)->adds_bos());
}

INSTANTIATE_TEST_SUITE_P(Styles, FixtureTest,
                         ::testing::Values("bytelevel-llama3-split", "bytelevel-qwen2-nfc", "metaspace-bytefallback"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (auto& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

TEST(FixtureKinds, NameTheirStyle) {
  LOWBIT_REQUIRE_SHARED(kFixtures);
  const auto kind = [](const char* style) {
    auto tok = Tokenizer::from_json_file(test::shared_dir() / kFixtures / style / "tokenizer.json");
    return tok ? (*tok)->kind() : tok.error().message;
  };
  EXPECT_EQ(kind("bytelevel-llama3-split"), "bpe-bytelevel");
  EXPECT_EQ(kind("bytelevel-qwen2-nfc"), "bpe-bytelevel");
  EXPECT_EQ(kind("metaspace-bytefallback"), "bpe-metaspace");
}

class KjvTokenizer : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(test::shared_dir() / "models/kjv-llama-8m/tokenizer.json"))
      GTEST_SKIP() << "../shared/models/kjv-llama-8m/tokenizer.json is absent; this known-answer test needs it";
    auto t = Tokenizer::from_json_file(test::shared_dir() / "models/kjv-llama-8m/tokenizer.json");
    ASSERT_TRUE(t) << t.error().message;
    tok = std::move(t).value();
  }
  std::unique_ptr<Tokenizer> tok;
};

TEST_F(KjvTokenizer, WholeValidTextGivesThePublishedIds) {
  const std::string text = read_shared("data/kjv-valid.txt");
  auto ids = tok->encode(text, false);
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_EQ(ids->size(), 40963u);
  EXPECT_EQ(ids_sha256(*ids), "0c82e8404ef8c19182a9a58f46ba9fee7b52163f73aa5a6f5999332c88b34bfe");
  EXPECT_EQ(tok->decode(*ids), text);
}

TEST_F(KjvTokenizer, WholeTrainTextCountAndSpeed) {
  const std::string text = read_shared("data/kjv-train.txt");
  const auto t0 = std::chrono::steady_clock::now();
  auto ids = tok->encode(text, false);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_EQ(ids->size(), 923781u);
  std::printf("kjv-train.txt: %zu bytes -> %zu ids in %.3f s\n", text.size(), ids->size(), seconds);
  // A loose bound that still catches a quadratic slip (Release takes well under a second).
  EXPECT_LT(seconds, 30.0);
}

TEST_F(KjvTokenizer, TemplateAddsBos) {
  EXPECT_EQ(tok->kind(), "bpe-bytelevel");
  EXPECT_EQ(tok->vocab_size(), 4096);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_TRUE(tok->adds_bos());
  EXPECT_EQ(tok->token_text(1), "<s>");
  auto plain = tok->encode("In the beginning", false);
  auto with = tok->encode("In the beginning", true);
  ASSERT_TRUE(plain && with);
  ASSERT_EQ(with->size(), plain->size() + 1);
  EXPECT_EQ(with->front(), 1);
  EXPECT_TRUE(same_ids(std::vector<int32_t>(with->begin() + 1, with->end()), *plain));
  auto empty = tok->encode("", true);
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, std::vector<int32_t>{1});
  // The special token written in the text is matched as one token (tokenizers always does).
  auto special = tok->encode("<s>In", false);
  ASSERT_TRUE(special);
  EXPECT_EQ(special->front(), 1);
  EXPECT_EQ(tok->decode(*special), "In");
}

}  // namespace
}  // namespace lowbit
