// GGUF export: the writer round-trips through our reader; RTN into a ggml type with embeddings
// reproduces llama-quantize --pure's files tensor for tensor (names, shapes, types, bytes, the q/k row
// reordering) and the converter's metadata; a mixed GPTQ layout exported and read back evaluates to
// the in-memory model's figures; the tokenizer written as tokenizer.ggml.* tokenizes as the source.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/calib/calibration.h"
#include "core/eval/perplexity.h"
#include "core/export/gguf_export.h"
#include "core/export/gguf_vocab.h"
#include "core/io/gguf.h"
#include "core/io/gguf_writer.h"
#include "core/model/forward.h"
#include "core/model/model.h"
#include "core/plan/layout.h"
#include "core/quant/quantize_model.h"
#include "test_support.h"

namespace lowbit {
namespace {

std::filesystem::path temp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("lowbit_gguf_export_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const TensorInfo* find_tensor(const GgufFile& g, const std::string& name) {
  for (const auto& t : g.tensors())
    if (t.name == name) return &t;
  return nullptr;
}

TEST(GgufWriter, RoundTripsMetadataAndTensorsThroughTheReader) {
  GgufMetadata md;
  md.set_string("general.architecture", "llama");
  md.set_u32("x.u32", 7);
  md.set_i32("x.i32", -3);
  md.set_f32("x.f32", 0.5f);
  md.set_bool("x.bool", true);
  md.set_strings("x.strs", {"a", "", "ü"});
  md.set_i32s("x.ints", {1, -2, 3});
  md.set_f32s("x.floats", {0.25, -1.5});
  md.set_u32("x.u32", 8);  // replaces, keeps its place
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<uint8_t> q(dtype_bytes(DType::Q8_0, 64), 0);
  q[0] = 0x3c;  // fp16 1.0 low byte... any bytes survive verbatim
  const auto path = temp_path("writer.gguf");
  {
    auto w = GgufWriter::create(path, md, {{"a", DType::F32, {2, 3}}, {"q", DType::Q8_0, {2, 32}}});
    ASSERT_TRUE(w) << w.error().message;
    EXPECT_FALSE(w->finish());  // nothing written yet
    ASSERT_TRUE(w->write("q", q));  // any order: the file is the same
    EXPECT_FALSE(w->write("q", q));  // each once
    EXPECT_FALSE(w->write("b", q));  // not declared
    ASSERT_TRUE(w->write("a", {reinterpret_cast<const uint8_t*>(a.data()), a.size() * 4}));
    auto size = w->finish();
    ASSERT_TRUE(size) << size.error().message;
    EXPECT_EQ(*size, w->file_size());
  }
  auto g = GgufFile::open(path);
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ((*g)->version(), 3u);
  ASSERT_EQ((*g)->metadata().size(), 8u);
  EXPECT_EQ((*g)->metadata()[1].first, "x.u32");
  EXPECT_EQ((*g)->get_int("x.u32"), 8);
  EXPECT_EQ((*g)->get_int("x.i32"), -3);
  EXPECT_EQ((*g)->get_float("x.f32"), 0.5);
  EXPECT_EQ((*g)->get_int("x.bool"), 1);
  EXPECT_EQ((*g)->find("x.strs")->strs, (std::vector<std::string>{"a", "", "ü"}));
  EXPECT_EQ((*g)->find("x.ints")->ints, (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ((*g)->find("x.floats")->floats, (std::vector<double>{0.25, -1.5}));
  const TensorInfo* ta = find_tensor(**g, "a");
  ASSERT_TRUE(ta);
  EXPECT_EQ(ta->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(ta->data, a.data(), 24), 0);
  const TensorInfo* tq = find_tensor(**g, "q");
  ASSERT_TRUE(tq);
  EXPECT_EQ(tq->dtype, DType::Q8_0);
  EXPECT_EQ(std::memcmp(tq->data, q.data(), q.size()), 0);
}

TEST(GgufWriter, AnUnfinishedFileLeavesNothingAndBadDeclarationsAreRefused) {
  const auto path = temp_path("unfinished.gguf");
  std::filesystem::remove(path);
  {
    auto w = GgufWriter::create(path, {}, {{"a", DType::F32, {4}}});
    ASSERT_TRUE(w);
  }  // dropped without finish(), as a cancelled export
  EXPECT_FALSE(std::filesystem::exists(path));
  auto p = path;
  p += ".partial";
  EXPECT_FALSE(std::filesystem::exists(p));
  EXPECT_FALSE(GgufWriter::create(path, {}, {{"a", DType::Q4_K, {2, 100}}}));  // rows not whole blocks
  EXPECT_FALSE(GgufWriter::create(path, {}, {{"a", DType::F32, {4}}, {"a", DType::F32, {4}}}));
  EXPECT_FALSE(GgufWriter::create(path, {}, {{"a", DType::F32, {0}}}));
}

// RTN of every 2-D tensor into `type` (llama-quantize --pure) and export.
Expected<GgufExportReport> export_pure(const Model& model, ModelWeights& w, const Format& f, const std::filesystem::path& out) {
  QuantizeOptions o;
  o.format = f;
  o.quantize_embeddings = true;
  o.keep_encoded = true;
  LB_TRY_ASSIGN(QuantizeResult r, quantize_model(w, o, {}));
  return export_gguf(model, w, r.encoded, out);
}

class PureExport : public ::testing::TestWithParam<const char*> {};

TEST_P(PureExport, MatchesLlamaQuantizeTensorForTensor) {
  const std::string type = GetParam();
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m/config.json");
  const std::string ref_rel = "models/kjv-llama-8m-gguf/kjv-llama-8m-" + type + "-pure.gguf";
  LOWBIT_REQUIRE_SHARED(ref_rel);
  auto model = open_model(test::shared_dir() / "models/kjv-llama-8m", true);
  ASSERT_TRUE(model) << model.error().message;
  auto w = load_model(*model->checkpoint, model->config);
  ASSERT_TRUE(w);
  const auto out = temp_path("pure-" + type + ".gguf");
  auto rep = export_pure(*model, *w, *Format::parse(type), out);
  ASSERT_TRUE(rep) << rep.error().message;
  auto ours = GgufFile::open(out);
  auto ref = GgufFile::open(test::shared_dir() / ref_rel);
  ASSERT_TRUE(ours && ref);
  // Every key of llama.cpp's file but the converter's naming heuristics, with equal values.
  for (const auto& [key, v] : (*ref)->metadata()) {
    if (key == "general.name" || key == "general.basename" || key == "general.size_label") continue;
    const GgufValue* o = (*ours)->find(key);
    ASSERT_TRUE(o) << key;
    EXPECT_EQ(o->type, v.type) << key;
    EXPECT_EQ(o->s, v.s) << key;
    EXPECT_EQ(o->u, v.u) << key;
    EXPECT_EQ(o->i, v.i) << key;
    EXPECT_FLOAT_EQ(static_cast<float>(o->f), static_cast<float>(v.f)) << key;
    EXPECT_EQ(o->strs, v.strs) << key;
    EXPECT_EQ(o->ints, v.ints) << key;
  }
  EXPECT_EQ((*ours)->tensors().size(), (*ref)->tensors().size());
  for (const auto& t : (*ref)->tensors()) {
    const TensorInfo* o = find_tensor(**ours, t.name);
    ASSERT_TRUE(o) << t.name;
    EXPECT_EQ(o->dtype, t.dtype) << t.name;
    EXPECT_EQ(o->shape, t.shape) << t.name;
    ASSERT_EQ(o->nbytes, t.nbytes) << t.name;
    EXPECT_EQ(std::memcmp(o->data, t.data, t.nbytes), 0) << t.name << " differs";
  }
  EXPECT_EQ(rep->file_type, static_cast<uint32_t>(*(*ref)->get_int("general.file_type")));
}

INSTANTIATE_TEST_SUITE_P(Types, PureExport, ::testing::Values("q4_0", "q6_k"));

// Logits of a few windows, for comparing two models.
std::vector<float> logits_of(const ModelWeights& w, const std::vector<int32_t>& tokens, int64_t B, int64_t T) {
  std::vector<float> out;
  auto ok = forward_windows(w, tokens, B, T, [&](int64_t, const MatrixRM& l) { out.insert(out.end(), l.data(), l.data() + l.size()); });
  EXPECT_TRUE(ok);
  return out;
}

double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0, d = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    m = std::max(m, static_cast<double>(std::abs(a[i])));
    d = std::max(d, static_cast<double>(std::abs(a[i] - b[i])));
  }
  return m > 0 ? d / m : d;
}

TEST(GgufExport, MixedGptqLayoutReadsBackWithTheInMemoryPerplexity) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m/config.json");
  LOWBIT_REQUIRE_SHARED("data/kjv-valid.txt");
  auto model = open_model(test::shared_dir() / "models/kjv-llama-8m", true);
  ASSERT_TRUE(model);
  auto w = load_model(*model->checkpoint, model->config);
  ASSERT_TRUE(w);
  // A mixed layout: every block linear by part, embeddings q8_0, head q6_k.
  Layout layout;
  layout.method = QuantMethod::Gptq;
  for (const LinearRef& r : block_linears(*w)) {
    const std::string part = slot_name(r.slot);
    layout.tensors[r.tensor] = *Format::parse(part == "v" || part == "down" ? "q5_k" : part == "gate" || part == "up" ? "q3_k" : "q4_k");
  }
  layout.tensors[w->names.tok_embd] = *Format::parse("q8_0");
  layout.tensors[w->names.lm_head] = *Format::parse("q6_k");
  ASSERT_TRUE(layout.validate(*w));
  QuantizeOptions o = layout.options(*w);
  o.keep_encoded = true;
  o.calib.samples = 8;
  o.calib.ctx = 128;
  const std::string text = read_file(test::shared_dir() / "data/kjv-valid.txt");
  auto ids = model->tokenizer->encode(text, false);
  ASSERT_TRUE(ids);
  auto windows = draw_windows(*ids, o.calib);
  ASSERT_TRUE(windows);
  auto q = quantize_model(*w, o, *windows);
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->encoded.size(), layout.tensors.size());
  const auto out = temp_path("mixed.gguf");
  auto rep = export_gguf(*model, *w, q->encoded, out);
  ASSERT_TRUE(rep) << rep.error().message;
  EXPECT_EQ(rep->bytes, std::filesystem::file_size(out));
  EXPECT_EQ(rep->file_type, 12u);  // mostly q3_k

