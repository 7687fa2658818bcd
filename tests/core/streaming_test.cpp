// Streaming (issue 8): a model loaded without its blocks, each block loaded when the quantizer needs
// it and freed when it is written, gives byte for byte the files of the resident pipeline — GGUF and
// GPTQ, RTN and GPTQ, for every architecture's tensor layout (fused qkv / gate_up, Conv1D, biases,
// q/k norms, tied head) — and a stream dropped half way leaves nothing behind.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "core/calib/analyze.h"
#include "core/calib/calibration.h"
#include "core/export/estimate.h"
#include "core/export/export_layout.h"
#include "core/eval/perplexity.h"
#include "core/export/gguf_export.h"
#include "core/export/gptq_checkpoint.h"
#include "core/model/model.h"
#include "core/quant/quantize_model.h"
#include "test_support.h"

namespace lowbit {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  const auto dir = fs::temp_directory_path() / ("lowbit_streaming_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Job {
  QuantizeOptions options;
  std::string to;  // gguf | gptq
  std::vector<int32_t> calib;
};

// The resident pipeline: every block in memory, quantized, then exported.
void export_resident(const Model& model, const Job& run, const fs::path& out) {
  auto w = load_model(*model.checkpoint, model.config);
  ASSERT_TRUE(w) << w.error().message;
  QuantizeOptions o = run.options;
  o.keep_encoded = true;
  auto r = quantize_model(*w, o, run.calib);
  ASSERT_TRUE(r) << r.error().message;
  if (run.to == "gguf") {
    auto x = export_gguf(model, *w, r->encoded, out);
    ASSERT_TRUE(x) << x.error().message;
  } else {
    auto x = export_gptq(model, *w, r->encoded, out);
    ASSERT_TRUE(x) << x.error().message;
  }
}

// The streaming pipeline, as `lowbit quantize --out` runs it; `max_loaded` records how many blocks
// were ever in memory at once.
void export_streamed(const Model& model, const Job& run, const fs::path& out, int64_t& max_loaded) {
  auto w = load_model(*model.checkpoint, model.config, nullptr, false);
  ASSERT_TRUE(w) << w.error().message;
  for (int64_t b = 0; b < model.config.n_layers; ++b) ASSERT_FALSE(block_loaded(*w, b));
  QuantizeOptions o = run.options;
  o.keep_encoded = true;
  const auto formats = planned_formats(*w, o);
  std::optional<GgufStream> gguf;
  std::optional<GptqStream> gptq;
  if (run.to == "gguf") {
    auto s = GgufStream::begin(model, *w, formats, out);
    ASSERT_TRUE(s) << s.error().message;
    gguf.emplace(std::move(*s));
  } else {
    auto s = GptqStream::begin(model, *w, formats, out);
    ASSERT_TRUE(s) << s.error().message;
    gptq.emplace(std::move(*s));
  }
  max_loaded = 0;
  o.stream = stream_blocks(*model.checkpoint, *w, [&](int64_t b, const EncodedTensors& enc) -> Expected<void> {
    int64_t loaded = 0;
    for (int64_t i = 0; i < model.config.n_layers; ++i) loaded += block_loaded(*w, i);
    max_loaded = std::max(max_loaded, loaded);
    return gguf ? gguf->write_block(b, enc) : gptq->write_block(b, enc);
  });
  auto r = quantize_model(*w, o, run.calib);
  ASSERT_TRUE(r) << r.error().message;
  for (int64_t b = 0; b < model.config.n_layers; ++b) EXPECT_FALSE(block_loaded(*w, b)) << "block " << b << " was not freed";
  if (gguf) {
    auto x = gguf->finish(r->encoded);
    ASSERT_TRUE(x) << x.error().message;
  } else {
    auto x = gptq->finish(r->encoded);
    ASSERT_TRUE(x) << x.error().message;
  }
}

void expect_same_files(const std::string& model_rel, const Job& run, const std::string& tag) {
  auto model = open_model(test::shared_dir() / model_rel, fs::exists(test::shared_dir() / model_rel / "tokenizer.json"));
  ASSERT_TRUE(model) << model.error().message;
  const fs::path dir = temp_dir();
  const fs::path a = dir / (tag + "-resident" + (run.to == "gguf" ? ".gguf" : ""));
  const fs::path b = dir / (tag + "-streamed" + (run.to == "gguf" ? ".gguf" : ""));
  fs::remove_all(a);
  fs::remove_all(b);
  export_resident(*model, run, a);
  int64_t max_loaded = 0;
  export_streamed(*model, run, b, max_loaded);
  EXPECT_EQ(max_loaded, 1) << "a streaming run holds one block at a time";
  const fs::path fa = run.to == "gguf" ? a : a / "model.safetensors";
  const fs::path fb = run.to == "gguf" ? b : b / "model.safetensors";
  ASSERT_TRUE(fs::exists(fa) && fs::exists(fb));
  const std::string da = read_file(fa), db = read_file(fb);
  EXPECT_GT(da.size(), 0u);
  EXPECT_TRUE(da == db) << tag << ": the streamed file differs from the resident one (" << da.size() << " vs " << db.size() << " bytes)";
  if (run.to == "gptq") {
    EXPECT_EQ(read_file(a / "config.json"), read_file(b / "config.json"));
  }
  fs::remove_all(a);
  fs::remove_all(b);
}

Job rtn(const std::string& format, const std::string& to, bool embeddings = false) {
  Job r;
  r.options.method = QuantMethod::Rtn;
  r.options.format = *Format::parse(format);
  r.options.quantize_embeddings = embeddings;
  r.options.fp16_scales = to == "gptq";
  r.to = to;
  return r;
}

TEST(Streaming, RtnGgufOfEveryArchitectureIsTheResidentFile) {
  for (const std::string arch : {"llama-gqa", "mistral", "phi3-fused", "qwen2-tied-bias", "qwen3-qknorm", "gpt2"}) {
    LOWBIT_REQUIRE_SHARED("models/hf-fixtures/" + arch);
    SCOPED_TRACE(arch);
    expect_same_files("models/hf-fixtures/" + arch, rtn("q8_0", "gguf"), arch);
  }
}

TEST(Streaming, RtnGptqFolderOfEveryArchitectureIsTheResidentOne) {
  for (const std::string arch : {"llama-gqa", "phi3-fused", "qwen2-tied-bias", "gpt2"}) {
    LOWBIT_REQUIRE_SHARED("models/hf-fixtures/" + arch);
    SCOPED_TRACE(arch);
    expect_same_files("models/hf-fixtures/" + arch, rtn("int4g32a", "gptq"), arch);
  }
}

// A calibrated job on kjv-llama-8m: 4 windows of 64 tokens of kjv-train.
std::optional<Job> calibrated(QuantMethod method, const std::string& format, const std::string& to) {
  auto model = open_model(test::shared_dir() / "models/kjv-llama-8m", true);
  if (!model) return std::nullopt;
  Job g;
  g.options.method = method;
  g.options.format = *Format::parse(format);
  g.options.fp16_scales = to == "gptq";
  g.options.calib.samples = 4;
  g.options.calib.ctx = 64;
  auto windows = calibration_windows(*model->tokenizer, (test::shared_dir() / "data/kjv-train.txt").string(), g.options.calib);
  if (!windows) return std::nullopt;
  g.calib = *windows;
  g.to = to;
  return g;
}

TEST(Streaming, GptqAndQuantizedEmbeddingsOnTheSmallLlama) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  LOWBIT_REQUIRE_SHARED("data/kjv-train.txt");
  const auto g = calibrated(QuantMethod::Gptq, "int4g128a", "gptq");
  ASSERT_TRUE(g);
  expect_same_files("models/kjv-llama-8m", *g, "gptq");
  expect_same_files("models/kjv-llama-8m", rtn("q4_k", "gguf", true), "q4k-embeddings");
}

