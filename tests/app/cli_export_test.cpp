// plan → compare → export → ppl of the file, through `lowbit` on the bundled demo model: the planned
// layout meets its budget, the GGUF export reads back with the perplexity `ppl --layout` measured in
// memory, the GPTQ export likewise, and the errors a user can make exit with a message.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_support.h"
#include "core/plan/layout.h"

namespace lowbit::test {
namespace {

const std::filesystem::path kDemo = source_dir() / "resources/demo";

nlohmann::json run_json(std::vector<std::string> args) {
  args.push_back("--json");
  args.push_back("--quiet");
  auto r = run_lowbit(args);
  EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

double ppl_of(const std::vector<std::string>& extra, const std::string& model) {
  std::vector<std::string> a = {"ppl", model, "--text", (kDemo / "demo-valid.txt").string(), "--ctx", "128", "--threads", "2"};
  a.insert(a.end(), extra.begin(), extra.end());
  const auto j = run_json(a);
  return j.is_object() && j.contains("ppl") ? j["ppl"].get<double>() : -1;
}

TEST(CliExport, PlanCompareExportAndTheFileMeasuresAsPlanned) {
  const auto dir = fresh_temp_dir("cli_export");
  const std::string layout = (dir / "plan.json").string();
  const std::string calib = (kDemo / "demo-calib.txt").string();
  const auto plan = run_json({"plan", kDemo.string(), "--budget-bpw", "5", "--formats", "q4_0,q5_0,q8_0", "--calib", calib,
                              "--samples", "4", "--ctx", "64", "--out", layout, "--threads", "2"});
  ASSERT_TRUE(plan.is_object());
  EXPECT_LE(plan["file_bytes"].get<uint64_t>(), plan["budget_bytes"].get<uint64_t>());
  EXPECT_LE(plan["bits_per_weight"].get<double>(), 5.0);
  EXPECT_GT(plan["predicted_ppl"].get<double>(), 1.0);
  // Planning again is answered from the cache.
  const auto again = run_json({"plan", kDemo.string(), "--budget-bpw", "5", "--formats", "q4_0,q5_0,q8_0", "--calib", calib,
                               "--samples", "4", "--ctx", "64", "--out", layout, "--threads", "2"});
  EXPECT_EQ(again["sensitivity"]["measured"].get<int64_t>(), 0);

  const auto cmp = run_json({"compare", kDemo.string(), "--layouts", layout, "--uniform", "q4_0", "--quantize-embeddings", "--text",
                             (kDemo / "demo-valid.txt").string(), "--ctx", "128", "--threads", "2"});
  ASSERT_EQ(cmp["results"].size(), 2u);
  EXPECT_EQ(cmp["results"][0]["file_bytes"].get<uint64_t>(), plan["file_bytes"].get<uint64_t>());
  for (const auto& r : cmp["results"]) EXPECT_GT(r["kld"]["mean"].get<double>(), 0.0);

  const std::string gguf = (dir / "demo.gguf").string();
  const auto x = run_json({"export", kDemo.string(), "--layout", layout, "--to", "gguf", "--out", gguf, "--threads", "2"});
  ASSERT_TRUE(x.is_object());
  EXPECT_EQ(x["export"]["bytes"].get<uint64_t>(), std::filesystem::file_size(gguf));
  EXPECT_EQ(x["export"]["bytes"].get<uint64_t>(), plan["file_bytes"].get<uint64_t>());
  const double in_memory = ppl_of({"--layout", layout}, kDemo.string());
  const double from_file = ppl_of({}, gguf);
  EXPECT_NEAR(from_file / in_memory, 1.0, 1e-4) << in_memory << " vs " << from_file;
  EXPECT_NEAR(cmp["results"][0]["ppl"].get<double>() / in_memory, 1.0, 1e-4);
}

// `plan --sensitivity hessian` streams the model (no --text) and plans the layout the resident run
// (forced by --text) plans.
TEST(CliExport, HessianPlanStreamsAndPlansAsTheResidentRun) {
  const auto dir = fresh_temp_dir("cli_plan_stream");
  const std::string calib = (kDemo / "demo-calib.txt").string();
  std::vector<std::string> args = {"plan", kDemo.string(), "--budget-bpw", "7", "--formats", "q4_0,q5_0,q8_0", "--sensitivity", "hessian",
                                   "--calib", calib, "--samples", "4", "--ctx", "64", "--threads", "2"};
  auto streamed_args = args, resident_args = args;
  streamed_args.insert(streamed_args.end(), {"--out", (dir / "streamed.json").string()});
  resident_args.insert(resident_args.end(), {"--out", (dir / "resident.json").string(), "--text", (kDemo / "demo-valid.txt").string()});
  const auto s = run_json(streamed_args);
  const auto r = run_json(resident_args);
  ASSERT_TRUE(s.is_object() && r.is_object());
  EXPECT_TRUE(s["streamed"].get<bool>());
  EXPECT_FALSE(r["streamed"].get<bool>());
  EXPECT_EQ(s["file_bytes"], r["file_bytes"]);
  auto a = read_layout(dir / "streamed.json");
  auto b = read_layout(dir / "resident.json");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->tensors, b->tensors);
  EXPECT_EQ(s["backend"], "cpu");
  // --backend vulkan walks the windows on the GPU (lavapipe in CI): Hessians equal to float rounding,
  // the same layout.
  auto gpu_args = args;
  gpu_args.insert(gpu_args.end(), {"--out", (dir / "gpu.json").string(), "--backend", "vulkan"});
  const auto g = run_json(gpu_args);
  ASSERT_TRUE(g.is_object());
  if (g["backend"] == "vulkan") {
    auto c = read_layout(dir / "gpu.json");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->tensors, a->tensors);
    EXPECT_EQ(g["file_bytes"], s["file_bytes"]);
  } else {
    EXPECT_FALSE(g["warnings"].empty()) << "the fallback to the CPU is said";
  }
  // Its --dry-run probes block 0 and writes no layout.
  auto dry_args = args;
  dry_args.insert(dry_args.end(), {"--out", (dir / "dry.json").string(), "--dry-run"});
  const auto d = run_json(dry_args);
  ASSERT_TRUE(d.is_object());
  EXPECT_TRUE(d["dry_run"].get<bool>());
  EXPECT_GT(d["estimate"]["seconds"].get<double>(), 0.0);
  EXPECT_FALSE(std::filesystem::exists(dir / "dry.json"));
  dry_args.insert(dry_args.end(), {"--text", (kDemo / "demo-valid.txt").string()});
  dry_args.insert(dry_args.end(), {"--json"});
  auto refused = run_lowbit(dry_args);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("not yet --text's evaluation"), std::string::npos) << refused.err;
  std::filesystem::remove_all(dir);
}