  auto back = open_model(out, true);
  ASSERT_TRUE(back) << back.error().message;
  auto wb = load_model(*back->checkpoint, back->config);
  ASSERT_TRUE(wb) << wb.error().message;
  // The file's tokenizer gives the same ids.
  const std::string head = text.substr(0, 4000);
  EXPECT_EQ(*back->tokenizer->encode(head, false), *model->tokenizer->encode(head, false));
  PplOptions po;
  po.ctx = 256;
  po.max_windows = 8;
  auto a = evaluate_perplexity(*w, *ids, po);
  auto b = evaluate_perplexity(*wb, *ids, po);
  ASSERT_TRUE(a && b);
  EXPECT_NEAR(b->ppl / a->ppl, 1.0, 1e-4) << a->ppl << " in memory vs " << b->ppl << " from the file";
}

TEST(GgufExport, Qwen2AndLlamaFixturesReadBackWithEqualLogits) {
  for (const char* name : {"qwen2-tied-bias", "llama-gqa"}) {
    const std::string rel = std::string("models/hf-fixtures/") + name;
    LOWBIT_REQUIRE_SHARED(rel + "/config.json");
    auto model = open_model(test::shared_dir() / rel, false);
    ASSERT_TRUE(model);
    auto w = load_model(*model->checkpoint, model->config);
    ASSERT_TRUE(w);
    const int64_t cols = w->blocks[0].q.w.cols();
    const Format f = *Format::parse(cols % 256 == 0 ? "q4_k" : "q8_0");
    const auto out = temp_path(std::string(name) + ".gguf");
    auto rep = export_pure(*model, *w, f, out);
    ASSERT_TRUE(rep) << name << ": " << rep.error().message;
    EXPECT_FALSE(rep->warnings.empty());  // no tokenizer in the fixture: said so
    auto back = open_model(out, false);
    ASSERT_TRUE(back) << back.error().message;
    auto wb = load_model(*back->checkpoint, back->config);
    ASSERT_TRUE(wb) << wb.error().message;
    std::vector<int32_t> tokens(2 * 16);
    for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>((i * 37 + 5) % static_cast<size_t>(w->config.vocab));
    EXPECT_LT(max_rel_diff(logits_of(*w, tokens, 2, 16), logits_of(*wb, tokens, 2, 16)), 1e-5) << name;
  }
}

