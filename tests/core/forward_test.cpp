// Known-answer tests of the CPU forward pass: logits of every hf-fixtures architecture and of
// kjv-llama-8m against transformers' reference_logits.safetensors (fp32 math).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iostream>

#include "core/io/checkpoint.h"
#include "core/model/config.h"
#include "core/model/forward.h"
#include "fixture_model.h"
#include "test_support.h"

namespace lowbit {
namespace {

struct Reference {
  std::vector<int32_t> ids;
  MatrixRM logits;
};

Reference read_reference(const std::filesystem::path& path) {
  auto f = SafetensorsFile::open(path);
  EXPECT_TRUE(f.has_value()) << (f ? "" : f.error().message);
  Reference r;
  for (const auto& t : f.value()->tensors()) {
    if (t.name == "input_ids") {
      for (int64_t i = 0; i < t.numel(); ++i) {
        if (t.dtype == DType::I32) {
          int32_t v;
          std::memcpy(&v, t.data + 4 * i, 4);
          r.ids.push_back(v);
        } else {
          int64_t v;
          std::memcpy(&v, t.data + 8 * i, 8);
          r.ids.push_back(static_cast<int32_t>(v));
        }
      }
    } else if (t.name == "logits") {
      auto v = decode_to_f32(t);
      r.logits = ConstMatrixRMMap(v->data(), t.rows(), t.cols());
    }
  }
  return r;
}

// max |Δ| / max |reference logit| of the model's logits on the reference ids.
double relative_logit_error(const std::filesystem::path& dir) {
  auto ck = Checkpoint::open(dir);
  EXPECT_TRUE(ck.has_value()) << ck.error().message;
  auto cfg = read_model_config(**ck);
  EXPECT_TRUE(cfg.has_value()) << cfg.error().message;
  auto w = load_model(**ck, *cfg);
  EXPECT_TRUE(w.has_value()) << w.error().message;
  const Reference ref = read_reference(dir / "reference_logits.safetensors");
  MatrixRM got;
  auto ok = forward_windows(*w, ref.ids, 1, static_cast<int64_t>(ref.ids.size()),
                            [&](int64_t, const MatrixRM& logits) { got = logits; });
  EXPECT_TRUE(ok.has_value());
  EXPECT_EQ(got.rows(), ref.logits.rows());
  EXPECT_EQ(got.cols(), ref.logits.cols());
  if (got.rows() != ref.logits.rows() || got.cols() != ref.logits.cols()) return 1e9;
  return (got - ref.logits).cwiseAbs().maxCoeff() / ref.logits.cwiseAbs().maxCoeff();
}

class FixtureLogits : public ::testing::TestWithParam<const char*> {};

TEST_P(FixtureLogits, MatchTransformers) {
  const std::string rel = std::string("models/hf-fixtures/") + GetParam();
  LOWBIT_REQUIRE_SHARED(rel);
  const double err = relative_logit_error(test::shared_dir() / rel);
  EXPECT_LT(err, 1e-4) << GetParam();
  std::cout << "  " << GetParam() << ": max |dlogit| / max |logit| = " << err << "\n";
}

INSTANTIATE_TEST_SUITE_P(AllArchitectures, FixtureLogits,
                         ::testing::ValuesIn(test::kFixtureArchitectures), test::FixtureTestName());

TEST(KjvLlama, LogitsMatchTransformers) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  const double err = relative_logit_error(test::shared_dir() / "models/kjv-llama-8m");
  EXPECT_LT(err, 1e-4);
  std::cout << "  kjv-llama-8m: max |dlogit| / max |logit| = " << err << "\n";
}

TEST(Forward, RejectsOutOfVocabularyIds) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  auto ck = Checkpoint::open(test::shared_dir() / "models/hf-fixtures/llama-gqa");
  ASSERT_TRUE(ck.has_value());
  auto cfg = read_model_config(**ck);
  auto w = load_model(**ck, *cfg);
  ASSERT_TRUE(w.has_value());
  std::vector<int32_t> ids = {1, 2, 5000};
  auto r = forward_windows(*w, ids, 1, 3, [](int64_t, const MatrixRM&) {});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("5000"), std::string::npos);
}

}  // namespace
}  // namespace lowbit