// AWQ folds its scales into the block's norms and v/up rows: all of it in the block, so each block
// is final, and written, once its layers are quantized.
TEST(Streaming, AwqAndAwqGptqOnTheSmallLlama) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  LOWBIT_REQUIRE_SHARED("data/kjv-train.txt");
  const auto a = calibrated(QuantMethod::Awq, "int4g128a", "gptq");
  const auto b = calibrated(QuantMethod::AwqGptq, "q4_k", "gguf");
  ASSERT_TRUE(a && b);
  expect_same_files("models/kjv-llama-8m", *a, "awq");
  expect_same_files("models/kjv-llama-8m", *b, "awq-gptq");
}

TEST(Streaming, AnalysisStreamedBlockByBlockIsTheResidentOne) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  LOWBIT_REQUIRE_SHARED("data/kjv-train.txt");
  auto model = open_model(test::shared_dir() / "models/kjv-llama-8m", true);
  ASSERT_TRUE(model) << model.error().message;
  const AnalyzeInfo info{"kjv-llama-8m", "kjv-train.txt", {4, 64, 0}};
  auto windows = calibration_windows(*model->tokenizer, (test::shared_dir() / "data/kjv-train.txt").string(), info.calib);
  ASSERT_TRUE(windows) << windows.error().message;
  const fs::path a = temp_dir() / "analysis-resident", b = temp_dir() / "analysis-streamed";
  auto all = load_model(*model->checkpoint, model->config);
  ASSERT_TRUE(all);
  ASSERT_TRUE(analyze_to_folder(*all, *windows, info, a));
  auto some = load_model(*model->checkpoint, model->config, nullptr, false);
  ASSERT_TRUE(some);
  int64_t max_loaded = 0;
  BlockHooks hooks;
  hooks.before = [&](int64_t blk) -> Expected<void> {
    if (blk == 0) release_model_wide(*some);
    LB_TRY_VOID(load_block(*model->checkpoint, *some, blk));
    int64_t loaded = 0;
    for (int64_t i = 0; i < model->config.n_layers; ++i) loaded += block_loaded(*some, i);
    max_loaded = std::max(max_loaded, loaded);
    return {};
  };
  hooks.after = [&](int64_t blk) -> Expected<void> {
    release_block(*some, blk);
    return {};
  };
  ASSERT_TRUE(analyze_to_folder(*some, *windows, info, b, nullptr, nullptr, hooks));
  EXPECT_EQ(max_loaded, 1);
  EXPECT_TRUE(read_file(a / "stats.safetensors") == read_file(b / "stats.safetensors"));
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(Streaming, AStreamDroppedHalfWayLeavesNothing) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  auto model = open_model(test::shared_dir() / "models/hf-fixtures/llama-gqa", false);
  ASSERT_TRUE(model) << model.error().message;
  auto w = load_model(*model->checkpoint, model->config, nullptr, false);
  ASSERT_TRUE(w) << w.error().message;
  QuantizeOptions o;
  o.format = *Format::parse("q8_0");
  o.keep_encoded = true;
  const fs::path out = temp_dir() / "dropped.gguf";
  fs::remove(out);
  {
    auto s = GgufStream::begin(*model, *w, planned_formats(*w, o), out);
    ASSERT_TRUE(s) << s.error().message;
    o.stream = stream_blocks(*model->checkpoint, *w, [&](int64_t b, const EncodedTensors& enc) -> Expected<void> {
      LB_TRY_VOID(s->write_block(b, enc));
      if (b == 0) return make_error(ErrorCode::Cancelled, "stopped after block 0");
      return {};
    });
    auto r = quantize_model(*w, o, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::Cancelled);
    EXPECT_FALSE(s->finish({}));  // blocks missing: refused, names what is missing
  }
  EXPECT_FALSE(fs::exists(out));
  fs::path partial = out;
  partial += ".partial";
  EXPECT_FALSE(fs::exists(partial));
}

