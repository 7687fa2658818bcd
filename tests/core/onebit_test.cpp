// OneBit (core/quant/onebit.h, core/quant/onebit_distill.h) and its checkpoint (core/io/onebit_format.h,
// core/export/onebit_checkpoint.h): SVID recovers a matrix whose |W| is rank 1 and finds |W|'s
// leading singular value; the bits-per-weight arithmetic; the sign packing (LSB first, padding bits
// 0, columns not a multiple of 8); distillation lowers each block's hidden-state error on a tiny
// model (with and without logit KD); export → open → load gives every tensor and the logits bit for
// bit on llama, phi3 (fused qkv / gate_up) and gpt2 (fused Conv1D c_attn); a damaged signs tensor
// is refused with a message naming it; a cancelled quantization fails as cancelled and a cancelled
// export leaves nothing.
#include <gtest/gtest.h>

#include <Eigen/SVD>
#include <cstring>
#include <random>

#include "core/export/onebit_checkpoint.h"
#include "core/io/onebit_format.h"
#include "core/io/safetensors.h"
#include "core/io/safetensors_writer.h"
#include "core/quant/onebit_distill.h"
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

Loaded load(const fs::path& path) {
  auto m = open_model(path, false);
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

MatrixRM logits_of(const ModelWeights& w, const std::vector<int32_t>& tokens) {
  MatrixRM out;
  auto r = forward_windows(w, tokens, 1, static_cast<int64_t>(tokens.size()), [&](int64_t, const MatrixRM& l) { out = l; });
  EXPECT_TRUE(r.has_value());
  return out;
}

QuantizeOptions onebit_options(int64_t iterations, int64_t ctx) {
  QuantizeOptions o;
  o.method = QuantMethod::OneBit;
  o.format = *Format::parse("onebit");
  o.onebit.iterations = iterations;
  o.onebit.batch = 2;
  o.calib.samples = 8;
  o.calib.ctx = ctx;
  return o;
}

TEST(OneBit, SvidRecoversARankOneMagnitude) {
  const int64_t rows = 7, cols = 13;
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> pos(0.05, 2.0);
  std::bernoulli_distribution coin(0.5);
  std::vector<double> a(rows), b(cols);
  for (auto& x : a) x = pos(rng);
  for (auto& x : b) x = pos(rng);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) w[static_cast<size_t>(i * cols + j)] = static_cast<float>((coin(rng) ? 1 : -1) * a[i] * b[j]);

  const Rank1 r = rank1_abs(w.data(), rows, cols);
  EXPECT_TRUE(r.converged);
  double rms_a = 0, rms_b = 0;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      const double absw = std::fabs(static_cast<double>(w[static_cast<size_t>(i * cols + j)]));
      EXPECT_NEAR(r.a[i] * r.b[j], absw, 1e-6 * absw) << i << "," << j;
    }
  for (double x : r.a) {
    EXPECT_GT(x, 0);
    rms_a += x * x / rows;
  }
  for (double x : r.b) {
    EXPECT_GT(x, 0);
    rms_b += x * x / cols;
  }
  EXPECT_NEAR(rms_a, rms_b, 1e-9 * rms_a);  // the scale split evenly between h and g

  // With fp16 values: the signs exactly, each weight within the rounding of h and g.
  const OneBitLayer l = svid(w.data(), rows, cols);
  std::vector<float> d(w.size());
  l.dequantize(d.data());
  for (size_t k = 0; k < w.size(); ++k) {
    EXPECT_EQ(std::signbit(d[k]), std::signbit(w[k])) << k;
    EXPECT_NEAR(d[k], w[k], std::ldexp(std::fabs(w[k]), -10)) << k;
  }
  for (float x : l.h) EXPECT_EQ(x, f16_to_f32(f32_to_f16(x)));
  for (float x : l.g) EXPECT_EQ(x, f16_to_f32(f32_to_f16(x)));
}

