// GPTQ checkpoint export and reading (core/export/gptq_checkpoint.h, core/io/gptq_format.h): a model
// quantized in memory with fp16 scales (RTN, GPTQ with act-order, a mixed layout of 8/3/2 bits) is
// exported, opened again as a checkpoint, and every linear weight equals the in-memory one bit for
// bit, as do the logits and the perplexity (the unquantized tensors, stored as fp16, are rounded the
// same way in memory first). The packing matches AutoGPTQ's loops (3 bits included), zero points of
// 0 round-trip, act-order g_idx is honoured, the source is never overwritten, a cancelled export
// leaves nothing, and damaged packed tensors give errors naming the file and tensor.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "core/calib/calibration.h"
#include "core/eval/perplexity.h"
#include "core/export/gptq_checkpoint.h"
#include "core/io/gptq_format.h"
#include "core/io/mapped_file.h"
#include "core/io/safetensors_writer.h"
#include "core/quant/quantize_model.h"
#include "core/tensor/half.h"
#include "damaged_files.h"
#include "test_support.h"

namespace lowbit {
namespace {

namespace fs = std::filesystem;

struct Loaded {
  Model model;
  ModelWeights w;
};

Loaded load(const fs::path& path, bool tokenizer = false) {
  auto m = open_model(path, tokenizer);
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().message);
  if (!m) return {};
  auto w = load_model(*m->checkpoint, m->config);
  EXPECT_TRUE(w.has_value()) << (w ? "" : w.error().message);
  if (!w) return {};
  return {*m, std::move(*w)};
}

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> d(0, static_cast<int32_t>(vocab - 1));
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = d(rng);
  return t;
}

// The unquantized tensors as the export stores them (fp16), so the in-memory model is the file's.
void round_unquantized_to_fp16(ModelWeights& w, const EncodedTensors& encoded) {
  for (const auto& t : checkpoint_tensors(w)) {
    if (encoded.count(t.name)) continue;
    auto v = get_tensor(w, t.name);
    ASSERT_TRUE(v.has_value());
    for (float& x : *v) x = f16_to_f32(f32_to_f16(x));
    ASSERT_TRUE(set_tensor(w, t.name, *v).has_value());
  }
}

// Every checkpoint tensor of `a` equals `b`'s bit for bit.
void expect_same_tensors(const ModelWeights& a, const ModelWeights& b) {
  for (const auto& t : checkpoint_tensors(a)) {
    auto x = get_tensor(a, t.name), y = get_tensor(b, t.name);
    ASSERT_TRUE(x.has_value() && y.has_value()) << t.name;
    ASSERT_EQ(x->size(), y->size()) << t.name;
    EXPECT_EQ(std::memcmp(x->data(), y->data(), x->size() * sizeof(float)), 0) << t.name << " differs";
  }
}

MatrixRM logits_of(const ModelWeights& w, const std::vector<int32_t>& tokens) {
  MatrixRM out;
  auto r =
      forward_windows(w, tokens, 1, static_cast<int64_t>(tokens.size()), [&](int64_t, const MatrixRM& l) { out = l; });
  EXPECT_TRUE(r.has_value());
  return out;
}

nlohmann::json read_json(const fs::path& p) {
  auto t = read_text_file(p);
  EXPECT_TRUE(t.has_value());
  return t ? nlohmann::json::parse(*t) : nlohmann::json();
}

