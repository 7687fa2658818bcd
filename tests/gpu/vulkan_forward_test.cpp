// The forward pass on the Vulkan backend (gpu/model/vulkan_forward.h) on every Vulkan device present:
// - logits of all six hf-fixtures architectures against transformers' reference_logits.safetensors
//   (as tests/core/forward_test.cpp checks the CPU) and against core's CPU forward pass;
// - what no fixture has, by changing a fixture's config on both sides: a sliding window, partial
//   rotary, interleaved RoPE;
// - several windows, per-position NLL against the CPU backend (both scoring ranges), the output head
//   in chunks;
// - errors: ids outside the vocabulary, and out of device memory (DeviceOptions::max_device_bytes)
//   at upload and mid-job, after which the same device and engine work again and every byte is
//   returned; perplexity on kjv-llama-8m within 0.01 % of the CPU.
// Tolerances are relative to the largest |logit|. Skips with a message where there is no Vulkan
// device or ../shared.
#include "gpu/model/vulkan_forward.h"

#include <gtest/gtest.h>

#include <cstring>
#include <iostream>

#include "core/eval/perplexity.h"
#include "core/io/checkpoint.h"
#include "core/io/mapped_file.h"
#include "core/io/safetensors.h"
#include "core/model/model.h"
#include "gpu_test_support.h"
#include "op_test_support.h"
#include "fixture_model.h"
#include "test_support.h"