TEST(GgufExport, EveryFixtureArchitectureExportsWithLlamaCppNames) {
  const std::map<std::string, std::vector<std::string>> expect = {
      {"phi3-fused", {"blk.0.attn_qkv.weight", "blk.0.ffn_up.weight", "blk.0.attn_output.weight"}},
      {"qwen3-qknorm", {"blk.0.attn_q_norm.weight", "blk.0.attn_k_norm.weight", "blk.0.attn_q.weight"}},
      {"gpt2", {"position_embd.weight", "blk.0.attn_qkv.weight", "blk.0.attn_qkv.bias", "blk.0.attn_norm.bias"}},
      {"mistral", {"blk.0.attn_q.weight", "blk.0.ffn_gate.weight"}}};
  for (const auto& [name, tensors] : expect) {
    const std::string rel = "models/hf-fixtures/" + name;
    LOWBIT_REQUIRE_SHARED(rel + "/config.json");
    auto model = open_model(test::shared_dir() / rel, false);
    ASSERT_TRUE(model);
    auto w = load_model(*model->checkpoint, model->config);
    ASSERT_TRUE(w);
    const auto out = temp_path(name + ".gguf");
    auto rep = export_pure(*model, *w, *Format::parse("q8_0"), out);
    ASSERT_TRUE(rep) << name << ": " << rep.error().message;
    auto g = GgufFile::open(out);
    ASSERT_TRUE(g) << g.error().message;
    for (const auto& t : tensors) {
      const TensorInfo* ti = find_tensor(**g, t);
      ASSERT_TRUE(ti) << name << " lacks " << t;
    }
    const std::string arch = *(*g)->get_string("general.architecture");
    EXPECT_EQ(arch, name == "mistral" ? "llama" : name == "phi3-fused" ? "phi3" : name == "qwen3-qknorm" ? "qwen3" : "gpt2");
    EXPECT_TRUE((*g)->get_int(arch + ".block_count"));
    if (name == "phi3-fused") {  // fused rows: q + k + v, gate + up
      const auto& c = w->config;
      EXPECT_EQ(find_tensor(**g, "blk.0.attn_qkv.weight")->shape[0], (c.n_heads + 2 * c.n_kv_heads) * c.head_dim);
      EXPECT_EQ(find_tensor(**g, "blk.0.ffn_up.weight")->shape[0], 2 * c.ffn);
    }
  }
}