// Quantizes, exports, reopens; checks the weights and logits and returns the reopened model.
Loaded round_trip(Loaded& src, const QuantizeOptions& options, const std::vector<int32_t>& calib, const fs::path& out,
                  GptqExportReport* report = nullptr) {
  QuantizeOptions o = options;
  o.keep_encoded = true;
  o.fp16_scales = true;
  auto q = quantize_model(src.w, o, calib);
  EXPECT_TRUE(q.has_value()) << (q ? "" : q.error().message);
  if (!q) return {};
  auto rep = export_gptq(src.model, src.w, q->encoded, out);
  EXPECT_TRUE(rep.has_value()) << (rep ? "" : rep.error().message);
  if (!rep) return {};
  for (const auto& w : rep->warnings)
    EXPECT_EQ(w.find("scales rounded"), std::string::npos) << "fp16 scales must export exactly: " << w;
  if (report) *report = *rep;
  round_unquantized_to_fp16(src.w, q->encoded);
  Loaded back = load(out);
  expect_same_tensors(src.w, back.w);
  const auto tokens = random_tokens(24, src.w.config.vocab, 7);
  const MatrixRM a = logits_of(src.w, tokens), b = logits_of(back.w, tokens);
  EXPECT_GT(a.size(), 0);
  EXPECT_EQ(a.size(), b.size());
  EXPECT_TRUE(a == b) << "logits differ, max |Δ| = " << (a - b).cwiseAbs().maxCoeff();
  return back;
}

TEST(GptqExport, RtnInt4RoundTripsBitExactOnEveryArchitecture) {
  for (const char* name : {"llama-gqa", "mistral", "qwen2-tied-bias", "qwen3-qknorm", "phi3-fused", "gpt2"}) {
    const std::string rel = std::string("models/hf-fixtures/") + name;
    LOWBIT_REQUIRE_SHARED(rel);
    SCOPED_TRACE(name);
    test::TempDir dir;
    Loaded src = load(test::shared_dir() / rel);
    QuantizeOptions o;
    o.format = *Format::parse("int4g32a");
    GptqExportReport rep;
    round_trip(src, o, {}, dir / "gptq", &rep);
    EXPECT_EQ(rep.quantized_modules, static_cast<int64_t>(block_linear_tensors(src.w.names).size()));
    const auto cfg = read_json(dir / "gptq/config.json");
    const auto& qc = cfg["quantization_config"];
    EXPECT_EQ(qc["quant_method"], "gptq");
    EXPECT_EQ(qc["bits"], 4);
    EXPECT_EQ(qc["group_size"], 32);
    EXPECT_EQ(qc["sym"], false);
    EXPECT_EQ(qc["desc_act"], false);
    EXPECT_EQ(qc["checkpoint_format"], "gptq");
    EXPECT_FALSE(qc.contains("dynamic"));
    EXPECT_EQ(cfg["model_type"], read_json(test::shared_dir() / rel / "config.json")["model_type"]);
    EXPECT_TRUE(fs::exists(dir / "gptq/generation_config.json"));
    EXPECT_GT(rep.bytes, 0u);
  }
}

TEST(GptqExport, GptqActOrderRoundTripsWithEqualPerplexity) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  test::TempDir dir;
  Loaded src = load(test::shared_dir() / "models/kjv-llama-8m", true);
  auto text = read_text_file(test::shared_dir() / "data/kjv-valid.txt");
  ASSERT_TRUE(text.has_value());
  auto ids = src.model.tokenizer->encode(text->substr(0, 20000), false);
  ASSERT_TRUE(ids.has_value());
  QuantizeOptions o;
  o.method = QuantMethod::Gptq;
  o.format = *Format::parse("int4g32a");
  o.gptq.act_order = true;
  o.calib = {4, 64, 0};
  auto calib = draw_windows(*ids, o.calib);
  ASSERT_TRUE(calib.has_value());
  Loaded back = round_trip(src, o, *calib, dir / "gptq");
  EXPECT_TRUE(fs::exists(dir / "gptq/tokenizer.json"));
  EXPECT_TRUE(fs::exists(dir / "gptq/tokenizer_config.json"));
  PplOptions po;
  po.ctx = 64;
  po.max_windows = 4;
  auto p1 = evaluate_perplexity(src.w, *ids, po), p2 = evaluate_perplexity(back.w, *ids, po);
  ASSERT_TRUE(p1.has_value() && p2.has_value());
  EXPECT_EQ(p1->ppl, p2->ppl);
  EXPECT_GT(p1->ppl, 1.0);
}

