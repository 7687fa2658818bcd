// Importance matrix export (core/export/imatrix.h): from a saved calibration set, the legacy .dat
// file holds one entry per linear layer under its GGUF name, sorted, with ncall = the number of
// calibration windows and values = mean x² · ncall where mean x² = diag(H)/2 (checked against the
// activations themselves for block 0), plus the chunk count and dataset trailer; the GGUF form holds
// in_sum2 / counts with llama-imatrix's metadata; a truncated file is an error naming the offset.
#include "core/export/imatrix.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "core/io/checkpoint.h"
#include "core/io/gguf.h"
#include "core/model/config.h"
#include "damaged_files.h"
#include "test_support.h"

namespace lowbit {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kCtx = 16, kWindows = 4;

struct Fixture {
  ModelWeights w;
  test::TempDir dir;
  std::vector<int32_t> tokens;
};

// llama-gqa analysed on random windows into dir/calib.
bool prepare(Fixture& f) {
  auto ck = Checkpoint::open(test::shared_dir() / "models/hf-fixtures/llama-gqa");
  if (!ck) return false;
  auto cfg = read_model_config(**ck);
  if (!cfg) return false;
  auto w = load_model(**ck, *cfg);
  if (!w) return false;
  f.w = std::move(*w);
  std::mt19937 rng(5);
  std::uniform_int_distribution<int32_t> d(0, static_cast<int32_t>(f.w.config.vocab - 1));
  f.tokens.resize(kWindows * kCtx);
  for (auto& t : f.tokens) t = d(rng);
  AnalyzeInfo info;
  info.model = "llama-gqa";
  info.text = "calib.txt";
  info.calib = {kWindows, kCtx, 0};
  return analyze_to_folder(f.w, f.tokens, info, f.dir / "calib").has_value();
}

LinearInput input_of_gguf(const std::string& name) {
  if (name.find("attn_output") != std::string::npos) return LinearInput::kO;
  if (name.find("ffn_down") != std::string::npos) return LinearInput::kDown;
  if (name.find("ffn_") != std::string::npos) return LinearInput::kGateUp;
  return LinearInput::kQkv;
}

int64_t block_of(const std::string& name) {
  return std::stoll(name.substr(4, name.find('.', 4) - 4));
}

TEST(Imatrix, LegacyDatHoldsHalfTheHessianDiagonalPerGgufTensor) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  Fixture f;
  ASSERT_TRUE(prepare(f));
  auto calib = CalibrationSet::open(f.dir / "calib");
  ASSERT_TRUE(calib.has_value()) << calib.error().message;
  const auto names = tensor_names(f.w.config, true);
  auto r = write_imatrix(*calib, f.w.config, names, f.dir / "imatrix.dat");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(fs::exists(f.dir / "imatrix.dat.partial"));
  auto m = read_imatrix_dat(f.dir / "imatrix.dat");
  ASSERT_TRUE(m.has_value()) << m.error().message;

  std::vector<std::string> expected;
  for (const auto& b : names.blocks)
    for (const auto* s : {&b.q, &b.k, &b.v, &b.o, &b.gate, &b.up, &b.down}) expected.push_back(*s);
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> got;
  for (const auto& e : m->entries) got.push_back(e.name);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(got.front(), "blk.0.attn_k.weight");
  EXPECT_EQ(m->chunks, kWindows);
  EXPECT_EQ(m->dataset, "calib.txt");

  for (const auto& e : m->entries) {
    EXPECT_EQ(e.ncall, kWindows) << e.name;
    const LinearInput in = input_of_gguf(e.name);
    auto h = calib->hessian(block_of(e.name), in);
    ASSERT_TRUE(h.has_value());
    const int64_t c = linear_input_channels(f.w.config, in);
    ASSERT_EQ(static_cast<int64_t>(e.values.size()), c) << e.name;
    for (int64_t i = 0; i < c; ++i)
      ASSERT_EQ(e.values[static_cast<size_t>(i)],
                (*h)[static_cast<size_t>(i * c + i)] / 2 * static_cast<float>(kWindows))
          << e.name << " channel " << i;
  }