// The commands that hold the whole model estimate by running until part of their reported progress
// has passed (ProgressProbe), then extrapolating: the KLD plan (which writes neither the layout nor
// its cache), ppl of the model and of a layout, compare.
// `plan` (KLD sensitivity) with --backend vulkan runs the reference pass and every candidate's rerun
// on the GPU (lavapipe in CI): every tensor's KL and NLL change agree with the CPU's, and the same
// layout comes out. Each run has its own cache, so that neither reads the other's measurements.
TEST(CliExport, KldPlanOnVulkanPlansAsTheCpu) {
  const auto dir = fresh_temp_dir("cli_plan_kld_vulkan");
  std::vector<std::string> args = {"plan", kDemo.string(), "--budget-bpw", "6", "--formats", "q4_0,q8_0", "--calib",
                                   (kDemo / "demo-calib.txt").string(), "--samples", "2", "--ctx", "32", "--threads", "2"};
  auto cpu_args = args, gpu_args = args;
  cpu_args.insert(cpu_args.end(), {"--out", (dir / "cpu.json").string(), "--cache", (dir / "cpu-cache.json").string()});
  gpu_args.insert(gpu_args.end(), {"--out", (dir / "gpu.json").string(), "--cache", (dir / "gpu-cache.json").string(), "--backend", "vulkan"});
  const auto c = run_json(cpu_args);
  const auto g = run_json(gpu_args);
  ASSERT_TRUE(c.is_object() && g.is_object());
  EXPECT_EQ(c["backend"], "cpu");
  if (g["backend"] != "vulkan") GTEST_SKIP() << "no Vulkan device here: " << g["warnings"].dump();
  EXPECT_GT(g["sensitivity"]["measured"].get<int64_t>(), 0);
  EXPECT_EQ(g["sensitivity"]["cached"].get<int64_t>(), 0);
  auto a = read_layout(dir / "cpu.json");
  auto b = read_layout(dir / "gpu.json");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->tensors, b->tensors);
  ASSERT_EQ(c["tensors"].size(), g["tensors"].size());
  for (size_t i = 0; i < c["tensors"].size(); ++i) {
    const double want = c["tensors"][i]["kld"].get<double>(), got = g["tensors"][i]["kld"].get<double>();
    EXPECT_NEAR(got, want, 2e-3 * want + 2e-7) << c["tensors"][i]["tensor"];
    EXPECT_NEAR(g["tensors"][i]["dnll"].get<double>(), c["tensors"][i]["dnll"].get<double>(), 1e-5) << c["tensors"][i]["tensor"];
  }
  EXPECT_NEAR(g["predicted_ppl"].get<double>(), c["predicted_ppl"].get<double>(), 1e-4 * c["predicted_ppl"].get<double>());
}