TEST(OneBit, SvidFindsTheLeadingSingularValueOfTheMagnitude) {
  const int64_t rows = 24, cols = 40;
  std::mt19937 rng(11);
  std::normal_distribution<float> n(0, 1);
  MatrixRM w(rows, cols);
  for (int64_t i = 0; i < w.size(); ++i) w.data()[i] = n(rng);
  const Rank1 r = rank1_abs(w.data(), rows, cols);
  EXPECT_TRUE(r.converged);
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(w.cast<double>().cwiseAbs());
  EXPECT_NEAR(r.sigma, svd.singularValues()(0), 1e-9 * r.sigma);
}

TEST(OneBit, BitsPerWeight) {
  const Format f = *Format::parse("onebit");
  EXPECT_EQ(f.name(), "onebit");
  EXPECT_DOUBLE_EQ(f.bits_per_weight(4096, 4096), 1.0 + 16.0 * 8192 / (4096.0 * 4096.0));
  EXPECT_DOUBLE_EQ(f.bits_per_weight(256, 768), 1.0 + 16.0 * 1024 / (256.0 * 768.0));
  EXPECT_EQ(f.bytes(256, 768), 256u * 96u + 2u * 1024u);
  EXPECT_EQ(f.bytes(3, 13), 3u * 2u + 2u * 16u);  // rows of 13 signs take 2 bytes
  OneBitLayer l;
  l.rows = 256;
  l.cols = 768;
  EXPECT_DOUBLE_EQ(l.bits_per_weight(), f.bits_per_weight(256, 768));
}

TEST(OneBit, SignPackingIsLsbFirstWithZeroPadding) {
  // One row of 9: + − + + − − − − + → byte 0 = bits 0, 2, 3 = 0x0d; byte 1 = bit 0 = 0x01.
  const std::vector<float> row{1, -1, 2, 0.0f, -3, -0.5f, -1e-9f, -7, 4};
  std::vector<uint8_t> packed(2);
  onebit_pack_signs(row.data(), 1, 9, packed.data());
  EXPECT_EQ(packed[0], 0x0d);
  EXPECT_EQ(packed[1], 0x01);

  const int64_t rows = 5, cols = 13;
  std::mt19937 rng(5);
  std::normal_distribution<float> n(0, 1);
  std::vector<float> v(static_cast<size_t>(rows * cols));
  for (auto& x : v) x = n(rng);
  v[3] = -0.0f;  // −0 counts as +1
  std::vector<uint8_t> p(static_cast<size_t>(rows * onebit_row_bytes(cols)));
  ASSERT_EQ(onebit_row_bytes(cols), 2);
  onebit_pack_signs(v.data(), rows, cols, p.data());
  for (int64_t i = 0; i < rows; ++i) {
    EXPECT_EQ(p[static_cast<size_t>(i * 2 + 1)] >> 5, 0) << "padding bits of row " << i;
    for (int64_t j = 0; j < cols; ++j)
      EXPECT_EQ(onebit_sign(p.data(), cols, i, j), v[static_cast<size_t>(i * cols + j)] >= 0 ? 1.0f : -1.0f) << i << "," << j;
  }
  // Dequantization, also transposed (gpt2's Conv1D orientation).
  std::vector<float> g(static_cast<size_t>(cols)), h(static_cast<size_t>(rows)), d(v.size()), dt(v.size());
  for (int64_t j = 0; j < cols; ++j) g[static_cast<size_t>(j)] = 0.25f * static_cast<float>(j + 1);
  for (int64_t i = 0; i < rows; ++i) h[static_cast<size_t>(i)] = 0.5f + static_cast<float>(i);
  onebit_dequantize(p.data(), g.data(), h.data(), rows, cols, d.data());
  onebit_dequantize(p.data(), g.data(), h.data(), rows, cols, dt.data(), true);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      const float want = onebit_sign(p.data(), cols, i, j) * (h[static_cast<size_t>(i)] * g[static_cast<size_t>(j)]);
      EXPECT_EQ(d[static_cast<size_t>(i * cols + j)], want);
      EXPECT_EQ(dt[static_cast<size_t>(j * rows + i)], want);
    }
}

