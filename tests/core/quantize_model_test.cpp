// Known answers of the RTN rows of shared/README.md's kjv-llama-8m table (int family, min-max
// convention of the GPTQ code, ctx 256 strided on kjv-valid.txt): RTN is deterministic, so they must
// be reproduced to about 4 digits. Two rows keep the suite short (the symmetric grid and 3 bits); the
// README quotes every row, measured with `lowbit quantize --eval`.
#include "core/quant/quantize_model.h"

#include <gtest/gtest.h>

#include <iostream>

#include "core/eval/perplexity.h"
#include "core/io/mapped_file.h"
#include "core/model/model.h"
#include "test_support.h"

namespace lowbit {
namespace {

TEST(QuantizeModel, RtnReproducesTheReferenceTable) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  auto m = open_model(test::shared_dir() / "models/kjv-llama-8m", true);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  auto text = read_text_file(test::shared_dir() / "data/kjv-valid.txt");
  ASSERT_TRUE(text.has_value());
  auto ids = m->tokenizer->encode(*text, false);
  ASSERT_TRUE(ids.has_value());
  auto original = load_model(*m->checkpoint, m->config);
  ASSERT_TRUE(original.has_value()) << original.error().message;
  struct Row { const char* format; double ppl; };
  for (const Row& row : {Row{"int4g128s", 32.2411}, Row{"int3g128a", 33.2613}}) {
    ModelWeights w = *original;
    QuantizeOptions opt;
    opt.format = *Format::parse(row.format);
    auto q = quantize_model(w, opt, {});
    ASSERT_TRUE(q.has_value()) << q.error().message;
    EXPECT_EQ(q->layers.size(), 8u * 7u);
    PplOptions po;
    po.ctx = 256;
    auto p = evaluate_perplexity(w, *ids, po);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    EXPECT_NEAR(p->ppl, row.ppl, row.ppl * 5e-4) << row.format;
    std::cout << "  RTN " << row.format << ": " << p->ppl << " (reference " << row.ppl << ")\n";
  }
}

TEST(QuantizeModel, CancelBeforeStartIsReported) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  auto m = open_model(test::shared_dir() / "models/hf-fixtures/llama-gqa", false);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  auto w = load_model(*m->checkpoint, m->config);
  ASSERT_TRUE(w.has_value());
  CancelToken cancel;
  cancel.cancel();
  QuantizeOptions opt;
  opt.format = *Format::parse("int4g32a");
  auto q = quantize_model(*w, opt, {}, nullptr, &cancel);
  ASSERT_FALSE(q.has_value());
  EXPECT_EQ(q.error().code, ErrorCode::Cancelled);
}

}  // namespace
}  // namespace lowbit