TEST(GgufExport, RefusesIntFormatsAndTheSourceItself) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa/config.json");
  auto model = open_model(test::shared_dir() / "models/hf-fixtures/llama-gqa", false);
  ASSERT_TRUE(model);
  auto w = load_model(*model->checkpoint, model->config);
  ASSERT_TRUE(w);
  QuantizeOptions o;
  o.format = *Format::parse("int4g0a");
  o.keep_encoded = true;
  auto r = quantize_model(*w, o, {});
  ASSERT_TRUE(r);
  auto rep = export_gguf(*model, *w, r->encoded, temp_path("int.gguf"));
  ASSERT_FALSE(rep);
  EXPECT_NE(rep.error().message.find("not a GGUF type"), std::string::npos) << rep.error().message;
  EXPECT_FALSE(std::filesystem::exists(temp_path("int.gguf")));
  EXPECT_FALSE(check_not_source(test::shared_dir() / "models/hf-fixtures/llama-gqa",
                                test::shared_dir() / "models/hf-fixtures/llama-gqa/model.safetensors"));
  EXPECT_TRUE(check_not_source(test::shared_dir() / "models/hf-fixtures/llama-gqa", temp_path("x.gguf")));
}

TEST(GgufExport, LlamaRopeRowOrderInterleavesHalves) {
  // head_dim 4, one head: rows [a0 a1 | b0 b1] become a0 b0 a1 b1.
  EXPECT_EQ(llama_rope_row_order(1, 4), (std::vector<int64_t>{0, 2, 1, 3}));
  EXPECT_EQ(llama_rope_row_order(2, 4), (std::vector<int64_t>{0, 2, 1, 3, 4, 6, 5, 7}));
}

// The tokenizer.json of each fixture style, written as tokenizer.ggml.* and read back by our
// llama.cpp-compatible GGUF tokenizer, gives the ids Hugging Face gives.
class VocabExport : public ::testing::TestWithParam<const char*> {};

TEST_P(VocabExport, GgufTokenizerReproducesTheSourceIds) {
  const std::string dir = std::string("models/tokenizer-fixtures/") + GetParam();
  LOWBIT_REQUIRE_SHARED(dir + "/tokenizer.json");
  const auto json_path = test::shared_dir() / dir / "tokenizer.json";
  auto tok = Tokenizer::from_json_file(json_path);
  ASSERT_TRUE(tok);
  GgufMetadata md;
  md.set_string("general.architecture", "llama");
  auto warnings = add_gguf_vocab_from_json(md, json_path, **tok, (*tok)->vocab_size());
  ASSERT_TRUE(warnings) << warnings.error().message;
  const auto path = temp_path(std::string("vocab-") + GetParam() + ".gguf");
  const std::vector<float> one = {1};
  {
    auto w = GgufWriter::create(path, md, {{"x", DType::F32, {1}}});
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write("x", {reinterpret_cast<const uint8_t*>(one.data()), 4}));
    ASSERT_TRUE(w->finish());
  }
  auto g = GgufFile::open(path);
  ASSERT_TRUE(g);
  auto gt = Tokenizer::from_gguf(**g);
  ASSERT_TRUE(gt) << gt.error().message;
  const auto ref = nlohmann::json::parse(read_file(test::shared_dir() / dir / "reference_ids.json"));
  const std::string tricky = read_file(test::shared_dir() / "models/tokenizer-fixtures/tricky.txt");
  auto ids = (*gt)->encode(tricky, false);
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_EQ(*ids, ref["tricky"]["ids"].get<std::vector<int32_t>>());
}

INSTANTIATE_TEST_SUITE_P(Styles, VocabExport,
                         ::testing::Values("bytelevel-llama3-split", "bytelevel-qwen2-nfc", "metaspace-bytefallback"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace lowbit