TEST(OneBit, OptionsAreValidated) {
  QuantizeOptions o = onebit_options(10, 16);
  EXPECT_TRUE(o.validate().has_value());
  o.onebit.lr = 0;
  EXPECT_FALSE(o.validate().has_value());
  o = onebit_options(10, 16);
  o.onebit.batch = 0;
  EXPECT_FALSE(o.validate().has_value());
  o = onebit_options(10, 16);
  o.format = *Format::parse("int4g32a");
  EXPECT_FALSE(o.validate().has_value());
  o = onebit_options(10, 16);
  o.quantize_embeddings = true;
  EXPECT_FALSE(o.validate().has_value());
  QuantizeOptions rtn;
  rtn.format = *Format::parse("onebit");
  EXPECT_FALSE(rtn.validate().has_value());
}

TEST(OneBit, DistillationLowersTheBlockError) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  Loaded src = load(test::shared_dir() / "models/hf-fixtures/llama-gqa");
  const int64_t ctx = 32;
  const auto calib = random_tokens(8 * ctx, src.w.config.vocab, 7);
  for (bool kd : {false, true}) {
    ModelWeights w = src.w;
    QuantizeOptions o = onebit_options(30, ctx);
    o.onebit.kd = kd;
    auto r = quantize_model(w, o, calib);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->onebit.blocks.size(), w.blocks.size());
    for (const auto& b : r->onebit.blocks) {
      EXPECT_EQ(b.steps, 30);
      EXPECT_FALSE(b.reverted) << "block " << b.block;
      EXPECT_GT(b.mse_svid, 0);
      EXPECT_LT(b.mse_final, 0.9 * b.mse_svid) << "block " << b.block << (kd ? " (kd)" : "");
    }
    if (kd) {
      const auto& last = r->onebit.blocks.back();
      EXPECT_GE(last.kl_svid, 0);
      EXPECT_LT(last.kl_final, last.kl_svid);
    }
    // Every block linear is 1-bit; the model holds exactly the layers' Ŵ.
    EXPECT_EQ(r->onebit.layers.size(), 7u * w.blocks.size());
    for (const auto& ref : block_linears(w)) {
      const OneBitLayer& l = r->onebit.layers.at(ref.tensor);
      MatrixRM d(l.rows, l.cols);
      l.dequantize(d.data());
      EXPECT_EQ(linear_of(w, ref).w, d) << ref.tensor;
    }
    EXPECT_NEAR(r->bits_per_weight, 1.0, 0.6);
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

class OneBitRoundTrip : public testing::TestWithParam<const char*> {};

