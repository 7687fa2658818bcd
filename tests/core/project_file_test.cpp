// Project files (core/io/project_file.h): a full project survives write → read, paths inside the
// project folder are stored relative to it (so the folder can move) and others absolute, and
// damaged files fail with errors that name the file and the key.
#include <gtest/gtest.h>

#include <fstream>

#include "core/io/mapped_file.h"
#include "core/io/project_file.h"
#include "damaged_files.h"

namespace lowbit {
namespace {

namespace fs = std::filesystem;

Project sample(const fs::path& dir) {
  Project p;
  p.model = dir / "models" / "demo";
  p.calibration_file = "/data/calib.txt";
  p.calibration.samples = 32;
  p.calibration.ctx = 128;
  p.calibration.seed = 7;
  p.analysis_dir = dir / "analysis";
  p.plan = ProjectPlan{3.5, std::nullopt, {"q2_k", "q4_k"}, "gptq"};
  Layout l;
  l.method = QuantMethod::Gptq;
  l.model = "demo";
  l.tensors["model.layers.0.mlp.down_proj.weight"] = *Format::parse("q4_k");
  l.predicted = {{"ppl", 12.5}};
  p.layouts.push_back({"plan", l});
  CompareRow row;
  row.name = "plan";
  row.method = QuantMethod::Gptq;
  row.ppl = 12.75;
  row.file_bytes = 123456;
  row.bits_per_weight = 3.49;
  row.bits_whole_file = true;
  row.kld = KldStats{0.01, 0.2, 0.97, 100};
  row.predicted_ppl = 12.5;
  row.seconds = 4.5;
  CompareRow uniform;
  uniform.name = "q8_0";
  uniform.ppl = 12.1;
  uniform.bits_per_weight = 8.5;
  p.comparison = ProjectComparison{dir / "valid.txt", 256, {row, uniform}};
  p.exports.push_back({dir / "out" / "demo.gguf", "gguf", "plan", 123456, 3.49, 1.5});
  p.notes = {"Compare: a warning"};
  return p;
}

TEST(ProjectFile, RoundTripsEveryPart) {
  test::TempDir dir;
  const Project p = sample(dir.path());
  const fs::path file = dir.path() / "demo.lowbit";
  ASSERT_TRUE(write_project(p, file).has_value());
  EXPECT_FALSE(fs::exists(file.string() + ".partial"));
  auto back = read_project(file);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->model, p.model);
  EXPECT_EQ(back->calibration_file, p.calibration_file);
  EXPECT_EQ(back->calibration.samples, 32);
  EXPECT_EQ(back->calibration.ctx, 128);
  EXPECT_EQ(back->calibration.seed, 7u);
  EXPECT_EQ(back->analysis_dir, p.analysis_dir);
  ASSERT_TRUE(back->plan.has_value());
  EXPECT_EQ(*back->plan->budget_bpw, 3.5);
  EXPECT_FALSE(back->plan->budget_bytes.has_value());
  EXPECT_EQ(back->plan->formats, (std::vector<std::string>{"q2_k", "q4_k"}));
  EXPECT_EQ(back->plan->method, "gptq");
  ASSERT_EQ(back->layouts.size(), 1u);
  EXPECT_EQ(back->layouts[0].layout.method, QuantMethod::Gptq);
  EXPECT_EQ(back->layouts[0].layout.tensors.at("model.layers.0.mlp.down_proj.weight").name(), "q4_k");
  EXPECT_EQ(back->layouts[0].layout.predicted["ppl"], 12.5);
  ASSERT_TRUE(back->comparison.has_value());
  ASSERT_EQ(back->comparison->rows.size(), 2u);
  const CompareRow& r = back->comparison->rows[0];
  EXPECT_EQ(r.name, "plan");
  EXPECT_EQ(r.method, QuantMethod::Gptq);
  EXPECT_EQ(r.ppl, 12.75);
  EXPECT_EQ(*r.file_bytes, 123456u);
  EXPECT_TRUE(r.bits_whole_file);
  EXPECT_EQ(r.kld->top1_agreement, 0.97);
  EXPECT_EQ(*r.predicted_ppl, 12.5);
  EXPECT_FALSE(back->comparison->rows[1].file_bytes.has_value());
  EXPECT_FALSE(back->comparison->rows[1].bits_whole_file);
  EXPECT_EQ(back->comparison->ctx, 256);
  ASSERT_EQ(back->exports.size(), 1u);
  EXPECT_EQ(back->exports[0].path, p.exports[0].path);
  EXPECT_EQ(back->exports[0].bytes, 123456u);
  EXPECT_EQ(back->notes, p.notes);
}

TEST(ProjectFile, PathsInsideTheFolderAreRelativeSoItCanMove) {
  test::TempDir dir;
  const fs::path a = dir.path() / "a";
  fs::create_directories(a);
  ASSERT_TRUE(write_project(sample(a), a / "p.lowbit").has_value());
  auto text = read_text_file(a / "p.lowbit");
  ASSERT_TRUE(text.has_value());
  const auto j = nlohmann::json::parse(*text);
  EXPECT_EQ(j["model"], "models/demo");
  EXPECT_EQ(j["calibration"]["file"], "/data/calib.txt");  // outside: absolute
  const fs::path b = dir.path() / "b";
  fs::rename(a, b);
  auto moved = read_project(b / "p.lowbit");
  ASSERT_TRUE(moved.has_value()) << moved.error().message;
  EXPECT_EQ(moved->model, b / "models" / "demo");
  EXPECT_EQ(moved->exports[0].path, b / "out" / "demo.gguf");
}

TEST(ProjectFile, AMinimalProjectReadsWithDefaults) {
  test::TempDir dir;
  const fs::path file = dir.path() / "m.lowbit";
  std::ofstream(file) << R"({"format": "lowbit-project", "version": 1, "model": "/m"})";
  auto p = read_project(file);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->model, "/m");
  EXPECT_FALSE(p->plan.has_value());
  EXPECT_FALSE(p->comparison.has_value());
  EXPECT_TRUE(p->layouts.empty());
}