  // What llama-imatrix accumulates, straight from the activations: Σ x² over token rows / rows.
  MatrixRM x;
  ASSERT_TRUE(embed_windows(f.w, f.tokens, kWindows, kCtx, x).has_value());
  Eigen::VectorXd sum_sq;
  block_forward(f.w.config, f.w.blocks[0], x, kWindows, kCtx, [&](LinearInput which, const MatrixRM& in) {
    if (which == LinearInput::kDown) sum_sq = in.cast<double>().array().square().colwise().sum().transpose();
  });
  const auto& down = *std::find_if(m->entries.begin(), m->entries.end(),
                                   [](const auto& e) { return e.name == "blk.0.ffn_down.weight"; });
  for (int64_t i = 0; i < sum_sq.size(); ++i) {
    const double direct = sum_sq[i] / static_cast<double>(kWindows * kCtx);
    EXPECT_NEAR(down.values[static_cast<size_t>(i)] / kWindows, direct, 1e-5 * direct + 1e-12) << "channel " << i;
  }
}

TEST(Imatrix, GgufFormatHoldsSumsAndCounts) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  Fixture f;
  ASSERT_TRUE(prepare(f));
  auto calib = CalibrationSet::open(f.dir / "calib");
  ASSERT_TRUE(calib.has_value());
  auto r = write_imatrix(*calib, f.w.config, tensor_names(f.w.config, true), f.dir / "imatrix.gguf");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  auto g = GgufFile::open(f.dir / "imatrix.gguf");
  ASSERT_TRUE(g.has_value()) << g.error().message;
  EXPECT_EQ((*g)->get_string("general.type"), "imatrix");
  EXPECT_EQ((*g)->get_int("imatrix.chunk_count"), kWindows);
  EXPECT_EQ((*g)->get_int("imatrix.chunk_size"), kCtx);
  ASSERT_NE((*g)->find("imatrix.datasets"), nullptr);
  EXPECT_EQ((*g)->find("imatrix.datasets")->strs, std::vector<std::string>{"calib.txt"});
  EXPECT_EQ((*g)->tensors().size(), 2u * 7u * 2u);
  std::map<std::string, const TensorInfo*> by;
  for (const auto& t : (*g)->tensors()) by[t.name] = &t;
  ASSERT_TRUE(by.count("blk.1.ffn_gate.weight.in_sum2") && by.count("blk.1.ffn_gate.weight.counts"));
  EXPECT_EQ(by["blk.1.ffn_gate.weight.in_sum2"]->shape, (std::vector<int64_t>{1, 64}));
  auto sum2 = decode_to_f32(*by["blk.1.ffn_gate.weight.in_sum2"]);
  auto counts = decode_to_f32(*by["blk.1.ffn_gate.weight.counts"]);
  ASSERT_TRUE(sum2.has_value() && counts.has_value());
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0], static_cast<float>(kWindows * kCtx));
  auto h = calib->hessian(1, LinearInput::kGateUp);
  ASSERT_TRUE(h.has_value());
  for (int64_t i = 0; i < 64; ++i) {
    const float expect = (*h)[static_cast<size_t>(i * 64 + i)] / 2;
    EXPECT_NEAR((*sum2)[static_cast<size_t>(i)] / (*counts)[0], expect, 1e-6f * expect) << i;
  }
}

TEST(Imatrix, DamagedDatFilesAreErrors) {
  LOWBIT_REQUIRE_SHARED("models/hf-fixtures/llama-gqa");
  Fixture f;
  ASSERT_TRUE(prepare(f));
  auto calib = CalibrationSet::open(f.dir / "calib");
  ASSERT_TRUE(calib.has_value());
  ASSERT_TRUE(write_imatrix(*calib, f.w.config, tensor_names(f.w.config, true), f.dir / "imatrix.dat").has_value());
  auto bytes = test::read_file(f.dir / "imatrix.dat");
  bytes.resize(100);
  test::write_file(f.dir / "short.dat", bytes);
  auto m = read_imatrix_dat(f.dir / "short.dat");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message.find("short.dat"), std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find("offset"), std::string::npos) << m.error().message;
  // A calibration of another shape is refused.
  ModelConfig other = f.w.config;
  other.ffn *= 2;
  auto bad = write_imatrix(*calib, other, tensor_names(other, true), f.dir / "x.dat");
  ASSERT_FALSE(bad.has_value());
  EXPECT_FALSE(fs::exists(f.dir / "x.dat"));
}

}  // namespace
}  // namespace lowbit