TEST(Streaming, AFolderLeftByAKilledRunIsRemovedByTheNextOne) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  auto model = open_model(test::shared_dir() / "models/hf-fixtures/llama-gqa", false);
  ASSERT_TRUE(model) << model.error().message;
  auto w = load_model(*model->checkpoint, model->config, nullptr, false);
  ASSERT_TRUE(w) << w.error().message;
  const pid_t gone = ::fork();  // a process id that is surely not running any more
  if (gone == 0) ::_exit(0);
  ASSERT_GT(gone, 0);
  ::waitpid(gone, nullptr, 0);
  const fs::path dir = temp_dir() / "stale";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path stale = dir / (".out.lowbit-partial-" + std::to_string(gone));
  const fs::path alive = dir / (".out.lowbit-partial-" + std::to_string(::getppid()));
  fs::create_directories(stale);
  fs::create_directories(alive);
  QuantizeOptions o;
  o.format = *Format::parse("int4g32a");
  {
    auto s = GptqStream::begin(*model, *w, planned_formats(*w, o), dir / "out");
    ASSERT_TRUE(s) << s.error().message;
  }
  EXPECT_FALSE(fs::exists(stale)) << "the dead run's folder stays";
  EXPECT_TRUE(fs::exists(alive)) << "a running process's folder was removed";
  fs::remove_all(dir);
}

