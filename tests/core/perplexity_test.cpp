// Perplexity known answers: kjv-llama-8m against transformers (strided, shared/README.md) and the
// stories260K GGUFs against llama-perplexity (llama.cpp method, shared/models/stories260K/README.md).
#include <gtest/gtest.h>

#include <iostream>

#include "core/eval/perplexity.h"
#include "core/io/mapped_file.h"
#include "core/model/model.h"
#include "test_support.h"

namespace lowbit {
namespace {

struct Loaded {
  Model model;
  ModelWeights weights;
  std::vector<int32_t> ids;
};

Loaded load(const std::string& model_rel, const std::string& text_rel, bool add_bos) {
  auto m = open_model(test::shared_dir() / model_rel, true);
  EXPECT_TRUE(m.has_value()) << m.error().message;
  auto text = read_text_file(test::shared_dir() / text_rel);
  EXPECT_TRUE(text.has_value());
  auto ids = m->tokenizer->encode(*text, add_bos);
  EXPECT_TRUE(ids.has_value()) << ids.error().message;
  auto w = load_model(*m->checkpoint, m->config);
  EXPECT_TRUE(w.has_value()) << w.error().message;
  return {std::move(*m), std::move(*w), std::move(*ids)};
}

void expect_relative(double got, double want, double tol, const std::string& what) {
  EXPECT_NEAR(got, want, want * tol) << what;
  std::cout << "  " << what << ": " << got << " (reference " << want << ", rel. diff " << (got - want) / want << ")\n";
}

TEST(Perplexity, KjvStridedMatchesTransformers) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  const Loaded l = load("models/kjv-llama-8m", "data/kjv-valid.txt", false);
  ASSERT_EQ(l.ids.size(), 40963u);
  struct Row { int64_t ctx; double ppl; int64_t scored, windows; };
  for (const Row& row : {Row{128, 33.2261, 40640, 320}, Row{256, 31.7686, 40800, 160}, Row{512, 34.4306, 40880, 80}}) {
    PplOptions opt;
    opt.ctx = row.ctx;
    auto r = evaluate_perplexity(l.weights, l.ids, opt);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->tokens_scored, row.scored);
    EXPECT_EQ(r->windows, row.windows);
    expect_relative(r->ppl, row.ppl, 2e-4, "kjv strided ctx " + std::to_string(row.ctx));
  }
}

TEST(Perplexity, StoriesGgufMatchesLlamaPerplexity) {
  LOWBIT_REQUIRE_SHARED("models/stories260K/stories260K-f32.gguf");
  struct Row { const char* file; int64_t ctx; double ppl; };
  // Two rows of the table keep the suite short; both contexts and a block format are covered. The
  // README quotes every row, measured with `lowbit ppl --method llama.cpp`.
  for (const Row& row : {Row{"stories260K-f32.gguf", 256, 4.8753}, Row{"stories260K-q4_0-pure.gguf", 512, 5.4811}}) {
    const Loaded l = load(std::string("models/stories260K/") + row.file, "data/tinystories-valid-sample.txt", true);
    ASSERT_EQ(l.ids.size(), 393019u) << "llama-tokenize counts 393,019 tokens, BOS included";
    PplOptions opt;
    opt.ctx = row.ctx;
    opt.method = PplMethod::LlamaCpp;
    opt.bos = l.model.tokenizer->bos_id();
    auto r = evaluate_perplexity(l.weights, l.ids, opt);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->windows, row.ctx == 256 ? 1535 : 767);
    EXPECT_EQ(r->tokens_scored, r->windows * (row.ctx - row.ctx / 2 - 1));
    expect_relative(r->ppl, row.ppl, 1e-3, std::string(row.file) + " llama.cpp ctx " + std::to_string(row.ctx));
  }
}

// A K-quant and a legacy block type written by llama-quantize, read through the GGUF reader's
// dequantization, against llama-perplexity (shared/README.md's kjv-llama-8m GGUF table).
TEST(Perplexity, KjvBlockQuantizedGgufsMatchLlamaPerplexity) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m-gguf/kjv-llama-8m-q3_k-pure.gguf");
  struct Row { const char* file; double ppl; };
  for (const Row& row : {Row{"kjv-llama-8m-q3_k-pure.gguf", 31.8273}, Row{"kjv-llama-8m-q5_1-pure.gguf", 30.6919}}) {
    const Loaded l = load(std::string("models/kjv-llama-8m-gguf/") + row.file, "data/kjv-valid.txt", true);
    PplOptions opt;
    opt.ctx = 256;
    opt.method = PplMethod::LlamaCpp;
    opt.bos = l.model.tokenizer->bos_id();
    auto r = evaluate_perplexity(l.weights, l.ids, opt);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->windows, 160);
    expect_relative(r->ppl, row.ppl, 1e-3, std::string(row.file) + " llama.cpp ctx 256");
  }
}

TEST(Perplexity, KldAgainstItselfIsZeroAndAgainstQ8IsSmall) {
  LOWBIT_REQUIRE_SHARED("models/stories260K/stories260K-q8_0.gguf");
  const Loaded f32 = load("models/stories260K/stories260K-f32.gguf", "data/tinystories-valid-sample.txt", true);
  const Loaded q8 = load("models/stories260K/stories260K-q8_0.gguf", "data/tinystories-valid-sample.txt", true);
  PplOptions opt;
  opt.ctx = 256;
  opt.max_windows = 40;
  auto same = evaluate_perplexity(f32.weights, f32.ids, opt, nullptr, nullptr, &f32.weights);
  ASSERT_TRUE(same.has_value());
  ASSERT_TRUE(same->kld.has_value());
  EXPECT_LT(same->kld->mean, 1e-9);
  EXPECT_DOUBLE_EQ(same->kld->top1_agreement, 1.0);
  auto q = evaluate_perplexity(q8.weights, f32.ids, opt, nullptr, nullptr, &f32.weights);
  ASSERT_TRUE(q.has_value());
  EXPECT_GT(q->kld->mean, 1e-6);
  EXPECT_LT(q->kld->mean, 0.01);
  EXPECT_GE(q->kld->p99, q->kld->mean);
  EXPECT_GT(q->kld->top1_agreement, 0.9);
  EXPECT_EQ(q->kld->positions, 40 * 255);
}

TEST(Perplexity, CancelStopsEarly) {
  LOWBIT_REQUIRE_SHARED("models/stories260K/stories260K-f32.gguf");
  const Loaded l = load("models/stories260K/stories260K-f32.gguf", "data/tinystories-valid-sample.txt", true);
  CancelToken cancel;
  cancel.cancel();
  auto r = evaluate_perplexity(l.weights, l.ids, PplOptions{}, nullptr, &cancel);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::Cancelled);
}

TEST(Perplexity, RejectsTooShortTextAndBadOptions) {
  LOWBIT_REQUIRE_SHARED("models/stories260K/stories260K-f32.gguf");
  const Loaded l = load("models/stories260K/stories260K-f32.gguf", "data/tinystories-valid-sample.txt", true);
  std::vector<int32_t> few(l.ids.begin(), l.ids.begin() + 100);
  auto r = evaluate_perplexity(l.weights, few, PplOptions{});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("fewer than one window"), std::string::npos);
  PplOptions bad;
  bad.ctx = 1;
  EXPECT_FALSE(evaluate_perplexity(l.weights, l.ids, bad).has_value());
}

}  // namespace
}  // namespace lowbit