TEST(GptqExport, MixedLayoutUsesDynamicPerModule) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  test::TempDir dir;
  Loaded src = load(test::shared_dir() / "models/hf-fixtures/llama-gqa");
  QuantizeOptions o;
  o.format = *Format::parse("int4g32a");
  o.per_tensor["model.layers.0.self_attn.q_proj.weight"] = *Format::parse("int8g0s");
  o.per_tensor["model.layers.0.mlp.down_proj.weight"] = *Format::parse("int3g32a");
  o.per_tensor["model.layers.1.self_attn.v_proj.weight"] = *Format::parse("int2g16a");
  o.per_tensor["model.layers.1.mlp.up_proj.weight"] = *Format::parse("int3g32a");
  round_trip(src, o, {}, dir / "gptq");
  const auto qc = read_json(dir / "gptq/config.json")["quantization_config"];
  EXPECT_EQ(qc["bits"], 4);
  ASSERT_TRUE(qc.contains("dynamic"));
  const auto& dyn = qc["dynamic"];
  EXPECT_EQ(dyn.size(), 4u);
  const auto q0 = dyn["+:^model\\.layers\\.0\\.self_attn\\.q_proj$"];
  EXPECT_EQ(q0["bits"], 8);
  EXPECT_EQ(q0["group_size"], -1);
  EXPECT_EQ(q0["sym"], true);
  EXPECT_EQ(dyn["+:^model\\.layers\\.1\\.self_attn\\.v_proj$"]["group_size"], 16);
  EXPECT_EQ(dyn["+:^model\\.layers\\.0\\.mlp\\.down_proj$"]["bits"], 3);
  EXPECT_EQ(read_json(dir / "gptq/quantize_config.json"), qc);
  // The packed shapes follow each module's bits.
  auto f = SafetensorsFile::open(dir / "gptq/model.safetensors");
  ASSERT_TRUE(f.has_value());
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& t : (*f)->tensors()) shapes[t.name] = t.shape;
  EXPECT_EQ(shapes["model.layers.0.mlp.down_proj.qweight"], (std::vector<int64_t>{192 * 3 / 32, 64}));
  EXPECT_EQ(shapes["model.layers.0.mlp.down_proj.qzeros"], (std::vector<int64_t>{6, 64 * 3 / 32}));
  EXPECT_EQ(shapes["model.layers.0.self_attn.q_proj.scales"], (std::vector<int64_t>{1, 64}));
  EXPECT_EQ(shapes["model.layers.1.self_attn.v_proj.qweight"], (std::vector<int64_t>{64 * 2 / 32, 32}));
  EXPECT_EQ(shapes["model.layers.1.self_attn.v_proj.g_idx"], (std::vector<int64_t>{64}));
  EXPECT_EQ(shapes["model.norm.weight"], (std::vector<int64_t>{64}));
  EXPECT_EQ(shapes.count("model.layers.0.self_attn.q_proj.weight"), 0u);
}

TEST(GptqExport, LayersLeftUnquantizedOrKeptInFloatAreExcludedThroughDynamic) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  test::TempDir dir;
  Loaded src = load(test::shared_dir() / "models/hf-fixtures/llama-gqa");
  QuantizeOptions o;
  o.format = *Format::parse("int4g32s");
  o.per_tensor["model.layers.0.self_attn.o_proj.weight"] = *Format::parse("f16");  // kept in a float type
  o.keep_encoded = true;
  o.fp16_scales = true;
  auto q = quantize_model(src.w, o, {});
  ASSERT_TRUE(q.has_value()) << q.error().message;
  const std::string left = "model.layers.1.mlp.gate_proj.weight";
  q->encoded.erase(left);
  auto rep = export_gptq(src.model, src.w, q->encoded, dir / "gptq");
  ASSERT_TRUE(rep.has_value()) << rep.error().message;
  EXPECT_EQ(rep->quantized_modules, 2 * 7 - 2);
  const auto dyn = read_json(dir / "gptq/config.json")["quantization_config"]["dynamic"];
  EXPECT_TRUE(dyn.contains("-:^model\\.layers\\.1\\.mlp\\.gate_proj$"));
  EXPECT_TRUE(dyn.contains("-:^model\\.layers\\.0\\.self_attn\\.o_proj$"));
  auto f = SafetensorsFile::open(dir / "gptq/model.safetensors");
  ASSERT_TRUE(f.has_value());
  bool plain = false;
  for (const auto& t : (*f)->tensors())
    plain = plain || (t.name == "model.layers.0.self_attn.o_proj.weight" && t.dtype == DType::F16);
  EXPECT_TRUE(plain);
  round_unquantized_to_fp16(src.w, q->encoded);
  Loaded back = load(dir / "gptq");
  expect_same_tensors(src.w, back.w);
}