TEST_P(OneBitRoundTrip, ExportedFolderReadsBackBitForBit) {
  const std::string fixture = std::string("models/hf-fixtures/") + GetParam();
  LOWBIT_REQUIRE_SHARED(fixture);
  test::TempDir dir;
  Loaded src = load(test::shared_dir() / fixture);
  const int64_t ctx = 16;
  auto r = quantize_model(src.w, onebit_options(4, ctx), random_tokens(8 * ctx, src.w.config.vocab, 1));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  auto x = export_onebit(src.model, src.w, r->onebit.layers, dir / "onebit");
  ASSERT_TRUE(x.has_value()) << x.error().message;
  EXPECT_EQ(x->onebit_layers, static_cast<int64_t>(r->onebit.layers.size()));

  auto ck = Checkpoint::open(dir / "onebit");
  ASSERT_TRUE(ck.has_value()) << ck.error().message;
  // The file holds the documented tensors, not the dense weights.
  const std::string q = src.w.names.blocks[0].qkv.empty() ? src.w.names.blocks[0].q : src.w.names.blocks[0].qkv;
  const OneBitLayer& l = r->onebit.layers.at(q);
  auto st = SafetensorsFile::open(dir / "onebit/model.safetensors");
  ASSERT_TRUE(st.has_value());
  auto find = [&](const std::string& name) -> const TensorInfo* {
    for (const auto& t : (*st)->tensors())
      if (t.name == name) return &t;
    return nullptr;
  };
  const TensorInfo* signs = find(q + ".onebit_signs");
  ASSERT_NE(signs, nullptr);
  EXPECT_EQ(signs->dtype, DType::U8);
  EXPECT_EQ(signs->shape, (std::vector<int64_t>{l.rows, (l.cols + 7) / 8}));
  ASSERT_NE(find(q + ".onebit_g"), nullptr);
  ASSERT_NE(find(q + ".onebit_h"), nullptr);
  EXPECT_EQ(find(q + ".onebit_g")->shape, std::vector<int64_t>{l.cols});
  EXPECT_EQ(find(q + ".onebit_h")->shape, std::vector<int64_t>{l.rows});
  EXPECT_EQ(find(q), nullptr);

  Loaded back = load(dir / "onebit");
  expect_same_tensors(src.w, back.w);
  const auto tokens = random_tokens(24, src.w.config.vocab, 2);
  const MatrixRM a = logits_of(src.w, tokens), b = logits_of(back.w, tokens);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), static_cast<size_t>(a.size()) * sizeof(float)), 0);
}

INSTANTIATE_TEST_SUITE_P(Architectures, OneBitRoundTrip, testing::Values("llama-gqa", "phi3-fused", "gpt2"));

void rewrite(const fs::path& file, const std::function<void(const std::string&, std::vector<int64_t>&, test::Bytes&)>& edit) {
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

TEST(OneBit, DamagedFileNamesTheTensorAndCancelLeavesNothing) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  test::TempDir dir;
  Loaded src = load(test::shared_dir() / "models/hf-fixtures/llama-gqa");
  auto r = quantize_model(src.w, onebit_options(0, 16), {});  // SVID alone needs no data
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->onebit.blocks.empty());

  CancelToken cancel;
  cancel.cancel();
  ModelWeights w = src.w;
  auto qc = quantize_model(w, onebit_options(5, 16), random_tokens(8 * 16, w.config.vocab, 3), nullptr, &cancel);
  ASSERT_FALSE(qc.has_value());
  EXPECT_EQ(qc.error().code, ErrorCode::Cancelled);
  auto c = export_onebit(src.model, src.w, r->onebit.layers, dir / "cancelled", nullptr, &cancel);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::Cancelled);
  EXPECT_TRUE(fs::is_empty(dir.path()));

  ASSERT_TRUE(export_onebit(src.model, src.w, r->onebit.layers, dir / "good").has_value());
  const std::string name = "model.layers.0.self_attn.k_proj.weight.onebit_signs";
  test::copy_folder(dir / "good", dir / "bad");
  rewrite(dir / "bad/model.safetensors", [&](const std::string& n, std::vector<int64_t>& shape, test::Bytes& b) {
    if (n != name) return;
    shape[1] += 1;  // one byte too many per row
    b.resize(static_cast<size_t>(shape[0] * shape[1]));
  });
  auto bad = Checkpoint::open(dir / "bad");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::Format);
  EXPECT_NE(bad.error().message.find(name), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("model.safetensors"), std::string::npos) << bad.error().message;

  test::copy_folder(dir / "good", dir / "no-h");
  rewrite(dir / "no-h/model.safetensors", [&](const std::string& n, std::vector<int64_t>& shape, test::Bytes& b) {
    if (n != "model.layers.1.mlp.down_proj.weight.onebit_h") return;
    shape[0] -= 1;
    b.resize(b.size() - 2);
  });
  auto noh = Checkpoint::open(dir / "no-h");
  ASSERT_FALSE(noh.has_value());
  EXPECT_NE(noh.error().message.find("model.layers.1.mlp.down_proj.weight.onebit_signs"), std::string::npos) << noh.error().message;
}

}  // namespace
}  // namespace lowbit