TEST(ProjectFile, DamagedFilesNameTheFileAndTheKey) {
  test::TempDir dir;
  struct Case {
    const char* json;
    const char* expected;
  };
  const Case cases[] = {
      {"{", "not valid JSON"},
      {R"({"format": "lowbit-layout", "version": 1})", "not a lowbit project"},
      {R"({"format": "lowbit-project", "version": 2, "model": "/m"})", "version"},
      {R"({"format": "lowbit-project", "version": 1})", "\"model\""},
      {R"({"format": "lowbit-project", "version": 1, "model": "/m", "calibration": {"samples": -3}})", "calibration.samples"},
      {R"({"format": "lowbit-project", "version": 1, "model": "/m", "plan": {"formats": ["q9_z"]}})", "plan.formats"},
      {R"({"format": "lowbit-project", "version": 1, "model": "/m", "plan": {"method": "magic"}})", "plan.method"},
      {R"({"format": "lowbit-project", "version": 1, "model": "/m", "layouts": [{"name": "x", "layout": {}}]})", "layout 'x'"},
      {R"({"format": "lowbit-project", "version": 1, "model": "/m", "comparison": {"rows": [{"name": "r"}]}})", "\"ppl\""},
      // Found by fuzz_project (CI, session 8): a number where a row's method name goes threw out of the reader.
      {R"({"format": "lowbit-project", "version": 1, "model": "/m", "comparison": {"rows": [{"name": "r", "method": 1.8, "ppl": 3}]}})",
       "\"method\" must be a string"},
      {R"({"format": "lowbit-project", "version": 1, "model": "/m", "exports": [{"to": "gguf"}]})", "exports[].path"},
      {R"({"format": "lowbit-project", "version": 1, "model": "/m", "notes": [1]})", "notes"},
  };
  int i = 0;
  for (const Case& c : cases) {
    const fs::path file = dir.path() / ("bad" + std::to_string(i++) + ".lowbit");
    std::ofstream(file) << c.json;
    auto p = read_project(file);
    ASSERT_FALSE(p.has_value()) << c.json;
    EXPECT_NE(p.error().message.find(file.string()), std::string::npos) << p.error().message;
    EXPECT_NE(p.error().message.find(c.expected), std::string::npos) << c.json << " → " << p.error().message;
  }
  auto missing = read_project(dir.path() / "none.lowbit");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::Io);
}

}  // namespace
}  // namespace lowbit