namespace lowbit::gpu {
namespace {

struct Fixture {
  ModelWeights weights;
  std::vector<int32_t> ids;
  std::vector<float> logits;  // transformers' [ids, vocab]
};

Fixture load_fixture(const std::string& name) {
  const auto dir = test::shared_dir() / "models/hf-fixtures" / name;
  Fixture f;
  auto ck = Checkpoint::open(dir);
  EXPECT_TRUE(ck.has_value()) << ck.error().message;
  auto cfg = read_model_config(**ck);
  EXPECT_TRUE(cfg.has_value()) << cfg.error().message;
  auto w = load_model(**ck, *cfg);
  EXPECT_TRUE(w.has_value()) << w.error().message;
  f.weights = std::move(*w);
  auto ref = SafetensorsFile::open(dir / "reference_logits.safetensors");
  EXPECT_TRUE(ref.has_value());
  for (const auto& t : ref.value()->tensors()) {
    if (t.name == "input_ids") {
      for (int64_t i = 0; i < t.numel(); ++i) {
        int64_t v = 0;
        if (t.dtype == DType::I32) {
          int32_t v32;
          std::memcpy(&v32, t.data + 4 * i, 4);
          v = v32;
        } else {
          std::memcpy(&v, t.data + 8 * i, 8);
        }
        f.ids.push_back(static_cast<int32_t>(v));
      }
    } else if (t.name == "logits") {
      f.logits = *decode_to_f32(t);
    }
  }
  return f;
}

std::vector<float> all_logits(ForwardBackend& backend, std::span<const int32_t> ids, int64_t B, int64_t T) {
  std::vector<float> out;
  auto ok = backend.logits(ids, B, T, [&](int64_t b, std::span<const float> l) {
    EXPECT_EQ(static_cast<size_t>(b) * l.size(), out.size()) << "windows out of order";
    out.insert(out.end(), l.begin(), l.end());
  });
  EXPECT_TRUE(ok.has_value()) << ok.error().message;
  return out;
}

std::vector<float> cpu_logits(const ModelWeights& w, std::span<const int32_t> ids, int64_t B, int64_t T) {
  CpuForward cpu(w);
  return all_logits(cpu, ids, B, T);
}

std::unique_ptr<VulkanForward> engine(Device& device, const ModelWeights& w, const VulkanForwardOptions& o = {}) {
  auto e = VulkanForward::create(device, w, o);
  EXPECT_TRUE(e.has_value()) << e.error().message;
  return e ? std::move(*e) : nullptr;
}

class FixtureLogits : public ::testing::TestWithParam<const char*> {};

TEST_P(FixtureLogits, MatchTransformersAndCpu) {
  LOWBIT_REQUIRE_SHARED(std::string("models/hf-fixtures/") + GetParam());
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  const Fixture f = load_fixture(GetParam());
  const int64_t T = static_cast<int64_t>(f.ids.size());
  const std::vector<float> cpu = cpu_logits(f.weights, f.ids, 1, T);
  for (auto& device : devices) {
    auto e = engine(*device, f.weights);
    ASSERT_TRUE(e);
    const std::vector<float> got = all_logits(*e, f.ids, 1, T);
    ASSERT_EQ(got.size(), f.logits.size());
    const double vs_reference = max_relative_error(got, f.logits), vs_cpu = max_relative_error(got, cpu);
    std::cout << "  " << GetParam() << " on " << device->info().name
              << ": max |dlogit| / max |logit| = " << vs_reference << " vs transformers, " << vs_cpu << " vs the CPU\n";
    EXPECT_LT(vs_reference, 1e-4);
    EXPECT_LT(vs_cpu, 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(Vulkan, FixtureLogits,
                         ::testing::ValuesIn(test::kFixtureArchitectures), test::FixtureTestName());

// Windows of 20 tokens drawn from the fixture's ids.
std::vector<int32_t> windows_of(const Fixture& f, int64_t B, int64_t T) {
  std::vector<int32_t> ids(static_cast<size_t>(B * T));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = f.ids[(i * 5 + i / 7) % f.ids.size()];
  return ids;
}

TEST(VulkanForward, ConfigVariantsMatchCpu) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  Fixture f = load_fixture("llama-gqa");
  const int64_t B = 2, T = 20;
  const std::vector<int32_t> ids = windows_of(f, B, T);
  struct Variant {
    const char* name;
    int64_t window;
    double partial;
    RopeStyle style;
  };
  for (const Variant v :
       {Variant{"sliding window 6", 6, 1.0, RopeStyle::Neox}, Variant{"partial rotary 0.5", 0, 0.5, RopeStyle::Neox},
        Variant{"interleaved rope", 0, 1.0, RopeStyle::Interleaved}}) {
    f.weights.config.sliding_window = v.window;
    f.weights.config.partial_rotary = v.partial;
    f.weights.config.rope_style = v.style;
    const std::vector<float> cpu = cpu_logits(f.weights, ids, B, T);
    for (auto& device : devices) {
      auto e = engine(*device, f.weights);
      ASSERT_TRUE(e);
      const double err = max_relative_error(all_logits(*e, ids, B, T), cpu);
      std::cout << "  " << v.name << " on " << device->info().name << ": " << err << " vs the CPU\n";
      EXPECT_LT(err, 1e-5) << v.name;
    }
  }
}

TEST(VulkanForward, NllMatchesCpuInChunks) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/qwen2-tied-bias");
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  const Fixture f = load_fixture("qwen2-tied-bias");
  const int64_t B = 3, T = 16, vocab = f.weights.config.vocab;
  const std::vector<int32_t> ids = windows_of(f, B, T);
  CpuForward cpu(f.weights);
  const std::vector<float> cpu_l = all_logits(cpu, ids, B, T);
  for (auto& device : devices)
    for (const uint64_t logits_bytes : {uint64_t{256} << 20, static_cast<uint64_t>(5 * vocab * 4)}) {
      auto e = engine(*device, f.weights, {.max_logits_bytes = logits_bytes});
      ASSERT_TRUE(e);
      EXPECT_LT(max_relative_error(all_logits(*e, ids, B, T), cpu_l), 1e-5) << "head rows of " << logits_bytes;
      for (const int64_t first : {int64_t{0}, T / 2}) {
        const size_t n = static_cast<size_t>(B * (T - 1 - first));
        std::vector<double> want(n), got(n, NAN);
        ASSERT_TRUE(cpu.nll(ids, B, T, first, want).has_value());
        auto ok = e->nll(ids, B, T, first, got);
        ASSERT_TRUE(ok.has_value()) << ok.error().message;
        for (size_t i = 0; i < n; ++i) EXPECT_NEAR(got[i], want[i], 1e-4 * std::max(1.0, want[i])) << "position " << i;
      }
    }
}

TEST(VulkanForward, RejectsOutOfVocabularyIds) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  const Fixture f = load_fixture("llama-gqa");
  auto e = engine(*devices.front(), f.weights);
  ASSERT_TRUE(e);
  const std::vector<int32_t> ids = {1, 2, 5000};
  auto r = e->logits(ids, 1, 3, [](int64_t, std::span<const float>) {});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("5000"), std::string::npos) << r.error().message;
}

TEST(VulkanForward, OutOfDeviceMemoryFailsTheJobOnly) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  const Fixture f = load_fixture("llama-gqa");
  const int64_t B = 2, T = 20;
  const std::vector<int32_t> ids = windows_of(f, B, T);
  for (auto& device : devices) {
    const uint64_t baseline = device->device_bytes_in_use();
    // Too little for the weights: creating the engine fails with a clear error.
    device->set_max_device_bytes(baseline + 64 * 1024);
    auto none = VulkanForward::create(*device, f.weights);
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.error().code, ErrorCode::OutOfMemory);
    EXPECT_NE(none.error().message.find("out of device memory"), std::string::npos) << none.error().message;
    EXPECT_EQ(device->device_bytes_in_use(), baseline);