// AutoGPTQ's QuantLinear.pack loop for one column of codes (the reference for the layout).
std::vector<uint32_t> autogptq_pack(const std::vector<uint32_t>& v, int bits) {
  std::vector<uint32_t> q(v.size() * bits / 32, 0);
  size_t i = 0, row = 0;
  while (row < q.size()) {
    if (bits != 3) {
      for (size_t j = i; j < i + 32 / bits; ++j) q[row] |= v[j] << (bits * (j - i));
      i += 32 / bits;
      row += 1;
    } else {
      for (size_t j = i; j < i + 10; ++j) q[row] |= v[j] << (3 * (j - i));
      i += 10;
      q[row] |= v[i] << 30;
      row += 1;
      q[row] |= (v[i] >> 2) & 1;
      i += 1;
      for (size_t j = i; j < i + 10; ++j) q[row] |= v[j] << (3 * (j - i) + 1);
      i += 10;
      q[row] |= v[i] << 31;
      row += 1;
      q[row] |= (v[i] >> 1) & 0x3;
      i += 1;
      for (size_t j = i; j < i + 10; ++j) q[row] |= v[j] << (3 * (j - i) + 2);
      i += 10;
      row += 1;
    }
  }
  return q;
}

TEST(GptqFormat, PackingMatchesAutoGptqForEveryWidthAndThreeBitsRoundTrip) {
  std::mt19937 rng(3);
  for (int bits : {2, 3, 4, 8}) {
    const int64_t n = 96;
    std::vector<uint8_t> codes(n);
    std::vector<uint32_t> wide(n);
    for (int64_t i = 0; i < n; ++i) wide[i] = codes[i] = static_cast<uint8_t>(rng() % (1u << bits));
    // Stride 2: the words of one qweight column, interleaved with another column.
    std::vector<uint32_t> words(static_cast<size_t>(n * bits / 32 * 2), 0xdeadbeef);
    gptq_pack(codes.data(), n, bits, words.data(), 2);
    const auto ref = autogptq_pack(wide, bits);
    for (size_t k = 0; k < ref.size(); ++k) EXPECT_EQ(words[2 * k], ref[k]) << bits << " bits, word " << k;
    std::vector<uint8_t> back(n);
    gptq_unpack(words.data(), 2, n, bits, back.data());
    EXPECT_EQ(back, codes) << bits << " bits";
  }
  EXPECT_EQ(gptq_zero_offset(4, 0), 0x11111111u);
  EXPECT_EQ(gptq_zero_offset(2, 5), 0x55555555u);
  EXPECT_EQ(gptq_zero_offset(8, 1), 0x01010101u);
  EXPECT_EQ(gptq_zero_offset(3, 0), 0x49249249u);
  EXPECT_EQ(gptq_zero_offset(3, 1), 0x92492492u);
  EXPECT_EQ(gptq_zero_offset(3, 2), 0x24924924u);
  EXPECT_EQ(gptq_zero_offset(3, 3), 0x49249249u);
}