TEST(CliExport, ResidentCommandsDryRunOnTheirProgress) {
  const auto dir = fresh_temp_dir("cli_dry_resident");
  const std::string calib = (kDemo / "demo-calib.txt").string(), text = (kDemo / "demo-valid.txt").string();
  const auto plan = run_json({"plan", kDemo.string(), "--budget-bpw", "5", "--formats", "q4_k,q6_k", "--calib", calib, "--samples",
                              "4", "--ctx", "64", "--out", (dir / "l.json").string(), "--dry-run"});
  ASSERT_TRUE(plan.is_object());
  EXPECT_GT(plan["probe"]["fraction"].get<double>(), 0.05);
  EXPECT_GT(plan["estimate"]["seconds"].get<double>(), 0.0);
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "a dry run wrote the layout or the sensitivity cache";
  const auto layout = run_json({"plan", kDemo.string(), "--budget-bpw", "5", "--formats", "q4_k,q6_k", "--calib", calib, "--samples",
                                "4", "--ctx", "64", "--out", (dir / "l.json").string()});
  ASSERT_TRUE(layout.is_object());
  for (const bool with_layout : {false, true}) {
    std::vector<std::string> a = {"ppl", kDemo.string(), "--text", text, "--ctx", "32", "--threads", "2", "--dry-run"};
    if (with_layout) a.insert(a.end(), {"--layout", (dir / "l.json").string()});
    const auto d = run_json(a);
    ASSERT_TRUE(d.is_object()) << with_layout;
    EXPECT_FALSE(d["streamed"].get<bool>());
    EXPECT_GT(d["probe"]["fraction"].get<double>(), with_layout ? 0.4 : 0.05);
    EXPECT_GT(d["estimate"]["seconds"].get<double>(), 0.0);
  }
  const auto c = run_json({"compare", kDemo.string(), "--uniform", "q4_0,q8_0", "--text", text, "--ctx", "32", "--dry-run"});
  ASSERT_TRUE(c.is_object());
  EXPECT_GT(c["probe"]["fraction"].get<double>(), 0.5) << "into the second candidate";
  EXPECT_GT(c["estimate"]["seconds"].get<double>(), 0.0);
  std::filesystem::remove_all(dir);
}