    // Room for the weights but not for a batch's activations: the job fails, the engine survives.
    device->set_max_device_bytes(0);
    auto e = engine(*device, f.weights);
    ASSERT_TRUE(e);
    device->set_max_device_bytes(device->device_bytes_in_use() + 16 * 1024);
    PplOptions opt;
    opt.ctx = T;
    auto failed = evaluate_perplexity(*e, ids, opt);
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error().code, ErrorCode::OutOfMemory);
    std::cout << "  " << failed.error().message << "\n";

    // The next job on the same device and engine works once memory allows, and matches the CPU.
    device->set_max_device_bytes(0);
    auto ok = evaluate_perplexity(*e, ids, opt);
    ASSERT_TRUE(ok.has_value()) << ok.error().message;
    CpuForward cpu(f.weights);
    auto want = evaluate_perplexity(cpu, ids, opt);
    ASSERT_TRUE(want.has_value());
    EXPECT_NEAR(ok->ppl, want->ppl, 1e-4 * want->ppl);
    e.reset();
    EXPECT_EQ(device->device_bytes_in_use(), baseline) << "device memory not returned";
  }
}

TEST(VulkanForward, KjvPerplexityMatchesCpu) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  auto model = open_model(test::shared_dir() / "models/kjv-llama-8m", true);
  ASSERT_TRUE(model.has_value()) << model.error().message;
  auto text = read_text_file(test::shared_dir() / "data/kjv-valid.txt");
  ASSERT_TRUE(text.has_value());
  auto ids = model->tokenizer->encode(*text, false);
  ASSERT_TRUE(ids.has_value());
  auto w = load_model(*model->checkpoint, model->config);
  ASSERT_TRUE(w.has_value());
  PplOptions opt;
  opt.ctx = 64;
  opt.max_windows = 2;  // lavapipe is slow; the whole text at ctx 256 is measured by hand
  for (const PplMethod method : {PplMethod::Strided, PplMethod::LlamaCpp}) {
    opt.method = method;
    auto cpu = evaluate_perplexity(*w, *ids, opt);
    ASSERT_TRUE(cpu.has_value());
    for (auto& device : devices) {
      auto e = engine(*device, *w);
      ASSERT_TRUE(e);
      auto gpu = evaluate_perplexity(*e, *ids, opt);
      ASSERT_TRUE(gpu.has_value()) << gpu.error().message;
      const double rel = (gpu->ppl - cpu->ppl) / cpu->ppl;
      std::cout << "  kjv-llama-8m " << ppl_method_name(method) << " ctx 64, 2 windows on " << device->info().name
                << ": " << gpu->ppl << " vs CPU " << cpu->ppl << " (rel. diff " << rel << ")\n";
      EXPECT_LT(std::abs(rel), 1e-4);
      EXPECT_EQ(gpu->tokens_scored, cpu->tokens_scored);
    }
  }
}

}  // namespace
}  // namespace lowbit::gpu