TEST(GptqFormat, ZeroPointsOfZeroRoundTripThroughTheV1Offset) {
  for (int bits : {2, 3, 4, 8}) {
    const int64_t n = 64, nw = n * bits / 32;
    std::vector<uint8_t> zeros(n);
    for (int64_t i = 0; i < n; ++i) zeros[i] = static_cast<uint8_t>(i % 3 == 0 ? 0 : (i * 5) % (1 << bits));
    std::vector<uint32_t> w(static_cast<size_t>(nw));
    gptq_pack(zeros.data(), n, bits, w.data(), 1);
    gptq_zeros_to_v1(w.data(), nw, bits);
    gptq_zeros_from_v1(w.data(), nw, bits);
    std::vector<uint8_t> back(n);
    gptq_unpack(w.data(), 1, n, bits, back.data());
    EXPECT_EQ(back, zeros) << bits << " bits";

    // Without a zero of 0 the v1 form is AutoGPTQ's: every field holds zero − 1 (3 bits: the fields
    // straddling two words too).
    std::vector<uint8_t> nonzero = zeros, minus_one(n);
    for (auto& z : nonzero) z = z ? z : static_cast<uint8_t>((1 << bits) - 1);
    for (int64_t i = 0; i < n; ++i) minus_one[i] = static_cast<uint8_t>(nonzero[i] - 1);
    std::vector<uint32_t> v1(static_cast<size_t>(nw)), ref(static_cast<size_t>(nw));
    gptq_pack(nonzero.data(), n, bits, v1.data(), 1);
    gptq_zeros_to_v1(v1.data(), nw, bits);
    gptq_pack(minus_one.data(), n, bits, ref.data(), 1);
    EXPECT_EQ(v1, ref) << bits << " bits";
  }
}

// Rewrites the exported model.safetensors, letting `edit` change a tensor's shape and bytes.
void rewrite(const fs::path& file,
             const std::function<void(const std::string&, std::vector<int64_t>&, test::Bytes&)>& edit) {
  std::vector<SafetensorsDecl> decls;
  std::vector<test::Bytes> data;
  {
    auto f = SafetensorsFile::open(file);
    ASSERT_TRUE(f.has_value());
    for (const auto& t : (*f)->tensors()) {
      SafetensorsDecl d{t.name, t.dtype, t.shape};
      test::Bytes b(t.data, t.data + t.nbytes);
      edit(t.name, d.shape, b);
      decls.push_back(d);
      data.push_back(std::move(b));
    }
  }
  std::vector<std::string> names;
  for (const auto& d : decls) names.push_back(d.name);
  auto w = SafetensorsWriter::create(file, decls, {{"format", "pt"}});
  ASSERT_TRUE(w.has_value());
  for (size_t i = 0; i < names.size(); ++i) ASSERT_TRUE(w->write(names[i], data[i]).has_value());
  ASSERT_TRUE(w->finish().has_value());
}

