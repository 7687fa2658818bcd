// `lowbit quantize` end to end on the bundled demo model (tied embeddings, 4 blocks) and a fixture:
// the JSON report, --quantize-embeddings, --mse on a ggml type, and errors that name the tensor.
#include <gtest/gtest.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli_support.h"
#include "core/io/safetensors.h"

namespace lowbit::test {
namespace {

const std::filesystem::path kDemo = source_dir() / "resources/demo";

nlohmann::json quantize(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"quantize", kDemo.string(), "--json", "--threads", "2"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_lowbit(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

double sum_weight_error(const nlohmann::json& j) {
  double s = 0;
  for (const auto& l : j["layers"]) s += l["weight_rel_error"].get<double>();
  return s;
}

TEST(CliQuantize, RtnReportsEveryLinearLayer) {
  const auto j = quantize({"--method", "rtn", "--format", "q4_k"});
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["layers"].size(), 4u * 7u);  // q k v o gate up down per block
  EXPECT_DOUBLE_EQ(j["bits_per_weight"].get<double>(), 4.5);
  EXPECT_GT(j["peak_rss_mb"].get<double>(), 0.0);
  for (const auto& l : j["layers"]) {
    EXPECT_GT(l["weight_rel_error"].get<double>(), 0.0);
    EXPECT_LT(l["weight_rel_error"].get<double>(), 0.2) << l["tensor"];
  }
}

// --dry-run writes nothing and predicts the output's exact size; the run it describes streams the
// model block by block and writes a file of that size.
TEST(CliQuantize, DryRunPredictsTheStreamedRun) {
  const auto dir = fresh_temp_dir("dry_run");
  for (const std::string method : {"rtn", "gptq", "awq"}) {
    SCOPED_TRACE(method);
    const std::string to = method == "rtn" ? "gguf" : "gptq";
    const auto sub = dir / method;
    std::filesystem::create_directories(sub);
    const auto out = sub / (to == "gguf" ? "demo.gguf" : "demo-gptq");
    std::vector<std::string> args = {"--method", method, "--format", to == "gguf" ? "q4_k" : "int4g32a", "--out", out.string()};
    if (method != "rtn")
      for (const char* a : {"--calib", "demo-calib.txt", "--samples", "4", "--ctx", "32"})
        args.push_back(a == std::string("demo-calib.txt") ? (kDemo / a).string() : a);
    auto dry = args;
    dry.push_back("--dry-run");
    const auto d = quantize(dry);
    ASSERT_TRUE(d.is_object());
    EXPECT_TRUE(d["dry_run"].get<bool>());
    EXPECT_TRUE(d["streamed"].get<bool>());
    EXPECT_GT(d["estimate"]["peak_rss_mb"].get<double>(), 0.0);
    EXPECT_GT(d["estimate"]["seconds"].get<double>(), 0.0);
    EXPECT_GT(d["probe"]["block_seconds"].get<double>(), 0.0);
    EXPECT_FALSE(std::filesystem::exists(out)) << "a dry run wrote its output";
    EXPECT_TRUE(std::filesystem::is_empty(sub)) << "a dry run left files behind";
    const auto j = quantize(args);
    ASSERT_TRUE(j.is_object());
    EXPECT_TRUE(j["streamed"].get<bool>());
    const auto file = to == "gguf" ? out : out / "model.safetensors";
    ASSERT_TRUE(std::filesystem::exists(file));
    EXPECT_EQ(std::filesystem::file_size(file), d["output"]["bytes"].get<uint64_t>());
  }
  // An evaluation is not estimated: refused, clearly.
  auto r = run_lowbit({"quantize", kDemo.string(), "--method", "rtn", "--format", "q4_0", "--eval", (kDemo / "demo-valid.txt").string(),
                       "--dry-run", "--json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("drop --eval"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

// Methods that hold the whole model (cbq, onebit) are probed on their own progress: the run is
// cancelled one window (block) into the next, nothing is written, and the output's size is exact.
TEST(CliQuantize, DryRunOfAResidentMethodProbesItsProgress) {
  const auto dir = fresh_temp_dir("dry_run_resident");
  const auto out = dir / "cbq-gptq";
  std::vector<std::string> args = {"--method", "cbq", "--format", "int4g32a", "--calib", (kDemo / "demo-calib.txt").string(),
                                   "--samples", "4", "--ctx", "32", "--cbq-iters", "4", "--out", out.string()};
  auto dry = args;
  dry.push_back("--dry-run");
  const auto d = quantize(dry);
  ASSERT_TRUE(d.is_object());
  EXPECT_TRUE(d["dry_run"].get<bool>());
  EXPECT_FALSE(d["streamed"].get<bool>());
  const double fraction = d["probe"]["fraction"].get<double>();
  EXPECT_GT(fraction, 1.0 / 3.0) << "3 windows of 2 blocks: the probe runs into the second";
  EXPECT_LT(fraction, 1.0);
  EXPECT_GT(d["estimate"]["seconds"].get<double>(), 0.0);
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "a dry run left files behind";
  const auto j = quantize(args);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(std::filesystem::file_size(out / "model.safetensors"), d["output"]["bytes"].get<uint64_t>());
  const auto o = quantize({"--method", "onebit", "--calib", (kDemo / "demo-calib.txt").string(), "--samples", "4", "--ctx", "32",
                           "--onebit-iters", "2", "--out", (dir / "onebit").string(), "--dry-run"});
  ASSERT_TRUE(o.is_object());
  EXPECT_GT(o["probe"]["fraction"].get<double>(), 0.25);
  EXPECT_FALSE(o.contains("output")) << "a onebit folder's size is not estimated";
  EXPECT_FALSE(std::filesystem::exists(dir / "onebit"));
  std::filesystem::remove_all(dir);
}

// The fraction of 4-bit codes two GPTQ checkpoints share (qweight words unpacked).
double shared_codes(const std::filesystem::path& a, const std::filesystem::path& b) {
  auto fa = SafetensorsFile::open(a / "model.safetensors");
  auto fb = SafetensorsFile::open(b / "model.safetensors");
  if (!fa || !fb) return -1;
  int64_t same = 0, total = 0;
  for (const auto& ta : (*fa)->tensors()) {
    if (ta.name.find(".qweight") == std::string::npos) continue;
    for (const auto& tb : (*fb)->tensors()) {
      if (tb.name != ta.name || tb.nbytes != ta.nbytes) continue;
      const auto* x = reinterpret_cast<const uint32_t*>(ta.data);
      const auto* y = reinterpret_cast<const uint32_t*>(tb.data);
      for (uint64_t i = 0; i < ta.nbytes / 4; ++i)
        for (int s = 0; s < 32; s += 4) {
          ++total;
          same += ((x[i] >> s) & 15u) == ((y[i] >> s) & 15u);
        }
    }
  }
  return total ? static_cast<double>(same) / static_cast<double>(total) : -1;
}

// --backend vulkan runs GPTQ's inverse factor, its sweep and the calibration on the GPU (lavapipe in
// CI). The sweep's shaders round every operation as core's sweep does: with the calibration and the
// factor kept on the CPU (--calib-backend cpu --factor-backend cpu) the checkpoint is the CPU's, byte
// for byte (int4g32a, q4_0 and q4_k GGUFs). The GPU's factor and calibration round in other orders,
// and the rounding ties that moves are carried on by GPTQ's error feedback: nearly all codes are the
// CPU's.
TEST(CliQuantize, GptqSweepOnVulkanAgreesWithTheCpu) {
  const auto dir = fresh_temp_dir("gptq_vulkan");
  std::vector<std::string> args = {"--method", "gptq", "--format", "int4g32a", "--calib", (kDemo / "demo-calib.txt").string(),
                                   "--samples", "8", "--ctx", "32"};
  auto cpu = args, sweep = args, factor = args, gpu = args;
  cpu.insert(cpu.end(), {"--out", (dir / "cpu").string()});
  sweep.insert(sweep.end(), {"--out", (dir / "sweep").string(), "--backend", "vulkan", "--calib-backend", "cpu", "--factor-backend", "cpu"});
  factor.insert(factor.end(), {"--out", (dir / "factor").string(), "--backend", "vulkan", "--calib-backend", "cpu"});
  gpu.insert(gpu.end(), {"--out", (dir / "gpu").string(), "--backend", "vulkan"});
  const auto c = quantize(cpu);
  const auto s = quantize(sweep);
  ASSERT_TRUE(c.is_object() && s.is_object());
  EXPECT_EQ(c["backend"], "cpu");
  EXPECT_EQ(c["calibration_backend"], "cpu");
  if (s["backend"] != "vulkan") GTEST_SKIP() << "no Vulkan device here: " << s["warnings"].dump();
  EXPECT_EQ(s["calibration_backend"], "cpu");
  EXPECT_EQ(s["calibration"]["factor_backend"], "cpu");
  EXPECT_EQ(shared_codes(dir / "cpu", dir / "sweep"), 1.0) << "codes shared with the CPU's checkpoint";
  EXPECT_TRUE(slurp(dir / "cpu" / "model.safetensors") == slurp(dir / "sweep" / "model.safetensors")) << "the checkpoints differ";
  // Onto ggml block types too (q4_0 and q4_k GGUFs): the CPU's files.
  for (const char* type : {"q4_0", "q4_k"}) {
    SCOPED_TRACE(type);
    auto gguf_args = args;
    gguf_args[3] = type;
    const std::string cpu_file = (dir / (std::string(type) + "_cpu.gguf")).string(), sweep_file = (dir / (std::string(type) + "_sweep.gguf")).string();
    auto cpu_gguf = gguf_args, sweep_gguf = gguf_args;
    cpu_gguf.insert(cpu_gguf.end(), {"--out", cpu_file});
    sweep_gguf.insert(sweep_gguf.end(), {"--out", sweep_file, "--backend", "vulkan", "--calib-backend", "cpu", "--factor-backend", "cpu"});
    ASSERT_TRUE(quantize(cpu_gguf).is_object());
    const auto sg = quantize(sweep_gguf);
    ASSERT_TRUE(sg.is_object());
    EXPECT_EQ(sg["warnings"].dump().find("ran GPTQ on the CPU"), std::string::npos) << sg["warnings"].dump();
    EXPECT_TRUE(slurp(cpu_file) == slurp(sweep_file)) << "the GGUF files differ";
  }
  // The factor on the device: U the CPU's to float accuracy; GPTQ's error feedback carries on the few
  // rounding ties that moves, as with the calibration below.
  const auto f = quantize(factor);
  ASSERT_TRUE(f.is_object());
  EXPECT_EQ(f["calibration"]["factor_backend"], "vulkan");
  const double factor_agree = shared_codes(dir / "cpu", dir / "factor");
  EXPECT_GE(factor_agree, 0.995) << "codes shared with the CPU's checkpoint";
  std::printf("demo int4g32a, factor on the GPU: %.4f %% of codes as the CPU's\n", 100 * factor_agree);
  const auto g = quantize(gpu);
  ASSERT_TRUE(g.is_object());
  EXPECT_EQ(g["calibration_backend"], "vulkan");
  const double agree = shared_codes(dir / "cpu", dir / "gpu");
  EXPECT_GE(agree, 0.995) << "codes shared with the CPU's checkpoint";
  std::printf("demo int4g32a, calibration on the GPU: %.4f %% of codes as the CPU's\n", 100 * agree);
  EXPECT_EQ(run_lowbit({"quantize", kDemo.string(), "--method", "gptq", "--format", "int4g32a", "--calib-backend", "vulkan", "--json"})
                .exit_code,
            2)
      << "--calib-backend vulkan without --backend vulkan";
  auto r = run_lowbit({"quantize", kDemo.string(), "--method", "cbq", "--format", "int4g32a", "--backend", "vulkan", "--json"});
  EXPECT_NE(r.exit_code, 0) << "CBQ on Vulkan is not a quantize backend yet";
  std::filesystem::remove_all(dir);
}

// --backend vulkan quantizes RTN on the GPU (lavapipe in CI): the int family and ggml's block types
// (legacy and K-quants) through shaders that reproduce the CPU's quantizers bit for bit — the same
// file, byte for byte; the int family's clip search (--mse) and the weighted search (--mse) of every
// ggml type too — no layer falls back to the CPU.
TEST(CliQuantize, RtnOnVulkanWritesTheCpuFile) {
  const auto dir = fresh_temp_dir("rtn_vulkan");
  struct Case {
    const char* format;
    const char* to;
    const char* file;
    bool mse = false;  // the clip search
  };
  for (const Case& c : {Case{"q4_0", "gguf", "m.gguf"}, Case{"q8_0", "gguf", "m.gguf"}, Case{"int4g32a", "gptq", "model.safetensors"},
                        Case{"q4_k", "gguf", "m.gguf"}, Case{"q6_k", "gguf", "m.gguf"}, Case{"q4_1", "gguf", "m.gguf", true},
                        Case{"q5_0", "gguf", "m.gguf", true}, Case{"q4_k", "gguf", "m.gguf", true}, Case{"q6_k", "gguf", "m.gguf", true},
                        Case{"int4g32a", "gptq", "model.safetensors", true}}) {
    SCOPED_TRACE(std::string(c.format) + (c.mse ? " --mse" : ""));
    const std::string to = c.to;
    const std::string tag = std::string(c.format) + (c.mse ? "_mse" : "");
    const auto cpu_out = dir / (tag + "_cpu"), gpu_out = dir / (tag + "_gpu");
    auto out = [&](const std::filesystem::path& p) { return to == "gguf" ? (p / c.file).string() : p.string(); };
    if (to == "gguf") std::filesystem::create_directories(cpu_out), std::filesystem::create_directories(gpu_out);
    std::vector<std::string> cpu_args = {"--method", "rtn", "--format", c.format, "--to", c.to, "--out", out(cpu_out)};
    std::vector<std::string> gpu_args = {"--method", "rtn", "--format", c.format, "--to", c.to, "--out", out(gpu_out), "--backend", "vulkan"};
    if (c.mse) cpu_args.push_back("--mse"), gpu_args.push_back("--mse");
    const auto cj = quantize(cpu_args);
    const auto gj = quantize(gpu_args);
    ASSERT_TRUE(cj.is_object() && gj.is_object());
    if (gj["backend"] != "vulkan") GTEST_SKIP() << "no Vulkan device here: " << gj["warnings"].dump();
    EXPECT_TRUE(slurp(cpu_out / c.file) == slurp(gpu_out / c.file)) << "the files differ";
    const bool fell_back = gj["warnings"].dump().find("layers ran RTN on the CPU") != std::string::npos;
    EXPECT_FALSE(fell_back) << gj["warnings"].dump();
  }
  std::filesystem::remove_all(dir);
}

// --backend vulkan evaluates AWQ's α grid and runs its clip search on the GPU (lavapipe in CI): the
// errors agree with the CPU's to rounding, so the same α and clip ratios are chosen and — the
// calibration staying on the CPU (--calib-backend cpu) — the checkpoint is the CPU's, byte for byte,
// but where a tie falls the other way. (The clip search takes most of this test's ~40 s on lavapipe.)
TEST(CliQuantize, AwqGridOnVulkanChoosesTheCpuScales) {
  const auto dir = fresh_temp_dir("awq_vulkan");
  std::vector<std::string> args = {"--method", "awq", "--format", "int4g32a", "--calib", (kDemo / "demo-calib.txt").string(),
                                   "--samples", "4", "--ctx", "32", "--awq-grid", "5", "--to", "gptq"};
  auto cpu = args, gpu = args;
  cpu.insert(cpu.end(), {"--out", (dir / "cpu").string()});
  gpu.insert(gpu.end(), {"--out", (dir / "gpu").string(), "--backend", "vulkan", "--calib-backend", "cpu"});
  const auto c = quantize(cpu);
  const auto g = quantize(gpu);
  ASSERT_TRUE(c.is_object() && g.is_object());
  if (g["backend"] != "vulkan") GTEST_SKIP() << "no Vulkan device here: " << g["warnings"].dump();
  ASSERT_EQ(c["layers"].size(), g["layers"].size());
  for (size_t i = 0; i < c["layers"].size(); ++i)
    EXPECT_EQ(c["layers"][i]["awq_alpha"], g["layers"][i]["awq_alpha"]) << c["layers"][i]["tensor"];
  EXPECT_EQ(shared_codes(dir / "cpu", dir / "gpu"), 1.0);
  auto bad = run_lowbit({"quantize", kDemo.string(), "--method", "awq", "--format", "int4g32a", "--awq-grid", "0", "--json"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  std::filesystem::remove_all(dir);
}

TEST(CliQuantize, QuantizeEmbeddingsAddsTheTiedEmbeddingOnce) {
  const auto plain = quantize({"--method", "rtn", "--format", "q8_0"});
  const auto j = quantize({"--method", "rtn", "--format", "q8_0", "--quantize-embeddings"});
  ASSERT_EQ(j["layers"].size(), plain["layers"].size() + 1);
  const auto& e = j["layers"].back();
  EXPECT_EQ(e["part"], "embed");
  EXPECT_EQ(e["tensor"], "model.embed_tokens.weight");
  EXPECT_EQ(j["quantized_weights"].get<int64_t>(), plain["quantized_weights"].get<int64_t>() + 2048 * 256);
}

TEST(CliQuantize, MseSearchLowersTheWeightErrorOfQ4_0) {
  const double ref = sum_weight_error(quantize({"--method", "rtn", "--format", "q4_0"}));
  const double mse = sum_weight_error(quantize({"--method", "rtn", "--format", "q4_0", "--mse"}));
  EXPECT_LT(mse, ref);
}

TEST(CliQuantize, ErrorsAndUsage) {
  EXPECT_EQ(run_lowbit({"quantize", kDemo.string(), "--method", "gptq", "--format", "int4g128a"}).exit_code, 2);  // no --calib
  EXPECT_EQ(run_lowbit({"quantize", kDemo.string(), "--method", "rtn", "--format", "int9g7x"}).exit_code, 2);
  EXPECT_EQ(run_lowbit({"quantize", kDemo.string(), "--method", "nope", "--format", "q4_0"}).exit_code, 2);
  if (!std::filesystem::exists(shared_dir() / "models/hf-fixtures/llama-gqa")) GTEST_SKIP() << "../shared is absent";
  // The fixture's rows are not a multiple of 256: a K-quant cannot store them, and the error says which tensor.
  auto r = run_lowbit({"quantize", (shared_dir() / "models/hf-fixtures/llama-gqa").string(), "--method", "rtn", "--format", "q4_k"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("model.layers.0."), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lowbit::test
