// Known-answer tests of the GGUF tokenizers against llama.cpp: the stories260K "llama" vocabulary
// (SentencePiece-style merges by score) on TinyStories and WikiText-2, whose counts llama-tokenize
// published, and the kjv-llama-8m "gpt2" vocabulary, which must give the very ids of the
// tokenizer.json it was converted from.
#include <gtest/gtest.h>

#include <chrono>

#include "core/io/gguf.h"
#include "core/tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace lowbit {
namespace {

using test::ids_sha256;
using test::read_shared;
using test::same_ids;

constexpr const char* kStories = "models/stories260K/stories260K-f32.gguf";
constexpr const char* kKjvGguf = "models/kjv-llama-8m-gguf/kjv-llama-8m-bf16.gguf";

std::unique_ptr<Tokenizer> open_gguf_tokenizer(const char* rel, GgufTokenizerOptions options = {}) {
  auto gguf = GgufFile::open(test::shared_dir() / rel);
  EXPECT_TRUE(gguf) << (gguf ? "" : gguf.error().message);
  if (!gguf) return nullptr;
  auto tok = Tokenizer::from_gguf(**gguf, options);
  EXPECT_TRUE(tok) << (tok ? "" : tok.error().message);
  return tok ? std::move(tok).value() : nullptr;
}

TEST(GgufSpm, TinyStoriesCountMatchesLlamaTokenize) {
  LOWBIT_REQUIRE_SHARED(kStories);
  auto tok = open_gguf_tokenizer(kStories);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->kind(), "spm-gguf");
  EXPECT_EQ(tok->vocab_size(), 512);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_TRUE(tok->adds_bos());  // tokenizer.ggml.add_bos_token is absent: llama's default is true
  const std::string text = read_shared("data/tinystories-valid-sample.txt");
  const auto t0 = std::chrono::steady_clock::now();
  auto ids = tok->encode(text, true);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(ids) << ids.error().message;
  std::printf("tinystories: %zu bytes -> %zu ids in %.3f s\n", text.size(), ids->size(), seconds);
  EXPECT_EQ(ids->size(), 393019u);  // llama-tokenize --show-count, BOS included
  EXPECT_EQ(ids->front(), 1);
  EXPECT_EQ(tok->decode(*ids), text);
}

TEST(GgufSpm, WikiTextCountMatchesLlamaTokenize) {
  LOWBIT_REQUIRE_SHARED(kStories);
  LOWBIT_REQUIRE_SHARED("data/wiki.test.raw");
  auto tok = open_gguf_tokenizer(kStories);
  ASSERT_TRUE(tok);
  const std::string text = read_shared("data/wiki.test.raw");
  auto ids = tok->encode(text, true);
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_EQ(ids->size(), 809290u);  // llama-tokenize --show-count, BOS included
}

TEST(GgufSpm, LeadingSpaceBytesAndSpecials) {
  LOWBIT_REQUIRE_SHARED(kStories);
  auto tok = open_gguf_tokenizer(kStories);
  ASSERT_TRUE(tok);
  auto ids = tok->encode("Once upon a time", false);
  ASSERT_TRUE(ids);
  ASSERT_FALSE(ids->empty());
  // The first piece carries the U+2581 that add_space_prefix puts before the text.
  EXPECT_EQ(tok->token_text(ids->front()).rfind("\xE2\x96\x81", 0), 0u) << tok->token_text(ids->front());
  EXPECT_EQ(tok->decode(*ids), "Once upon a time");
  // A character the 512-token vocabulary lacks falls back to its UTF-8 bytes.
  ids = tok->encode("\xE4\xBD\xA0", false);
  ASSERT_TRUE(ids);
  std::vector<std::string> pieces;
  for (const int32_t id : *ids) pieces.push_back(tok->token_text(id));
  ASSERT_GE(pieces.size(), 3u);
  EXPECT_EQ(pieces[pieces.size() - 3], "<0xE4>");
  EXPECT_EQ(pieces[pieces.size() - 2], "<0xBD>");
  EXPECT_EQ(pieces[pieces.size() - 1], "<0xA0>");
  EXPECT_EQ(tok->decode(*ids), "\xE4\xBD\xA0");
  // Control tokens in the text are plain text unless parse_special is asked for.
  ids = tok->encode("a</s>b", false);
  ASSERT_TRUE(ids);
  EXPECT_EQ(std::count(ids->begin(), ids->end(), 2), 0);
  auto parsing = open_gguf_tokenizer(kStories, GgufTokenizerOptions{true});
  ASSERT_TRUE(parsing);
  ids = parsing->encode("a</s>b", false);
  ASSERT_TRUE(ids);
  EXPECT_EQ(std::count(ids->begin(), ids->end(), 2), 1);
  // add_special adds BOS only.
  auto plain = tok->encode("a", false), with = tok->encode("a", true);
  ASSERT_TRUE(plain && with);
  ASSERT_EQ(with->size(), plain->size() + 1);
  EXPECT_EQ(with->front(), 1);
}

TEST(GgufBpe, KjvGivesTheTokenizerJsonIds) {
  LOWBIT_REQUIRE_SHARED(kKjvGguf);
  auto tok = open_gguf_tokenizer(kKjvGguf);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->kind(), "bpe-gguf");
  EXPECT_EQ(tok->vocab_size(), 4096);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_TRUE(tok->adds_bos());  // tokenizer.ggml.add_bos_token = true in this file
  const std::string text = read_shared("data/kjv-valid.txt");
  auto ids = tok->encode(text, false);
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_EQ(ids->size(), 40963u);
  EXPECT_EQ(ids_sha256(*ids), "0c82e8404ef8c19182a9a58f46ba9fee7b52163f73aa5a6f5999332c88b34bfe");
  EXPECT_EQ(tok->decode(*ids), text);

  // And the same ids as the tokenizer.json on text the KJV lacks (digits, punctuation, UTF-8).
  if (!std::filesystem::exists(test::shared_dir() / "models/kjv-llama-8m/tokenizer.json")) return;
  auto json = Tokenizer::from_json_file(test::shared_dir() / "models/kjv-llama-8m/tokenizer.json");
  ASSERT_TRUE(json) << json.error().message;
  const std::string tricky = read_shared("models/tokenizer-fixtures/tricky.txt");
  auto a = tok->encode(tricky, false), b = (*json)->encode(tricky, false);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(same_ids(*a, *b, tok.get()));
  auto with = tok->encode("In the beginning", true);
  ASSERT_TRUE(with);
  EXPECT_EQ(with->front(), 1);
}

}  // namespace
}  // namespace lowbit