TEST(GptqExport, ActOrderGidxFromOtherToolsIsHonoured) {
  // A module rewritten as an act-order checkpoint of AutoGPTQ would hold it: g_idx scatters the
  // input columns over the groups, zeros are stored per field minus one, bits come from `dynamic`.
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  test::TempDir dir;
  Loaded src = load(test::shared_dir() / "models/hf-fixtures/llama-gqa");
  QuantizeOptions o;
  o.format = *Format::parse("int4g32a");
  o.per_tensor["model.layers.0.mlp.up_proj.weight"] = *Format::parse("int3g32a");
  round_trip(src, o, {}, dir / "gptq");
  const std::string m = "model.layers.0.mlp.up_proj";
  const int64_t in = 64, out = 192, groups = 2, bits = 3;
  std::mt19937 rng(11);
  std::vector<int32_t> gidx(in);
  for (int64_t i = 0; i < in; ++i) gidx[i] = static_cast<int32_t>((i * 7 + i / 5) % groups);
  std::vector<uint32_t> codes(static_cast<size_t>(in * out)), zeros(static_cast<size_t>(groups * out));
  std::vector<uint16_t> scales(static_cast<size_t>(groups * out));
  for (auto& c : codes) c = rng() % 8;
  for (auto& z : zeros) z = 1 + rng() % 7;
  for (auto& s : scales) s = f32_to_f16(0.001f * static_cast<float>(1 + rng() % 50));
  rewrite(dir / "gptq/model.safetensors", [&](const std::string& name, std::vector<int64_t>&, test::Bytes& b) {
    std::vector<uint32_t> words;
    if (name == m + ".qweight") {
      words.resize(static_cast<size_t>(in * bits / 32 * out));
      for (int64_t o2 = 0; o2 < out; ++o2) {
        std::vector<uint32_t> col(static_cast<size_t>(in));
        for (int64_t i = 0; i < in; ++i) col[i] = codes[static_cast<size_t>(i * out + o2)];
        const auto packed = autogptq_pack(col, bits);
        for (size_t r = 0; r < packed.size(); ++r) words[r * out + o2] = packed[r];
      }
    } else if (name == m + ".qzeros") {
      for (int64_t g = 0; g < groups; ++g) {
        std::vector<uint32_t> row(static_cast<size_t>(out));
        for (int64_t o2 = 0; o2 < out; ++o2)
          row[o2] = zeros[static_cast<size_t>(g * out + o2)] - 1;  // AutoGPTQ: zeros -= 1
        const auto packed = autogptq_pack(row, bits);
        words.insert(words.end(), packed.begin(), packed.end());
      }
    } else if (name == m + ".scales") {
      b.assign(reinterpret_cast<const uint8_t*>(scales.data()),
               reinterpret_cast<const uint8_t*>(scales.data() + scales.size()));
      return;
    } else if (name == m + ".g_idx") {
      b.assign(reinterpret_cast<const uint8_t*>(gidx.data()),
               reinterpret_cast<const uint8_t*>(gidx.data() + gidx.size()));
      return;
    } else {
      return;
    }
    ASSERT_EQ(words.size() * 4, b.size()) << name;
    std::memcpy(b.data(), words.data(), b.size());
  });
  Loaded back = load(dir / "gptq");
  auto w = get_tensor(back.w, m + ".weight");
  ASSERT_TRUE(w.has_value());
  for (int64_t o2 = 0; o2 < out; ++o2)
    for (int64_t i = 0; i < in; ++i) {
      const size_t k = static_cast<size_t>(gidx[i] * out + o2);
      const float expect = f16_to_f32(scales[k]) * (static_cast<float>(codes[static_cast<size_t>(i * out + o2)]) -
                                                    static_cast<float>(zeros[k]));
      ASSERT_EQ((*w)[static_cast<size_t>(o2 * in + i)], expect) << "row " << o2 << " column " << i;
    }
}

TEST(GptqExport, DamagedPackedTensorsNameTheFileAndTensor) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  test::TempDir dir;
  Loaded src = load(test::shared_dir() / "models/hf-fixtures/llama-gqa");
  QuantizeOptions o;
  o.format = *Format::parse("int4g32a");
  round_trip(src, o, {}, dir / "gptq");
  test::copy_folder(dir / "gptq", dir / "bad-shape");
  rewrite(dir / "bad-shape/model.safetensors",
          [](const std::string& name, std::vector<int64_t>& shape, test::Bytes& b) {
            if (name != "model.layers.0.self_attn.k_proj.qweight") return;
            shape[0] -= 1;
            b.resize(b.size() - static_cast<size_t>(shape[1]) * 4);
          });
  auto bad = Checkpoint::open(dir / "bad-shape");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("model.safetensors"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("model.layers.0.self_attn.k_proj.qweight"), std::string::npos)
      << bad.error().message;

  test::copy_folder(dir / "gptq", dir / "bad-gidx");
  rewrite(dir / "bad-gidx/model.safetensors", [](const std::string& name, std::vector<int64_t>&, test::Bytes& b) {
    if (name != "model.layers.1.mlp.down_proj.g_idx") return;
    const int32_t beyond = 6;  // 192 inputs / 32 = groups 0..5
    std::memcpy(b.data() + 40 * 4, &beyond, 4);
  });
  auto m = open_model(dir / "bad-gidx", false);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  auto w = load_model(*m->checkpoint, m->config);
  ASSERT_FALSE(w.has_value());
  EXPECT_NE(w.error().message.find("model.layers.1.mlp.down_proj.g_idx"), std::string::npos) << w.error().message;
  EXPECT_NE(w.error().message.find("model.safetensors"), std::string::npos) << w.error().message;

  test::copy_folder(dir / "gptq", dir / "no-zeros");
  rewrite(dir / "no-zeros/model.safetensors", [](const std::string& name, std::vector<int64_t>& shape, test::Bytes& b) {
    if (name != "model.layers.0.mlp.up_proj.qzeros") return;
    shape = {1, 1};
    b.resize(4);
  });
  auto nz = Checkpoint::open(dir / "no-zeros");
  ASSERT_FALSE(nz.has_value());
  EXPECT_NE(nz.error().message.find("model.layers.0.mlp.up_proj.qzeros"), std::string::npos) << nz.error().message;
}

