// compare_layouts (core/eval/compare.h) on the bundled demo model: every candidate is measured on the
// same windows from the same unquantized weights, sizes are the GGUF export's exact size, a finer
// format is not worse than a coarser one, rows survive their JSON form, and a method that needs
// calibration windows is refused without them.
#include <gtest/gtest.h>

#include "core/eval/compare.h"
#include "core/export/gguf_export.h"
#include "core/io/mapped_file.h"
#include "test_support.h"

namespace lowbit {
namespace {

class CompareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::filesystem::path demo = std::filesystem::path(LOWBIT_TEST_SOURCE_DIR) / "resources" / "demo";
    if (!std::filesystem::exists(demo / "model.safetensors")) GTEST_SKIP() << "resources/demo is absent";
    auto m = open_model(demo, true);
    ASSERT_TRUE(m.has_value()) << m.error().message;
    model_ = std::move(*m);
    auto w = load_model(*model_.checkpoint, model_.config);
    ASSERT_TRUE(w.has_value()) << w.error().message;
    weights_ = std::move(*w);
    auto text = read_text_file(demo / "demo-valid.txt");
    ASSERT_TRUE(text.has_value());
    auto ids = tokenize_text(*model_.tokenizer, *text, false, "demo-valid.txt");
    ASSERT_TRUE(ids.has_value());
    ids_ = std::move(*ids);
    options_.ppl.ctx = 32;
    options_.ppl.max_windows = 6;
  }
  Model model_;
  ModelWeights weights_;
  std::vector<int32_t> ids_;
  CompareOptions options_;
};

TEST_F(CompareTest, MeasuresEveryCandidateOnTheSameWindows) {
  std::vector<CompareCandidate> c;
  for (const char* f : {"q8_0", "q4_0", "q2_k"}) c.push_back({f, Layout::uniform(weights_, *Format::parse(f), QuantMethod::Rtn, false)});
  auto rows = compare_layouts(model_, weights_, c, ids_, {}, options_);
  ASSERT_TRUE(rows.has_value()) << rows.error().message;
  ASSERT_EQ(rows->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const CompareRow& r = (*rows)[i];
    EXPECT_EQ(r.name, c[i].name);
    ASSERT_TRUE(r.file_bytes.has_value());
    EXPECT_EQ(*r.file_bytes, *gguf_file_size(model_, weights_, c[i].layout.tensors));
    EXPECT_TRUE(r.bits_whole_file);
    ASSERT_TRUE(r.kld.has_value());
    EXPECT_GT(r.ppl, 1.0);
  }
  // Finer formats: larger files, closer to the unquantized model.
  EXPECT_GT(*(*rows)[0].file_bytes, *(*rows)[1].file_bytes);
  EXPECT_GT(*(*rows)[1].file_bytes, *(*rows)[2].file_bytes);
  EXPECT_LT((*rows)[0].kld->mean, (*rows)[1].kld->mean);
  EXPECT_LT((*rows)[1].kld->mean, (*rows)[2].kld->mean);
  EXPECT_GT((*rows)[0].kld->top1_agreement, 0.9);

  for (const CompareRow& r : *rows) {
    auto back = compare_row_from_json(compare_row_to_json(r), "test");
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(back->name, r.name);
    EXPECT_EQ(back->ppl, r.ppl);
    EXPECT_EQ(back->file_bytes, r.file_bytes);
    EXPECT_EQ(back->bits_per_weight, r.bits_per_weight);
    EXPECT_EQ(back->kld->mean, r.kld->mean);
  }
}

TEST_F(CompareTest, AMethodThatNeedsCalibrationIsRefusedWithoutWindows) {
  std::vector<CompareCandidate> c{{"gptq", Layout::uniform(weights_, *Format::parse("q4_k"), QuantMethod::Gptq, false)}};
  EXPECT_TRUE(compare_needs_calibration(c));
  auto rows = compare_layouts(model_, weights_, c, ids_, {}, options_);
  ASSERT_FALSE(rows.has_value());
  EXPECT_NE(rows.error().message.find("calibration"), std::string::npos);
}

TEST_F(CompareTest, CancelStopsTheRun) {
  std::vector<CompareCandidate> c{{"q8_0", Layout::uniform(weights_, *Format::parse("q8_0"), QuantMethod::Rtn, false)}};
  CancelToken cancel;
  cancel.cancel();
  auto rows = compare_layouts(model_, weights_, c, ids_, {}, options_, nullptr, &cancel);
  ASSERT_FALSE(rows.has_value());
  EXPECT_EQ(rows.error().code, ErrorCode::Cancelled);
}

}  // namespace
}  // namespace lowbit
