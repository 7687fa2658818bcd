// The architectures of ../shared/models/hf-fixtures for parameterized tests, and one of them loaded
// whole (the tests that use it skip first where ../shared is absent: LOWBIT_REQUIRE_SHARED); a
// failure to read it fails the calling test.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/io/checkpoint.h"
#include "core/model/model.h"
#include "test_support.h"

namespace lowbit::test {

// Every fixture architecture, for ::testing::ValuesIn.
inline constexpr const char* kFixtureArchitectures[] = {"llama-gqa",    "mistral",    "qwen2-tied-bias",
                                                        "qwen3-qknorm", "phi3-fused", "gpt2"};

// A fixture's name as a test-name suffix (gtest takes no '-').
struct FixtureTestName {
  template <class Info>
  std::string operator()(const Info& info) const {
    std::string s = info.param;
    for (char& ch : s)
      if (ch == '-') ch = '_';
    return s;
  }
};

inline ModelWeights load_fixture_model(const std::string& name) {
  auto ck = Checkpoint::open(shared_dir() / "models/hf-fixtures" / name);
  EXPECT_TRUE(ck.has_value()) << (ck ? "" : ck.error().message);
  if (!ck) return {};
  auto cfg = read_model_config(**ck);
  EXPECT_TRUE(cfg.has_value()) << (cfg ? "" : cfg.error().message);
  if (!cfg) return {};
  auto w = load_model(**ck, *cfg);
  EXPECT_TRUE(w.has_value()) << (w ? "" : w.error().message);
  return w ? std::move(*w) : ModelWeights{};
}

// S windows of T seeded token ids below the model's vocabulary.
inline std::vector<int32_t> seeded_windows(const ModelConfig& c, int64_t S, int64_t T, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> ids(static_cast<size_t>(S * T));
  for (auto& id : ids) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(c.vocab));
  return ids;
}

}  // namespace lowbit::test