TEST(Streaming, BlocksLoadedOneByOneEqualTheResidentModel) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/phi3-fused");
  auto model = open_model(test::shared_dir() / "models/hf-fixtures/phi3-fused", false);
  ASSERT_TRUE(model) << model.error().message;
  auto all = load_model(*model->checkpoint, model->config);
  auto some = load_model(*model->checkpoint, model->config, nullptr, false);
  ASSERT_TRUE(all && some);
  EXPECT_EQ(all->tok_embd, some->tok_embd);
  for (int64_t b = 0; b < model->config.n_layers; ++b) {
    ASSERT_TRUE(load_block(*model->checkpoint, *some, b));
    const DecoderBlock &x = all->blocks[static_cast<size_t>(b)], &y = some->blocks[static_cast<size_t>(b)];
    EXPECT_EQ(x.q.w, y.q.w);
    EXPECT_EQ(x.k.w, y.k.w);
    EXPECT_EQ(x.gate.w, y.gate.w);
    EXPECT_EQ(x.down.w, y.down.w);
    EXPECT_EQ(x.attn_norm, y.attn_norm);
    release_block(*some, b);
    EXPECT_FALSE(block_loaded(*some, b));
  }
  EXPECT_FALSE(load_block(*model->checkpoint, *some, model->config.n_layers));
}

}  // namespace
}  // namespace lowbit

namespace lowbit {
namespace {

// The studio's export resumes on its own: an export of a GPTQ layout interrupted after some blocks
// leaves them in its resume folder, and the next export of the same run to the same path takes them
// and writes the uninterrupted file byte for byte; another layout finds the folder, clears it and
// starts afresh instead of failing.
TEST(Streaming, LayoutExportResumesTheSameRunAndClearsAnothersFolder) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  LOWBIT_REQUIRE_SHARED("data/kjv-train.txt");
  auto model = open_model(test::shared_dir() / "models/kjv-llama-8m", true);
  ASSERT_TRUE(model) << model.error().message;
  auto w = load_model(*model->checkpoint, model->config, nullptr, false);
  ASSERT_TRUE(w) << w.error().message;
  LayoutExportOptions xo;
  xo.to = ExportTarget::Gptq;
  xo.calib.samples = 4;
  xo.calib.ctx = 64;
  auto windows = calibration_windows(*model->tokenizer, (test::shared_dir() / "data/kjv-train.txt").string(), xo.calib);
  ASSERT_TRUE(windows) << windows.error().message;
  const Layout layout = Layout::uniform(*w, *Format::parse("int4g128a"), QuantMethod::Gptq, false);
  const fs::path dir = temp_dir() / "resume-export", whole = dir / "whole", out = dir / "resumed";
  fs::remove_all(dir);
  auto plain = export_layout_streamed(*model, layout, whole, *windows, xo);
  ASSERT_TRUE(plain) << plain.error().message;

