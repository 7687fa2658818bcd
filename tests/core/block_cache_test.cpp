// The resume folder of block-by-block GPTQ and AWQ (core/quant/block_cache.h) on the demo model (4 blocks):
// a run cancelled after two blocks and resumed gives exactly the codes, weights and reports of an
// uninterrupted run; a damaged block file is an error naming it, and leaves the model as it was; a
// run without `resume` clears a stale folder; another run's folder is refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/calib/calibration.h"
#include "core/io/mapped_file.h"
#include "core/model/model.h"
#include "core/quant/block_cache.h"
#include "core/quant/quantize_model.h"
#include "test_support.h"

namespace lowbit {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("lowbit_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

struct Demo {
  ModelWeights weights;
  std::vector<int32_t> windows;
};

std::optional<Demo> load_demo() {
  const fs::path dir = test::source_dir() / "resources" / "demo";
  if (!fs::exists(dir / "model.safetensors")) return std::nullopt;
  auto model = open_model(dir, true);
  if (!model) return std::nullopt;
  auto w = load_model(*model->checkpoint, model->config);
  auto text = read_text_file(dir / "demo-calib.txt");
  if (!w || !text) return std::nullopt;
  auto ids = tokenize_text(*model->tokenizer, *text, false, "demo-calib.txt");
  if (!ids) return std::nullopt;
  CalibOptions co;
  co.samples = 8;
  co.ctx = 64;
  auto windows = draw_windows(*ids, co);
  if (!windows) return std::nullopt;
  return Demo{std::move(*w), std::move(*windows)};
}

QuantizeOptions gptq_options(const fs::path& resume_dir, bool resume, QuantMethod method = QuantMethod::Gptq) {
  QuantizeOptions o;
  o.method = method;
  o.format = *Format::parse("q4_k");
  o.per_tensor["model.layers.1.mlp.down_proj.weight"] = *Format::parse("int3g64a");  // an int-family tensor too
  o.keep_encoded = true;
  o.calib.samples = 8;
  o.calib.ctx = 64;
  o.resume_dir = resume_dir;
  o.resume = resume;
  o.run_id = "block cache test";
  return o;
}

void expect_same(const QuantizeResult& a, const QuantizeResult& b) {
  ASSERT_EQ(a.encoded.size(), b.encoded.size());
  for (const auto& [name, e] : a.encoded) {
    const EncodedTensor& f = b.encoded.at(name);
    EXPECT_EQ(e.format.name(), f.format.name()) << name;
    EXPECT_EQ(e.bytes, f.bytes) << name;
    EXPECT_EQ(e.ints.codes, f.ints.codes) << name;
    ASSERT_EQ(e.ints.grids.size(), f.ints.grids.size()) << name;
    for (size_t i = 0; i < e.ints.grids.size(); ++i) {
      EXPECT_EQ(e.ints.grids[i].scale, f.ints.grids[i].scale) << name;
      EXPECT_EQ(e.ints.grids[i].zero, f.ints.grids[i].zero) << name;
    }
  }
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    EXPECT_EQ(a.layers[i].tensor, b.layers[i].tensor);
    EXPECT_EQ(a.layers[i].output_rel_error, b.layers[i].output_rel_error);
  }
  EXPECT_EQ(a.quantized_weights, b.quantized_weights);
  EXPECT_EQ(a.bits_per_weight, b.bits_per_weight);
}

// AWQ folds its scales into the norms (and v_proj, up_proj): the folder keeps them, and the resumed
// model's norms are the uninterrupted run's.
void cancelled_and_resumed_equals_uninterrupted(QuantMethod method) {
  auto demo = load_demo();
  if (!demo) GTEST_SKIP() << "the demo model (resources/demo) is absent";
  const fs::path dir = fresh_dir("block_cache") / "run.resume";

  ModelWeights whole = demo->weights;
  auto a = quantize_model(whole, gptq_options({}, false, method), demo->windows);
  ASSERT_TRUE(a) << a.error().message;

  // Cancelled once two of the four blocks are done (progress reports each finished block).
  ModelWeights first = demo->weights;
  CancelToken cancel;
  Progress stop([&cancel](const ProgressUpdate& u) {
    if (u.fraction >= 0.5) cancel.cancel();
  });
  auto cut = quantize_model(first, gptq_options(dir, false, method), demo->windows, &stop, &cancel);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, ErrorCode::Cancelled);
  EXPECT_TRUE(fs::exists(dir / "block-00001.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "block-00003.safetensors"));
  // The codes give the weights back, so a block's file holds codes, not fp32 weights.
  uint64_t fp32 = 0;
  for (const LinearRef& r : block_linears(first))
    if (r.block == 0) fp32 += static_cast<uint64_t>(linear_of(first, r).w.size()) * sizeof(float);
  EXPECT_LT(fs::file_size(dir / "block-00000.safetensors"), fp32 / 4);

  ModelWeights resumed = demo->weights;
  auto b = quantize_model(resumed, gptq_options(dir, true, method), demo->windows);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->resumed_blocks, 2);
  expect_same(*a, *b);
  for (const LinearRef& r : block_linears(whole)) EXPECT_TRUE(linear_of(whole, r).w == linear_of(resumed, r).w) << r.tensor;
  for (size_t i = 0; i < whole.blocks.size(); ++i) {
    EXPECT_TRUE(whole.blocks[i].attn_norm == resumed.blocks[i].attn_norm) << "block " << i;
    EXPECT_TRUE(whole.blocks[i].ffn_norm == resumed.blocks[i].ffn_norm) << "block " << i;
  }

  // Resumed once more, every block comes from the folder and the result is still the same.
  ModelWeights again = demo->weights;
  auto c = quantize_model(again, gptq_options(dir, true, method), demo->windows);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->resumed_blocks, 4);
  expect_same(*a, *c);
  fs::remove_all(dir.parent_path());
}

