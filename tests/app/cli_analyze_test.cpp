// `lowbit analyze` end to end on the bundled demo model: the folder it writes opens as a
// CalibrationSet with every block's statistics, its JSON says what was measured, --views adds the
// studio's views files and their summary, and bad arguments are usage errors or failures that name
// the file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_support.h"
#include "core/calib/analyze.h"

namespace lowbit::test {
namespace {

const std::filesystem::path kDemo = source_dir() / "resources/demo";

TEST(CliAnalyze, WritesAFolderTheStudioReadsBack) {
  const auto out = std::filesystem::temp_directory_path() / ("lowbit_cli_analyze_" + std::to_string(::getpid()));
  std::filesystem::remove_all(out);
  auto r = run_lowbit({"analyze", kDemo.string(), "--calib", (kDemo / "demo-calib.txt").string(), "--samples", "4", "--ctx", "64",
                       "--seed", "3", "--out", out.string(), "--json", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["tokens"], 4 * 64);
  EXPECT_EQ(j["blocks"], 4);
  EXPECT_EQ(j["inputs"].size(), 16u);
  EXPECT_EQ(j["inputs"][0]["tensors"].size(), 3u);  // q, k and v read the first input
  auto set = CalibrationSet::open(out);
  ASSERT_TRUE(set.has_value()) << set.error().message;
  EXPECT_EQ(set->blocks(), 4);
  EXPECT_EQ(set->channels(0, LinearInput::kDown), 512);
  auto h = set->hessian(3, LinearInput::kQkv);
  ASSERT_TRUE(h.has_value());
  // A Hessian 2/n Σ x xᵀ has a positive diagonal on a trained model's normed inputs.
  for (int64_t i = 0; i < 256; ++i) EXPECT_GT((*h)[static_cast<size_t>(i * 256 + i)], 0.0f);
  std::filesystem::remove_all(out);
}

// --backend vulkan walks the windows on the GPU (lavapipe in CI): the same statistics as the CPU's to
// float rounding (the Hessians summed in another order); with --views the views run on the CPU.
TEST(CliAnalyze, VulkanWalkMatchesTheCpu) {
  const auto dir = fresh_temp_dir("analyze_vulkan");
  std::vector<std::string> args = {"analyze", kDemo.string(), "--calib", (kDemo / "demo-calib.txt").string(), "--samples", "4",
                                   "--ctx", "32", "--json"};
  auto cpu = args, gpu = args;
  cpu.insert(cpu.end(), {"--out", (dir / "cpu").string()});
  gpu.insert(gpu.end(), {"--out", (dir / "gpu").string(), "--backend", "vulkan"});
  auto c = run_lowbit(cpu);
  auto g = run_lowbit(gpu);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(nlohmann::json::parse(c.out)["backend"], "cpu");
  const auto gj = nlohmann::json::parse(g.out);
  if (gj["backend"] != "vulkan") GTEST_SKIP() << "no Vulkan device here: " << gj["warnings"].dump();
  auto a = CalibrationSet::open(dir / "cpu");
  auto b = CalibrationSet::open(dir / "gpu");
  ASSERT_TRUE(a && b);
  for (int64_t blk = 0; blk < a->blocks(); ++blk)
    for (LinearInput i : kLinearInputs) {
      auto ha = a->hessian(blk, i);
      auto hb = b->hessian(blk, i);
      ASSERT_TRUE(ha && hb);
      ASSERT_EQ(ha->size(), hb->size());
      double diff = 0, scale = 0;
      for (size_t k = 0; k < ha->size(); ++k) {
        diff = std::max(diff, static_cast<double>(std::abs((*ha)[k] - (*hb)[k])));
        scale = std::max(scale, static_cast<double>(std::abs((*ha)[k])));
      }
      EXPECT_LT(diff, 1e-5 * scale) << "block " << blk << " " << linear_input_name(i);
    }
  // With --views the calibration and the Hessian view's walks, and the landscape's forward passes,
  // run on the GPU: the views are the CPU's to float rounding.
  std::vector<std::string> view_args = {"analyze", kDemo.string(), "--calib", (kDemo / "demo-calib.txt").string(), "--samples", "2",
                                        "--ctx", "16", "--views", "outliers,hessian,landscape", "--view-bits", "3", "--blocks", "1",
                                        "--landscape-points", "3", "--landscape-block", "1", "--json"};
  auto cpu_views = view_args, gpu_views = view_args;
  cpu_views.insert(cpu_views.end(), {"--out", (dir / "views_cpu").string()});
  gpu_views.insert(gpu_views.end(), {"--out", (dir / "views").string(), "--backend", "vulkan"});
  auto cv = run_lowbit(cpu_views);
  auto views = run_lowbit(gpu_views);
  ASSERT_EQ(cv.exit_code, 0) << cv.err;
  ASSERT_EQ(views.exit_code, 0) << views.err;
  EXPECT_EQ(nlohmann::json::parse(views.out)["backend"], "vulkan");
  EXPECT_EQ(nlohmann::json::parse(views.out)["views"]["scale_views_backend"], "vulkan");
  EXPECT_EQ(nlohmann::json::parse(cv.out)["views"]["scale_views_backend"], "cpu");
  ASSERT_TRUE(std::filesystem::exists(dir / "views" / "views.json"));
  const auto va = nlohmann::json::parse(slurp(dir / "views_cpu" / "views.json"));
  const auto vb = nlohmann::json::parse(slurp(dir / "views" / "views.json"));
  ASSERT_EQ(va["hessian"]["layers"].size(), vb["hessian"]["layers"].size());
  for (size_t k = 0; k < va["hessian"]["layers"].size(); ++k)
    for (const char* key : {"eig_max", "trace", "offdiag_mass"}) {
      const double want = va["hessian"]["layers"][k][key].get<double>(), got = vb["hessian"]["layers"][k][key].get<double>();
      EXPECT_NEAR(got, want, 1e-5 * std::abs(want)) << key << " of layer " << k;
    }
  const auto& la = va["landscape"][0]["loss"];
  const auto& lb = vb["landscape"][0]["loss"];
  ASSERT_EQ(la.size(), 3u);
  ASSERT_EQ(lb.size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j) EXPECT_NEAR(lb[i][j].get<double>(), la[i][j].get<double>(), 1e-5 * la[i][j].get<double>());
  std::filesystem::remove_all(dir);
}

// --dry-run probes block 0, writes nothing, and names the size of the statistics the run then writes.
TEST(CliAnalyze, DryRunEstimatesAndWritesNothing) {
  const auto out = std::filesystem::temp_directory_path() / ("lowbit_cli_analyze_dry_" + std::to_string(::getpid()));
  std::filesystem::remove_all(out);
  std::vector<std::string> args = {"analyze", kDemo.string(), "--calib", (kDemo / "demo-calib.txt").string(), "--samples", "4",
                                   "--ctx", "64", "--out", out.string(), "--json", "--threads", "2"};
  auto dry = args;
  dry.push_back("--dry-run");
  auto d = run_lowbit(dry);
  ASSERT_EQ(d.exit_code, 0) << d.err;
  const auto e = nlohmann::json::parse(d.out);
  EXPECT_TRUE(e["dry_run"].get<bool>());
  EXPECT_TRUE(e["streamed"].get<bool>());
  EXPECT_EQ(e["blocks"], 4);
  EXPECT_GT(e["estimate"]["seconds"].get<double>(), 0.0);
  EXPECT_GT(e["estimate"]["peak_rss_mb"].get<double>(), 0.0);
  EXPECT_FALSE(std::filesystem::exists(out)) << "a dry run wrote its output";
  auto r = run_lowbit(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto stats = std::filesystem::file_size(out / "stats.safetensors");
  const auto predicted = e["output"]["bytes"].get<uint64_t>();
  EXPECT_LE(predicted, stats);
  EXPECT_LT(stats - predicted, 64u * 1024) << "the header is all the estimate leaves out";
  // With views the model is held whole: the run is probed on its progress, into a scratch folder
  // that goes, so the output folder (removed first) is not written either.
  std::filesystem::remove_all(out);
  dry.insert(dry.end(), {"--views", "outliers,landscape", "--landscape-points", "3"});
  auto v = run_lowbit(dry);
  ASSERT_EQ(v.exit_code, 0) << v.err;
  const auto ve = nlohmann::json::parse(v.out);
  EXPECT_FALSE(ve["streamed"].get<bool>());
  EXPECT_GT(ve["probe"]["fraction"].get<double>(), 0.1);
  EXPECT_GT(ve["estimate"]["seconds"].get<double>(), 0.0);
  EXPECT_EQ(ve["output"]["bytes"], e["output"]["bytes"]);
  EXPECT_FALSE(std::filesystem::exists(out)) << "a dry run wrote its output";
}

TEST(CliAnalyze, ViewsWriteTheirFilesAndSummary) {
  const auto out = std::filesystem::temp_directory_path() / ("lowbit_cli_views_" + std::to_string(::getpid()));
  std::filesystem::remove_all(out);
  // One thread: the AWQ curves run many small parallel loops whose OpenMP barriers spin (≈ 8× the CPU
  // time with 2 threads on a busy machine).
  auto r = run_lowbit({"analyze", kDemo.string(), "--calib", (kDemo / "demo-calib.txt").string(), "--samples", "2", "--ctx", "32",
                       "--out", out.string(), "--json", "--threads", "1", "--views", "hessian,scale-hessian,landscape,awq,outliers",
                       "--view-bits", "2", "--blocks", "1,3", "--landscape-points", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["blocks"], 4);  // the calibration summary as before
  ASSERT_TRUE(j.contains("views"));
  for (const char* k : {"hessian", "scale_hessian", "landscape", "awq", "outliers", "seconds", "files"})
    EXPECT_TRUE(j["views"].contains(k)) << k;
  EXPECT_EQ(j["views"]["scale_hessian"][0]["diagonal"].size(), 4u);
  for (const char* f : {"calibration.json", "stats.safetensors", "views.json", "views.safetensors"})
    EXPECT_TRUE(std::filesystem::exists(out / f)) << f;
  std::ifstream in(out / "views.json");
  const auto v = nlohmann::json::parse(in);
  EXPECT_EQ(v["format"], "lowbit-views");
  EXPECT_EQ(v["version"], 1);
  EXPECT_EQ(v["hessian"]["blocks"], (std::vector<int>{1, 3}));
  EXPECT_EQ(v["hessian"]["layers"].size(), 2u * 4u * 2u);  // blocks × inputs × {fp, b2}
  EXPECT_EQ(v["landscape"][0]["loss"].size(), 3u);
  EXPECT_EQ(v["awq"][0]["groups"].size(), 16u);
  // Plain progress lines (stderr is not a terminal) end with the last stage.
  EXPECT_NE(r.err.find("views written"), std::string::npos) << r.err;
  std::filesystem::remove_all(out);
}

TEST(CliAnalyze, BadViewArguments) {
  const std::string calib = (kDemo / "demo-calib.txt").string();
  auto r = run_lowbit({"analyze", kDemo.string(), "--calib", calib, "--out", "/tmp/lowbit_never", "--views", "hessian,heatmap", "--json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("heatmap"), std::string::npos) << r.out;
  EXPECT_EQ(run_lowbit({"analyze", kDemo.string(), "--calib", calib, "--out", "/tmp/lowbit_never", "--views", "awq", "--view-bits", "1"}).exit_code, 2);
  EXPECT_EQ(run_lowbit({"analyze", kDemo.string(), "--calib", calib, "--out", "/tmp/lowbit_never", "--view-bits", "2"}).exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists("/tmp/lowbit_never"));
}

TEST(CliAnalyze, BadArguments) {
  EXPECT_EQ(run_lowbit({"analyze", kDemo.string(), "--out", "/tmp/x"}).exit_code, 2);  // no --calib
  EXPECT_EQ(run_lowbit({"analyze", kDemo.string(), "--calib", "x.txt"}).exit_code, 2);  // no --out
  auto r = run_lowbit({"analyze", kDemo.string(), "--calib", "/nonexistent/calib.txt", "--out", "/tmp/lowbit_never"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/calib.txt"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists("/tmp/lowbit_never/stats.safetensors"));
}

}  // namespace
}  // namespace lowbit::test