  LayoutExportOptions ro = xo;
  ro.resume_dir = dir / "resumed.resume";
  ro.run_id = "model kjv;layout int4g128a gptq";
  CancelToken cancel;
  Progress halfway([&](const ProgressUpdate& u) {
    if (u.fraction > 0.5) cancel.cancel();
  });
  auto cut = export_layout_streamed(*model, layout, out, *windows, ro, &halfway, &cancel);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, ErrorCode::Cancelled);
  EXPECT_FALSE(fs::exists(out)) << "an interrupted export leaves no output";
  ASSERT_TRUE(fs::exists(ro.resume_dir / "run.json"));
  auto resumed = export_layout_streamed(*model, layout, out, *windows, ro);
  ASSERT_TRUE(resumed) << resumed.error().message;
  EXPECT_GT(resumed->quantized.resumed_blocks, 0);
  EXPECT_LT(resumed->quantized.resumed_blocks, model->config.n_layers);
  EXPECT_TRUE(read_file(whole / "model.safetensors") == read_file(out / "model.safetensors"));

  // Another layout to the same path, the first run's folder still there: cleared, not an error.
  const Layout other = Layout::uniform(*w, *Format::parse("int3g128a"), QuantMethod::Gptq, false);
  LayoutExportOptions oo = ro;
  oo.run_id = "model kjv;layout int3g128a gptq";
  fs::remove_all(out);
  auto fresh = export_layout_streamed(*model, other, out, *windows, oo);
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_EQ(fresh->quantized.resumed_blocks, 0);
  fs::remove_all(dir);
}

