// GgufFile: metadata and tensor infos of the llama.cpp-written files of ../shared (stories260K,
// kjv-llama-8m) checked against their known contents and against the safetensors originals;
// every value type and layout rule on files built in memory; and damaged files — each named
// kind of damage, every truncation of a small file and seeded random mutations — which must give
// an error naming the file and the problem, never a crash.
#include "core/io/gguf.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/io/checkpoint.h"
#include "core/io/safetensors.h"
#include "damaged_files.h"
#include "test_support.h"

namespace lowbit {
namespace {

using test::Bytes;
using test::expect_failure;
using test::GgufBuilder;
using test::TempDir;

const std::string kStories = "models/stories260K/";
const std::string kKjvGguf = "models/kjv-llama-8m-gguf/";

std::filesystem::path shared(const std::string& rel) { return test::shared_dir() / rel; }

const TensorInfo* find_tensor(const GgufFile& f, const std::string& name) {
  for (const auto& t : f.tensors())
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<float> decode(const TensorInfo& t) {
  auto r = decode_to_f32(t);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : std::vector<float>();
}

// ||a - b|| / ||b||
double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

Expected<std::shared_ptr<GgufFile>> open_bytes(const TempDir& dir, const std::string& name, const Bytes& b) {
  test::write_file(dir / name, b);
  return GgufFile::open(dir / name);
}

// ---- Files written by llama.cpp ------------------------------------------------------------------

TEST(GgufShared, Stories260KMetadataAndShapes) {
  LOWBIT_REQUIRE_SHARED(kStories + "stories260K-f32.gguf");
  auto f = GgufFile::open(shared(kStories + "stories260K-f32.gguf"));
  ASSERT_TRUE(f) << f.error().message;
  const GgufFile& g = **f;
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.alignment(), 32u);
  EXPECT_EQ(g.data_offset() % 32, 0u);
  EXPECT_EQ(g.get_string("general.architecture"), "llama");
  EXPECT_EQ(g.get_int("llama.context_length"), 512);
  EXPECT_EQ(g.get_int("llama.rope.dimension_count"), 8);
  EXPECT_NEAR(g.get_float("llama.attention.layer_norm_rms_epsilon").value_or(0), 1e-5, 1e-9);
  EXPECT_EQ(g.get_string("tokenizer.ggml.model"), "llama");
  const GgufValue* tokens = g.find("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->type, GgufType::ARRAY);
  EXPECT_EQ(tokens->elem_type, GgufType::STRING);
  ASSERT_EQ(tokens->array_size(), 512u);
  EXPECT_EQ(tokens->strs[1], "<s>");
  EXPECT_EQ(tokens->strs[2], "</s>");
  const GgufValue* scores = g.find("tokenizer.ggml.scores");
  ASSERT_NE(scores, nullptr);
  EXPECT_EQ(scores->array_size(), 512u);
  EXPECT_EQ(scores->floats.size(), 512u);
  EXPECT_EQ(g.find("no.such.key"), nullptr);
  EXPECT_EQ(g.get_int("general.architecture"), std::nullopt);  // a string is not an int

  ASSERT_EQ(g.tensors().size(), 48u);
  struct Expect {
    const char* name;
    std::vector<int64_t> shape;
  };
  for (const Expect& e : {Expect{"token_embd.weight", {512, 64}}, Expect{"output.weight", {512, 64}},
                          Expect{"blk.0.attn_q.weight", {64, 64}}, Expect{"blk.0.attn_k.weight", {32, 64}},
                          Expect{"blk.4.ffn_gate.weight", {172, 64}}, Expect{"blk.4.ffn_down.weight", {64, 172}},
                          Expect{"output_norm.weight", {64}}}) {
    const TensorInfo* t = find_tensor(g, e.name);
    ASSERT_NE(t, nullptr) << e.name;
    EXPECT_EQ(t->shape, e.shape) << e.name << " is " << t->shape_string();
    EXPECT_EQ(t->dtype, DType::F32) << e.name;
    EXPECT_EQ(t->nbytes, static_cast<uint64_t>(t->numel()) * 4);
    EXPECT_EQ(t->file_offset % 32, 0u);
    EXPECT_NE(t->file.find("stories260K-f32.gguf"), std::string::npos);
  }
  // The classifier is a copy of the embedding (README of stories260K).
  EXPECT_EQ(decode(*find_tensor(g, "output.weight")), decode(*find_tensor(g, "token_embd.weight")));
}

// Every tensor of the F16/Q8_0/Q4_0 conversions decodes close to the F32 original.
TEST(GgufShared, Stories260KQuantizedTypesDecodeNearF32) {
  LOWBIT_REQUIRE_SHARED(kStories + "stories260K-f32.gguf");
  auto ref = GgufFile::open(shared(kStories + "stories260K-f32.gguf"));
  ASSERT_TRUE(ref) << ref.error().message;
  struct Case {
    const char* file;
    DType main_type;
    double bound;
  };
  for (const Case& c : {Case{"stories260K-f16.gguf", DType::F16, 1e-3}, Case{"stories260K-q8_0.gguf", DType::Q8_0, 0.01},
                        Case{"stories260K-q4_0-pure.gguf", DType::Q4_0, 0.15}}) {
    SCOPED_TRACE(c.file);
    auto f = GgufFile::open(shared(kStories + c.file));
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_EQ((*f)->tensors().size(), 48u);
    EXPECT_EQ(find_tensor(**f, "blk.0.attn_q.weight")->dtype, c.main_type);
    // ffn_down rows of 172 elements fit no 32-block, so the quantized files keep it as F16.
    EXPECT_EQ(find_tensor(**f, "blk.0.ffn_down.weight")->dtype, c.main_type == DType::F32 ? DType::F32 : DType::F16);
    for (const auto& t : (*f)->tensors()) {
      const TensorInfo* r = find_tensor(**ref, t.name);
      ASSERT_NE(r, nullptr) << t.name;
      ASSERT_EQ(t.shape, r->shape) << t.name;
      EXPECT_LT(relative_error(decode(t), decode(*r)), c.bound) << t.name << " " << dtype_name(t.dtype);
    }
  }
}

// The bf16 GGUF holds the safetensors weights bit for bit, with shapes in the same orientation.
TEST(GgufShared, KjvBf16MatchesSafetensors) {
  LOWBIT_REQUIRE_SHARED(kKjvGguf + "kjv-llama-8m-bf16.gguf");
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m/config.json");
  auto g = GgufFile::open(shared(kKjvGguf + "kjv-llama-8m-bf16.gguf"));
  ASSERT_TRUE(g) << g.error().message;
  auto hf = Checkpoint::open(shared("models/kjv-llama-8m"));
  ASSERT_TRUE(hf) << hf.error().message;
  EXPECT_EQ((*g)->get_string("general.architecture"), "llama");
  EXPECT_EQ((*g)->get_string("tokenizer.ggml.pre"), "gpt-2");
  EXPECT_EQ((*g)->find("tokenizer.ggml.tokens")->array_size(), 4096u);

  for (const auto& [gname, hname] : {std::pair{"token_embd.weight", "model.embed_tokens.weight"},
                                     std::pair{"blk.0.ffn_down.weight", "model.layers.0.mlp.down_proj.weight"},
                                     std::pair{"blk.7.ffn_gate.weight", "model.layers.7.mlp.gate_proj.weight"},
                                     std::pair{"blk.3.attn_v.weight", "model.layers.3.self_attn.v_proj.weight"},
                                     std::pair{"output.weight", "lm_head.weight"},
                                     std::pair{"output_norm.weight", "model.norm.weight"}}) {
    const TensorInfo* t = find_tensor(**g, gname);
    const TensorInfo* h = (*hf)->find(hname);
    ASSERT_NE(t, nullptr) << gname;
    ASSERT_NE(h, nullptr) << hname;
    EXPECT_EQ(t->shape, h->shape) << gname << " " << t->shape_string() << " vs " << h->shape_string();
    EXPECT_EQ(decode(*t), decode(*h)) << gname;
  }
  EXPECT_EQ(find_tensor(**g, "blk.0.ffn_down.weight")->shape, (std::vector<int64_t>{256, 768}));
  EXPECT_EQ(find_tensor(**g, "blk.0.ffn_down.weight")->dtype, DType::BF16);

  // attn_q / attn_k rows are reordered within each head (DESIGN.md, Export): new row h*d + 2i + t
  // holds old row h*d + t*d/2 + i. 4 query heads and 2 KV heads of 64.
  for (const auto& [gname, hname] : {std::pair{"blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight"},
                                     std::pair{"blk.0.attn_k.weight", "model.layers.0.self_attn.k_proj.weight"}}) {
    const TensorInfo* t = find_tensor(**g, gname);
    const TensorInfo* h = (*hf)->find(hname);
    ASSERT_TRUE(t && h);
    ASSERT_EQ(t->shape, h->shape);
    const auto a = decode(*t), b = decode(*h);
    const int64_t d = 64, cols = t->cols(), heads = t->rows() / d;
    int64_t mismatches = 0;
    for (int64_t hd = 0; hd < heads; ++hd)
      for (int64_t i = 0; i < d / 2; ++i)
        for (int64_t s = 0; s < 2; ++s)
          for (int64_t c = 0; c < cols; ++c)
            mismatches += a[static_cast<size_t>((hd * d + 2 * i + s) * cols + c)] !=
                          b[static_cast<size_t>((hd * d + s * d / 2 + i) * cols + c)];
    EXPECT_EQ(mismatches, 0) << gname;
  }
}

// llama-quantize --pure: every matrix in the type; values near the bf16 originals.
TEST(GgufShared, KjvPureQuantizedNearBf16) {
  LOWBIT_REQUIRE_SHARED(kKjvGguf + "kjv-llama-8m-bf16.gguf");
  auto ref = GgufFile::open(shared(kKjvGguf + "kjv-llama-8m-bf16.gguf"));
  ASSERT_TRUE(ref) << ref.error().message;
  for (const auto& [file, type, bound] : {std::tuple{"kjv-llama-8m-q8_0-pure.gguf", DType::Q8_0, 0.01},
                                          std::tuple{"kjv-llama-8m-q4_0-pure.gguf", DType::Q4_0, 0.15}}) {
    SCOPED_TRACE(file);
    auto f = GgufFile::open(shared(kKjvGguf + file));
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_EQ((*f)->tensors().size(), (*ref)->tensors().size());
    for (const char* name : {"token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_down.weight",
                             "blk.7.ffn_up.weight", "output.weight"}) {
      const TensorInfo* t = find_tensor(**f, name);
      const TensorInfo* r = find_tensor(**ref, name);
      ASSERT_TRUE(t && r) << name;
      EXPECT_EQ(t->dtype, type) << name;
      EXPECT_EQ(t->shape, r->shape) << name;
      EXPECT_EQ(t->nbytes, dtype_bytes(type, static_cast<uint64_t>(t->numel())));
      const double err = relative_error(decode(*t), decode(*r));
      EXPECT_LT(err, bound) << name;
      EXPECT_GT(err, 0.0) << name << " is quantized, so it cannot be exact";
    }
  }
}

TEST(GgufShared, OpensThroughCheckpoint) {
  LOWBIT_REQUIRE_SHARED(kStories + "stories260K-q8_0.gguf");
  auto ck = Checkpoint::open(shared(kStories + "stories260K-q8_0.gguf"));
  ASSERT_TRUE(ck) << ck.error().message;
  EXPECT_EQ((*ck)->kind(), Checkpoint::Kind::Gguf);
  ASSERT_NE((*ck)->gguf(), nullptr);
  EXPECT_EQ((*ck)->tensors().size(), 48u);
  auto w = (*ck)->read_f32("blk.1.attn_v.weight");
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->size(), 32u * 64u);
}

// A truncated copy of a real file names the file and the tensor that no longer fits.
TEST(GgufShared, TruncatedRealFile) {
  LOWBIT_REQUIRE_SHARED(kStories + "stories260K-f32.gguf");
  TempDir dir;
  Bytes b = test::read_file(shared(kStories + "stories260K-f32.gguf"));
  b.resize(b.size() / 2);
  auto r = open_bytes(dir, "half-stories.gguf", b);
  expect_failure(r, "half-stories.gguf", "runs past the end of the file");
  auto ck = Checkpoint::open(dir / "half-stories.gguf");
  expect_failure(ck, "half-stories.gguf", "truncated");
}

// ---- Files built in memory -----------------------------------------------------------------------

TEST(GgufBuilt, SmallFileReadsBack) {
  TempDir dir;
  auto f = open_bytes(dir, "small.gguf", test::small_gguf().build());
  ASSERT_TRUE(f) << f.error().message;
  const GgufFile& g = **f;
  ASSERT_EQ(g.metadata().size(), 5u);
  EXPECT_EQ(g.metadata()[0].first, "general.architecture");  // file order
  EXPECT_EQ(g.metadata()[4].first, "tokenizer.ggml.token_type");
  EXPECT_EQ(g.find("tokenizer.ggml.token_type")->ints, (std::vector<int64_t>{2, 3, 3, 1}));
  ASSERT_EQ(g.tensors().size(), 3u);
  const TensorInfo& m = g.tensors()[0];
  EXPECT_EQ(m.name, "blk.0.attn_q.weight");
  EXPECT_EQ(m.shape, (std::vector<int64_t>{3, 4}));  // ne = [4, 3] reversed
  EXPECT_EQ(m.rows(), 3);
  EXPECT_EQ(m.cols(), 4);
  const auto mv = decode(m);
  for (size_t i = 0; i < mv.size(); ++i) EXPECT_EQ(mv[i], 0.5f * static_cast<float>(i) - 2.0f);
  const TensorInfo& q = g.tensors()[2];
  EXPECT_EQ(q.dtype, DType::Q8_0);
  EXPECT_EQ(q.shape, (std::vector<int64_t>{2, 32}));
  EXPECT_EQ(q.nbytes, 68u);
  const auto qv = decode(q);
  EXPECT_EQ(qv[0], -16.0f);
  EXPECT_EQ(qv[63], 15.0f);
}

TEST(GgufBuilt, EveryValueTypeVersion2AndCustomAlignment) {
  GgufBuilder g;
  g.version = 2;
  g.alignment = 64;
  g.kv<uint8_t>("u8", GgufBuilder::U8, 200);
  g.kv<int8_t>("i8", GgufBuilder::I8, -100);
  g.kv<uint16_t>("u16", GgufBuilder::U16, 60000);
  g.kv<int16_t>("i16", GgufBuilder::I16, -30000);
  g.kv<uint32_t>("general.alignment", GgufBuilder::U32, 64);
  g.kv<int32_t>("i32", GgufBuilder::I32, -2000000000);
  g.kv<float>("f32", GgufBuilder::F32, 0.25f);
  g.kv<uint8_t>("bool", GgufBuilder::BOOL, 1);
  g.kv_string("str", "héllo");
  g.kv<uint64_t>("u64", GgufBuilder::U64, 0xffffffffffffffffull);
  g.kv<int64_t>("i64", GgufBuilder::I64, -5000000000ll);
  g.kv<double>("f64", GgufBuilder::F64, -1.5);
  g.kv_array<uint8_t>("a.bool", GgufBuilder::BOOL, {1, 0, 1});
  g.kv_array<uint16_t>("a.u16", GgufBuilder::U16, {1, 65535});
  g.kv_array<int64_t>("a.i64", GgufBuilder::I64, {-1, 7});
  g.kv_array<float>("a.f32", GgufBuilder::F32, {0.5f, -2.0f});
  g.kv_array<double>("a.f64", GgufBuilder::F64, {});
  g.kv_strings("a.str", {"", "x", std::string(300, 'y')});
  g.tensor_f32("a", {3}, {1, 2, 3});
  g.tensor_f32("b", {2, 2, 1, 1}, {4, 5, 6, 7});
  TempDir dir;
  auto f = open_bytes(dir, "types.gguf", g.build());
  ASSERT_TRUE(f) << f.error().message;
  const GgufFile& r = **f;
  EXPECT_EQ(r.version(), 2u);
  EXPECT_EQ(r.alignment(), 64u);
  EXPECT_EQ(r.data_offset() % 64, 0u);
  EXPECT_EQ(r.get_int("u8"), 200);
  EXPECT_EQ(r.get_int("i8"), -100);
  EXPECT_EQ(r.get_int("u16"), 60000);
  EXPECT_EQ(r.get_int("i16"), -30000);
  EXPECT_EQ(r.get_int("i32"), -2000000000);
  EXPECT_EQ(r.get_float("f32"), 0.25);
  EXPECT_EQ(r.get_int("bool"), 1);
  EXPECT_EQ(r.get_string("str"), "héllo");
  EXPECT_EQ(r.get_int("u64"), std::nullopt);  // does not fit an int64
  EXPECT_EQ(r.find("u64")->u, 0xffffffffffffffffull);
  EXPECT_EQ(r.get_int("i64"), -5000000000ll);
  EXPECT_EQ(r.get_float("f64"), -1.5);
  EXPECT_EQ(r.get_float("i16"), -30000.0);
  EXPECT_EQ(r.get_int("f64"), std::nullopt);
  EXPECT_EQ(r.get_string("u8"), std::nullopt);
  EXPECT_EQ(r.find("u8")->array_size(), 0u);
  EXPECT_EQ(r.find("a.bool")->ints, (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(r.find("a.u16")->ints, (std::vector<int64_t>{1, 65535}));
  EXPECT_EQ(r.find("a.i64")->ints, (std::vector<int64_t>{-1, 7}));
  EXPECT_EQ(r.find("a.f32")->floats, (std::vector<double>{0.5, -2.0}));
  EXPECT_EQ(r.find("a.f64")->array_size(), 0u);
  EXPECT_EQ(r.find("a.f64")->elem_type, GgufType::F64);
  ASSERT_EQ(r.find("a.str")->array_size(), 3u);
  EXPECT_EQ(r.find("a.str")->strs[2].size(), 300u);
  ASSERT_EQ(r.tensors().size(), 2u);
  EXPECT_EQ(r.tensors()[1].shape, (std::vector<int64_t>{1, 1, 2, 2}));
  EXPECT_EQ(r.tensors()[1].file_offset, r.data_offset() + 64);
  EXPECT_EQ(decode(r.tensors()[1]), (std::vector<float>{4, 5, 6, 7}));
}

TEST(GgufBuilt, NoTensorsAndNoMetadata) {
  TempDir dir;
  auto f = open_bytes(dir, "empty.gguf", GgufBuilder().build());
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_TRUE((*f)->tensors().empty());
  EXPECT_TRUE((*f)->metadata().empty());
}

// llama.cpp's reader refuses arrays of arrays and this one does too (GgufValue holds one level).
TEST(GgufBuilt, NestedArrayIsUnsupported) {
  GgufBuilder g;
  test::Writer w;
  w.put<uint32_t>(GgufBuilder::ARRAY);
  w.put<uint64_t>(1);
  w.put<uint32_t>(GgufBuilder::U8);
  w.put<uint64_t>(1);
  w.put<uint8_t>(7);
  g.kv_raw("nested", GgufBuilder::ARRAY, w.b);
  TempDir dir;
  auto f = open_bytes(dir, "nested.gguf", g.build());
  expect_failure(f, "nested.gguf", "arrays of arrays are not supported");
  EXPECT_EQ(f.error().code, ErrorCode::Unsupported);
  EXPECT_NE(f.error().message.find("'nested'"), std::string::npos) << f.error().message;
}

// ---- Damaged files -------------------------------------------------------------------------------

// One damaged variant of the small file: a patch at a mark, the phrase its error must contain.
struct Damage {
  std::string name;
  std::function<void(Bytes&, std::map<std::string, size_t>&)> apply;
  std::string phrase;
  ErrorCode code = ErrorCode::Format;
};

TEST(GgufDamaged, EachKindNamesFileAndProblem) {
  using M = std::map<std::string, size_t>;
  const std::string q = "ti:blk.0.attn_q.weight";
  const std::vector<Damage> cases = {
      {"bad-magic", [](Bytes& b, M&) { b[0] = 'X'; }, "expected magic 'GGUF', found 'XGUF'"},
      {"version1", [](Bytes& b, M& m) { test::patch<uint32_t>(b, m["version"], 1); }, "unsupported GGUF version 1",
       ErrorCode::Unsupported},
      {"version7", [](Bytes& b, M& m) { test::patch<uint32_t>(b, m["version"], 7); }, "unsupported GGUF version 7",
       ErrorCode::Unsupported},
      {"big-endian", [](Bytes& b, M& m) { test::patch<uint32_t>(b, m["version"], 0x03000000); }, "big-endian",
       ErrorCode::Unsupported},
      {"tensor-count", [](Bytes& b, M& m) { test::patch<uint64_t>(b, m["n_tensors"], uint64_t{1} << 60); },
       "tensor count 1152921504606846976 is absurd"},
      {"kv-count", [](Bytes& b, M& m) { test::patch<uint64_t>(b, m["n_kv"], ~uint64_t{0}); },
       "metadata key/value count 18446744073709551615 is absurd"},
      {"key-length", [](Bytes& b, M& m) { test::patch<uint64_t>(b, m["kv:llama.context_length"], uint64_t{1} << 62); },
       "key string claims 4611686018427387904 bytes, but only"},
      {"string-length",
       [](Bytes& b, M& m) { test::patch<uint64_t>(b, m["kv:general.architecture.value"], 1u << 30); },
       "string value claims 1073741824 bytes"},
      {"array-count",
       [](Bytes& b, M& m) { test::patch<uint64_t>(b, m["kv:tokenizer.ggml.token_type.count"], uint64_t{1} << 60); },
       "array claims 1152921504606846976 i32 elements"},
      {"string-array-count",
       [](Bytes& b, M& m) { test::patch<uint64_t>(b, m["kv:tokenizer.ggml.tokens.count"], 1000000); },
       "array claims 1000000 string elements"},
      {"value-type", [](Bytes& b, M& m) { test::patch<uint32_t>(b, m["kv:llama.context_length.type"], 13); },
       "unknown value type 13"},
      {"array-type", [](Bytes& b, M& m) { test::patch<uint32_t>(b, m["kv:tokenizer.ggml.tokens.value"], 99); },
       "unknown array element type 99"},
      {"offset-past-end", [&](Bytes& b, M& m) { test::patch<uint64_t>(b, m[q + ".offset"], 1u << 20); },
       "runs past the end of the file"},
      {"offset-huge", [&](Bytes& b, M& m) { test::patch<uint64_t>(b, m[q + ".offset"], ~uint64_t{0} - 31); },
       "runs past the end of the file"},
      {"misaligned", [&](Bytes& b, M& m) { test::patch<uint64_t>(b, m[q + ".offset"], 4); },
       "expected a multiple of the alignment 32"},
      {"unknown-type", [&](Bytes& b, M& m) { test::patch<uint32_t>(b, m[q + ".type"], 99); },
       "'blk.0.attn_q.weight': unsupported ggml type id 99", ErrorCode::Unsupported},
      {"iq-type", [&](Bytes& b, M& m) { test::patch<uint32_t>(b, m[q + ".type"], 16); }, "unsupported ggml type id 16",
       ErrorCode::Unsupported},
      {"n-dims", [&](Bytes& b, M& m) { test::patch<uint32_t>(b, m[q + ".n_dims"], 5); },
       "n_dims is 5, expected 1 to 4"},
      {"zero-dims", [&](Bytes& b, M& m) { test::patch<uint32_t>(b, m[q + ".n_dims"], 0); },
       "n_dims is 0, expected 1 to 4"},
      {"zero-dim", [&](Bytes& b, M& m) { test::patch<uint64_t>(b, m[q + ".ne"] + 8, 0); },
       "dimension ne[1] is 0"},
      {"numel-overflow", [&](Bytes& b, M& m) { test::patch<uint64_t>(b, m[q + ".ne"] + 8, uint64_t{1} << 62); },
       "element count overflows"},
      {"too-big", [&](Bytes& b, M& m) { test::patch<uint64_t>(b, m[q + ".ne"] + 8, uint64_t{1} << 40); },
       "needs more bytes than the whole file has"},
      {"block-size", [](Bytes& b, M& m) { test::patch<uint64_t>(b, m["ti:blk.0.ffn_down.weight.ne"], 16); },
       "rows of 16 elements are not a multiple of the 32-element blocks of type q8_0"},
      {"overlap", [](Bytes& b, M& m) { test::patch<uint64_t>(b, m["ti:output_norm.weight.offset"], 32); },
       "have overlapping data"},
      {"truncated-data", [](Bytes& b, M&) { b.resize(b.size() - 1); }, "file truncated?"},
      {"truncated-header", [](Bytes& b, M&) { b.resize(10); }, "shorter than the 24-byte GGUF header"},
      {"truncated-infos", [](Bytes& b, M& m) { b.resize(m["ti:output_norm.weight.ne"] + 3); },
       "file ends inside dimension"},
  };
  const GgufBuilder base = test::small_gguf();
  TempDir dir;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::map<std::string, size_t> marks;
    Bytes b = base.build(&marks);
    c.apply(b, marks);
    const std::string file = "damaged-" + c.name + ".gguf";
    auto f = open_bytes(dir, file, b);
    expect_failure(f, file, c.phrase);
    if (!f) {
      EXPECT_EQ(f.error().code, c.code) << f.error().message;
    }
  }
}

// Keys and tensor names must be unique; general.alignment must be a u32 power of two.
TEST(GgufDamaged, DuplicatesAndAlignment) {
  TempDir dir;
  {
    GgufBuilder g;
    g.kv<uint32_t>("a.key", GgufBuilder::U32, 1);
    g.kv<uint32_t>("a.key", GgufBuilder::U32, 2);
    expect_failure(open_bytes(dir, "dup-key.gguf", g.build()), "dup-key.gguf", "metadata key 1 'a.key': duplicate key");
  }
  {
    GgufBuilder g;
    g.tensor_f32("w", {1}, {1});
    g.tensor_f32("w", {1}, {2});
    expect_failure(open_bytes(dir, "dup-tensor.gguf", g.build()), "dup-tensor.gguf", "'w': duplicate tensor name");
  }
  for (uint32_t a : {0u, 3u, 48u}) {
    GgufBuilder g;
    g.kv<uint32_t>("general.alignment", GgufBuilder::U32, a);
    const std::string file = "align-" + std::to_string(a) + ".gguf";
    expect_failure(open_bytes(dir, file, g.build()), file,
                   "general.alignment must be a nonzero power of two, found " + std::to_string(a));
  }
  {
    GgufBuilder g;
    g.kv<uint64_t>("general.alignment", GgufBuilder::U64, 32);
    expect_failure(open_bytes(dir, "align-u64.gguf", g.build()), "align-u64.gguf",
                   "general.alignment must be a u32, found a u64");
  }
}

TEST(GgufDamaged, ErrorsGiveTheByteOffset) {
  std::map<std::string, size_t> marks;
  Bytes b = test::small_gguf().build(&marks);
  test::patch<uint32_t>(b, marks["ti:output_norm.weight.n_dims"], 9);
  TempDir dir;
  auto f = open_bytes(dir, "offset.gguf", b);
  expect_failure(f, "offset.gguf", "byte " + std::to_string(marks["ti:output_norm.weight.n_dims"]) +
                                       ": tensor info 1 'output_norm.weight': n_dims is 9");
}

TEST(GgufDamaged, ShortAndMissingFiles) {
  TempDir dir;
  for (size_t n : {0, 3, 4, 23}) {
    const std::string file = "short-" + std::to_string(n) + ".gguf";
    Bytes b = test::small_gguf().build();
    b.resize(n);
    expect_failure(open_bytes(dir, file, b), file, "shorter than the 24-byte GGUF header");
  }
  auto f = GgufFile::open(dir / "missing.gguf");
  expect_failure(f, "missing.gguf", "cannot open");
  EXPECT_EQ(f.error().code, ErrorCode::Io);
}

// The small file ends with its last tensor, so every shorter prefix must fail cleanly.
TEST(GgufDamaged, EveryTruncationFails) {
  const Bytes valid = test::small_gguf().build();
  TempDir dir;
  for (size_t n = 0; n < valid.size(); ++n) {
    auto f = open_bytes(dir, "cut.gguf", Bytes(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(n)));
    ASSERT_FALSE(f) << "a prefix of " << n << " of " << valid.size() << " bytes opened";
    ASSERT_NE(f.error().message.find("cut.gguf"), std::string::npos) << f.error().message;
  }
}

// Random damage may or may not be detected, but must never crash; whatever opens lies in the file.
TEST(GgufDamaged, RandomMutationsNeverCrash) {
  const Bytes valid = test::small_gguf().build();
  TempDir dir;
  int ok = 0, failed = 0;
  test::mutate_many(valid, 20240607u, 400, [&](const Bytes& b) {
    auto f = open_bytes(dir, "mutant.gguf", b);
    if (!f) {
      ++failed;
      EXPECT_NE(f.error().message.find("mutant.gguf"), std::string::npos) << f.error().message;
      return;
    }
    ++ok;
    for (const auto& t : (*f)->tensors()) {
      EXPECT_LE(t.file_offset + t.nbytes, b.size()) << t.name;
      EXPECT_EQ(t.nbytes, dtype_bytes(t.dtype, static_cast<uint64_t>(t.numel())));
      std::vector<float> out(static_cast<size_t>(t.numel()));
      (void)decode_to_f32(t, out.data());
    }
  });
  EXPECT_GT(failed, 0);
  RecordProperty("opened", ok);
}

}  // namespace
}  // namespace lowbit