TEST(BlockCache, CancelledAndResumedEqualsUninterrupted) { cancelled_and_resumed_equals_uninterrupted(QuantMethod::Gptq); }
TEST(BlockCache, AwqCancelledAndResumedEqualsUninterrupted) { cancelled_and_resumed_equals_uninterrupted(QuantMethod::Awq); }
TEST(BlockCache, AwqGptqCancelledAndResumedEqualsUninterrupted) { cancelled_and_resumed_equals_uninterrupted(QuantMethod::AwqGptq); }

TEST(BlockCache, DamagedBlocksAndOtherRunsAreErrors) {
  auto demo = load_demo();
  if (!demo) GTEST_SKIP() << "the demo model (resources/demo) is absent";
  const fs::path dir = fresh_dir("block_cache_bad") / "run.resume";
  ModelWeights w = demo->weights;
  ASSERT_TRUE(quantize_model(w, gptq_options(dir, false), demo->windows));

  // A truncated block: the error names the file.
  const fs::path block = dir / "block-00002.safetensors";
  fs::resize_file(block, fs::file_size(block) / 2);
  ModelWeights x = demo->weights;
  auto r = quantize_model(x, gptq_options(dir, true), demo->windows);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("block-00002.safetensors"), std::string::npos) << r.error().message;

  // Another run's folder (other calibration windows) is refused with --resume ...
  std::vector<int32_t> other = demo->windows;
  other[3] ^= 1;
  ModelWeights y = demo->weights;
  auto o = quantize_model(y, gptq_options(dir, true), other);
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().message.find("belongs to another run"), std::string::npos) << o.error().message;

  // ... and cleared without it.
  ModelWeights z = demo->weights;
  auto fresh = quantize_model(z, gptq_options(dir, false), other);
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_EQ(fresh->resumed_blocks, 0);
  EXPECT_TRUE(fs::exists(dir / "block-00003.safetensors"));

  // Methods other than GPTQ keep no folder.
  QuantizeOptions rtn = gptq_options(dir, false);
  rtn.method = QuantMethod::Rtn;
  EXPECT_EQ(rtn.validate().error().code, ErrorCode::Unsupported);
  fs::remove_all(dir.parent_path());
}

}  // namespace
}  // namespace lowbit