// The studio's export (export_layout_streamed) writes the file export_layout writes from a resident
// model, and its estimate (core/export/estimate.h) names that file's size exactly.
TEST(Streaming, LayoutExportStreamedIsTheResidentOneAndItsEstimateIsExact) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  LOWBIT_REQUIRE_SHARED("data/kjv-train.txt");
  auto model = open_model(test::shared_dir() / "models/kjv-llama-8m", true);
  ASSERT_TRUE(model) << model.error().message;
  auto w = load_model(*model->checkpoint, model->config);
  ASSERT_TRUE(w) << w.error().message;
  const fs::path dir = temp_dir();
  struct Case {
    QuantMethod method;
    const char* format;
    ExportTarget to;
  };
  for (const Case c : {Case{QuantMethod::Rtn, "q4_k", ExportTarget::Gguf}, Case{QuantMethod::Gptq, "int4g128a", ExportTarget::Gptq}}) {
    SCOPED_TRACE(quant_method_name(c.method));
    const Layout layout = Layout::uniform(*w, *Format::parse(c.format), c.method, c.method == QuantMethod::Rtn);
    LayoutExportOptions xo;
    xo.to = c.to;
    xo.calib.samples = 4;
    xo.calib.ctx = 64;
    std::vector<int32_t> windows;
    if (c.method != QuantMethod::Rtn) {
      auto drawn = calibration_windows(*model->tokenizer, (test::shared_dir() / "data/kjv-train.txt").string(), xo.calib);
      ASSERT_TRUE(drawn) << drawn.error().message;
      windows = *drawn;
    }
    const bool gguf = c.to == ExportTarget::Gguf;
    const fs::path a = dir / (gguf ? "resident.gguf" : "resident"), b = dir / (gguf ? "streamed.gguf" : "streamed");
    fs::remove_all(a);
    fs::remove_all(b);
    auto ra = export_layout(*model, *w, layout, a, windows, xo);
    ASSERT_TRUE(ra) << ra.error().message;
    auto rb = export_layout_streamed(*model, layout, b, windows, xo);
    ASSERT_TRUE(rb) << rb.error().message;
    const fs::path fa = gguf ? a : a / "model.safetensors", fb = gguf ? b : b / "model.safetensors";
    const std::string da = read_file(fa), db = read_file(fb);
    EXPECT_GT(da.size(), 0u);
    EXPECT_TRUE(da == db) << "the streamed export differs from the resident one";
    EXPECT_EQ(ra->bytes, rb->bytes);

    auto e = estimate_layout_export(*model, layout, windows, xo);
    ASSERT_TRUE(e) << e.error().message;
    ASSERT_TRUE(e->bytes.has_value());
    EXPECT_EQ(*e->bytes, fs::file_size(fb));
    EXPECT_TRUE(e->streamed);
    EXPECT_EQ(e->blocks, model->config.n_layers);
    EXPECT_GT(e->block_seconds, 0.0);
    EXPECT_GT(e->peak_rss_mb, 0.0);
    fs::remove_all(a);
    fs::remove_all(b);
  }
  // CBQ's windows of blocks do not stream: the whole model is loaded and the run probed on its
  // progress (one window into the next); nothing is written (the CLI test
  // CliQuantize.DryRunOfAResidentMethodProbesItsProgress compares the size with the written file).
  const Layout cbq = Layout::uniform(*w, *Format::parse("int4g128a"), QuantMethod::Cbq, false);
  LayoutExportOptions xo;
  xo.to = ExportTarget::Gptq;
  xo.calib.samples = 4;
  xo.calib.ctx = 64;
  auto windows = calibration_windows(*model->tokenizer, (test::shared_dir() / "data/kjv-train.txt").string(), xo.calib);
  ASSERT_TRUE(windows) << windows.error().message;
  auto e = estimate_layout_export(*model, cbq, *windows, xo);
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_FALSE(e->streamed);
  EXPECT_GT(e->probed_fraction, 0.0);
  EXPECT_GT(e->seconds, 0.0);
  ASSERT_TRUE(e->bytes.has_value());
  EXPECT_GT(*e->bytes, 0u);
  EXPECT_TRUE(fs::is_empty(dir));
}

}  // namespace
}  // namespace lowbit

namespace lowbit {
namespace {

// StreamedCpuForward (core/eval/forward_backend.h) reads each block for every call and frees it: its
// perplexity is CpuForward's to the last bit, with no block left in memory.
TEST(Streaming, PerplexityStreamedBlockByBlockIsTheResidentOne) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  LOWBIT_REQUIRE_SHARED("data/kjv-valid.txt");
  auto model = open_model(test::shared_dir() / "models/kjv-llama-8m", true);
  ASSERT_TRUE(model) << model.error().message;
  auto ids = tokenize_file(*model->tokenizer, (test::shared_dir() / "data/kjv-valid.txt").string());
  ASSERT_TRUE(ids) << ids.error().message;
  auto w = load_model(*model->checkpoint, model->config);
  auto skeleton = load_model(*model->checkpoint, model->config, nullptr, false);
  ASSERT_TRUE(w && skeleton);
  PplOptions o;
  o.ctx = 128;
  o.max_windows = 12;
  o.batch_windows = 4;
  CpuForward resident(*w);
  StreamedCpuForward streamed(*model->checkpoint, *skeleton);
  auto a = evaluate_perplexity(resident, *ids, o);
  auto b = evaluate_perplexity(streamed, *ids, o);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->ppl, b->ppl);
  EXPECT_EQ(a->tokens_scored, b->tokens_scored);
  for (int64_t i = 0; i < model->config.n_layers; ++i) EXPECT_FALSE(block_loaded(*skeleton, i));
  EXPECT_EQ(streamed.name(), "cpu");
}

}  // namespace
}  // namespace lowbit