TEST(GptqExport, RefusesToOverwriteTheSourceAndCancelsCleanly) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  test::TempDir dir;
  test::copy_folder(test::shared_dir() / "models/hf-fixtures/llama-gqa", dir / "src");
  const auto config_before = test::read_file(dir / "src/config.json");
  Loaded src = load(dir / "src");
  QuantizeOptions o;
  o.format = *Format::parse("int4g32a");
  o.keep_encoded = true;
  auto q = quantize_model(src.w, o, {});
  ASSERT_TRUE(q.has_value());
  for (const fs::path& target : {dir / "src", dir / "src/", dir / "src/../src", dir.path()}) {
    auto r = export_gptq(src.model, src.w, q->encoded, target);
    ASSERT_FALSE(r.has_value()) << target;
    EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument) << r.error().message;
  }
  EXPECT_EQ(test::read_file(dir / "src/config.json"), config_before);

  fs::create_directories(dir / "other");
  test::write_file(dir / "other/notes.txt", std::string("mine"));
  auto other = export_gptq(src.model, src.w, q->encoded, dir / "other");
  ASSERT_FALSE(other.has_value());
  EXPECT_TRUE(fs::exists(dir / "other/notes.txt"));

  CancelToken cancel;
  cancel.cancel();
  auto c = export_gptq(src.model, src.w, q->encoded, dir / "out", nullptr, &cancel);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::Cancelled);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir.path())) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"other", "src"}));

  // A previous export may be replaced; without fp16 scales the export warns that it rounds them.
  auto first = export_gptq(src.model, src.w, q->encoded, dir / "out");
  ASSERT_TRUE(first.has_value()) << first.error().message;
  auto second = export_gptq(src.model, src.w, q->encoded, dir / "out");
  ASSERT_TRUE(second.has_value()) << second.error().message;
  bool warned = false;
  for (const auto& w : second->warnings) warned = warned || w.find("scales rounded to fp16") != std::string::npos;
  EXPECT_TRUE(warned);
  EXPECT_TRUE(fs::exists(dir / "out/model.safetensors"));
}

TEST(GptqExport, RefusesWhatTheFormatCannotHold) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  test::TempDir dir;
  Loaded src = load(test::shared_dir() / "models/hf-fixtures/llama-gqa");
  for (const char* format : {"int5g32a", "q4_0"}) {
    ModelWeights w = src.w;
    QuantizeOptions o;
    o.format = *Format::parse(format);
    o.keep_encoded = true;
    auto q = quantize_model(w, o, {});
    ASSERT_TRUE(q.has_value()) << format;
    auto r = export_gptq(src.model, w, q->encoded, dir / "out");
    ASSERT_FALSE(r.has_value()) << format;
    EXPECT_EQ(r.error().code, ErrorCode::Unsupported) << r.error().message;
    EXPECT_NE(r.error().message.find(std::string(format) == "q4_0" ? "int family" : "2, 3, 4 or 8"), std::string::npos)
        << r.error().message;
  }
  ModelWeights w = src.w;
  QuantizeOptions o;
  o.format = *Format::parse("int4g32a");
  o.keep_encoded = true;
  o.quantize_embeddings = true;
  auto q = quantize_model(w, o, {});
  ASSERT_TRUE(q.has_value());
  auto r = export_gptq(src.model, w, q->encoded, dir / "out");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("embed_tokens"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(dir / "out"));
}

}  // namespace
}  // namespace lowbit