// `ppl --stream` reads one block at a time and gives the resident perplexity; it evaluates the model
// as stored, so a layout with it is a usage error.
TEST(CliExport, PerplexityStreamedIsTheResidentOne) {
  const double resident = ppl_of({}, kDemo.string());
  const auto j = run_json({"ppl", kDemo.string(), "--text", (kDemo / "demo-valid.txt").string(), "--ctx", "128", "--threads", "2", "--stream"});
  ASSERT_TRUE(j.is_object());
  EXPECT_TRUE(j["streamed"].get<bool>());
  EXPECT_NEAR(j["ppl"].get<double>() / resident, 1.0, 1e-9);
  auto r = run_lowbit({"ppl", kDemo.string(), "--text", (kDemo / "demo-valid.txt").string(), "--stream", "--layout", "x.json"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--stream evaluates the model as stored"), std::string::npos) << r.err;
  // Its --dry-run probes one batch through block 0 and the head.
  const auto d = run_json({"ppl", kDemo.string(), "--text", (kDemo / "demo-valid.txt").string(), "--ctx", "128", "--threads", "2",
                           "--stream", "--dry-run"});
  ASSERT_TRUE(d.is_object());
  EXPECT_TRUE(d["dry_run"].get<bool>());
  EXPECT_GT(d["estimate"]["seconds"].get<double>(), 0.0);
  EXPECT_GT(d["probe"]["block_seconds"].get<double>(), 0.0);
  EXPECT_LT(d["estimate"]["seconds"].get<double>(), 10 * j["seconds"].get<double>() + 1.0);
}

TEST(CliExport, GptqCheckpointReadsBackWithTheInMemoryPerplexity) {
  const auto dir = fresh_temp_dir("cli_export_gptq");
  const std::string out = (dir / "demo-gptq").string();
  const auto q = run_json({"quantize", kDemo.string(), "--method", "gptq", "--format", "int4g64a", "--calib",
                           (kDemo / "demo-calib.txt").string(), "--samples", "8", "--ctx", "64", "--eval",
                           (kDemo / "demo-valid.txt").string(), "--eval-ctx", "128", "--out", out, "--to", "gptq", "--threads", "2"});
  ASSERT_TRUE(q.is_object());
  ASSERT_TRUE(std::filesystem::exists(std::filesystem::path(out) / "config.json"));
  const double from_file = ppl_of({}, out);
  EXPECT_NEAR(from_file / q["ppl"].get<double>(), 1.0, 1e-4);
}

TEST(CliExport, ErrorsExitWithAMessage) {
  const auto dir = fresh_temp_dir("cli_export_errors");
  // An int format cannot go into GGUF.
  auto r = run_lowbit({"quantize", kDemo.string(), "--format", "int4g64a", "--out", (dir / "x.gguf").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a GGUF type"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.gguf"));
  // The input is never the output.
  r = run_lowbit({"quantize", kDemo.string(), "--format", "q8_0", "--out", (kDemo / "model.safetensors").string(), "--to", "gguf"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("refusing to overwrite"), std::string::npos) << r.err;
  // export needs its layout and target.
  EXPECT_EQ(run_lowbit({"export", kDemo.string(), "--to", "gguf", "--out", (dir / "y.gguf").string()}).exit_code, 2);
  // A layout naming a tensor the model lacks.
  const auto bad = dir / "bad.json";
  std::ofstream(bad) << R"({"format":"lowbit-layout","version":1,"tensors":{"model.layers.9.mlp.up_proj.weight":"q8_0"}})";
  r = run_lowbit({"ppl", kDemo.string(), "--text", (kDemo / "demo-valid.txt").string(), "--layout", bad.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("layers.9"), std::string::npos) << r.err;
  // A budget below the smallest layout.
  r = run_lowbit({"plan", kDemo.string(), "--budget-bpw", "1", "--formats", "q4_0", "--calib", (kDemo / "demo-calib.txt").string(),
                  "--samples", "2", "--ctx", "32", "--out", (dir / "p.json").string(), "--cache", (dir / "c.json").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("budget"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lowbit::test
