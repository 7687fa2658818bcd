// `lowbit` on inputs and options a user gets wrong: an output that names an input is refused before
// any work (the input left byte for byte), a file where a folder is expected and the reverse, option
// values that are missing or out of range, a config that disagrees with the tensors or holds a
// non-finite epsilon, a perplexity that is not finite (an error, not "ok"), `COMMAND --help`.
// Runs the real binary; the cases that need a model use ../shared and skip without it.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <tuple>
#include <nlohmann/json.hpp>

#include "cli_support.h"

namespace lowbit::test {
namespace {

namespace fs = std::filesystem;

const fs::path kModel = "models/kjv-llama-8m";

// A copy of kjv-llama-8m (files linked, config.json and `copied` copied) whose config is `edit`ed.
fs::path model_copy(const std::string& name, const std::function<void(nlohmann::json&)>& edit, const std::string& copied = "") {
  const fs::path src = shared_dir() / kModel, dir = fresh_temp_dir(name);
  for (const auto& e : fs::directory_iterator(src)) {
    const auto n = e.path().filename().string();
    if (n == "config.json") continue;
    if (n == copied) fs::copy_file(e.path(), dir / n);
    else fs::create_symlink(e.path(), dir / n);
  }
  auto config = nlohmann::json::parse(slurp(src / "config.json"));
  edit(config);
  write_file(dir / "config.json", config.dump());
  return dir;
}

// A short text of the model's language (a few windows of 16 tokens).
fs::path short_text(const fs::path& dir) {
  write_file(dir / "text.txt", slurp(shared_dir() / "data/kjv-valid.txt").substr(0, 4000));
  return dir / "text.txt";
}

TEST(CliInputs, AnOutputThatNamesAnInputIsRefusedAndTheInputKept) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  const auto dir = fresh_temp_dir("clash");
  const auto text = short_text(dir);
  const std::string model = (shared_dir() / kModel).string(), before = slurp(text);
  // --cache names the calibration text (spelt another way).
  auto r = run_lowbit({"plan", model, "--budget-bpw", "5", "--formats", "q8_0", "--calib", text.string(), "--samples", "2", "--ctx", "16",
                       "--out", (dir / "p.json").string(), "--cache", (dir / "." / "text.txt").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--cache names the --calib file"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(text), before);
  // export's --out names its layout.
  write_file(dir / "L.json", "{}");
  r = run_lowbit({"export", model, "--layout", (dir / "L.json").string(), "--to", "gguf", "--out", (dir / "L.json").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(slurp(dir / "L.json"), "{}");
  // quantize's --out names its evaluation text.
  r = run_lowbit({"quantize", model, "--method", "rtn", "--format", "q8_0", "--eval", text.string(), "--out", text.string(), "--to", "gguf"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(slurp(text), before);
}

TEST(CliInputs, AReportIsNeverWrittenOverItsProject) {
  const auto dir = fresh_temp_dir("report_clash");
  const fs::path project = dir / "p.lowbit";
  fs::copy_file(source_dir() / "tests/fuzz/corpus/project/minimal.lowbit", project);
  const std::string before = slurp(project);
  auto r = run_lowbit({"report", project.string(), "--pdf", project.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(slurp(project), before);
  r = run_lowbit({"report", project.string(), "--pdf", dir.string()});  // a folder: no file name to write
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("needs a file name"), std::string::npos) << r.err;
}

TEST(CliInputs, AFileThatIsNotASensitivityCacheIsLeftAlone) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  const auto dir = fresh_temp_dir("not_cache");
  const auto text = short_text(dir);
  write_file(dir / "notes.txt", "my notes");
  fs::create_directories(dir / "folder");
  for (const fs::path& cache : {dir / "notes.txt", dir / "folder"}) {
    auto r = run_lowbit({"plan", (shared_dir() / kModel).string(), "--budget-bpw", "12", "--formats", "q8_0", "--calib", text.string(),
                         "--samples", "2", "--ctx", "16", "--out", (dir / "p.json").string(), "--cache", cache.string()});
    EXPECT_NE(r.exit_code, 0) << cache;
    EXPECT_NE(r.err.find(cache.string()), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "p.json"));
    EXPECT_FALSE(fs::exists(cache.string() + ".partial"));
  }
  EXPECT_EQ(slurp(dir / "notes.txt"), "my notes");
}

TEST(CliInputs, OptionValuesThatAreMissingOrOutOfRangeAreUsageErrors) {
  auto r = run_lowbit({"ppl", "m", "--ctx", "--text", "t.txt"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--ctx needs a value"), std::string::npos) << r.err;
  for (const std::vector<std::string>& budget : {std::vector<std::string>{"--budget-size", "-5"}, {"--budget-size", "0"},
                                                  {"--budget-bpw", "-1"}, {"--budget-bpw", "nan"}}) {
    std::vector<std::string> a = {"plan", "m", "--calib", "c.txt", "--out", "p.json"};
    a.insert(a.end(), budget.begin(), budget.end());
    r = run_lowbit(a);
    EXPECT_EQ(r.exit_code, 2) << budget[0] << " " << budget[1] << ": " << r.err;
    EXPECT_NE(r.err.find(budget[0] + " must be a positive"), std::string::npos) << r.err;
  }
  r = run_lowbit({"ppl", "m", "--text", "t.txt", "--backend", "vulkan", "--device", "-1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_lowbit({"quantize", "m", "--method", "rtn", "--format", "q4_k", "--out", "model-q4k"});  // no .gguf: a GPTQ folder
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--to gguf"), std::string::npos) << r.err;
  // What is at --out, before any work: a folder for a file, a file for a folder, a missing folder.
  const auto dir = fresh_temp_dir("out_target");
  write_file(dir / "file", "x");
  for (const auto& [out, to, phrase] : {std::tuple<fs::path, std::string, std::string>{dir, "gguf", "is a folder"},
                                        {dir / "file", "gptq", "is a file"},
                                        {dir / "missing" / "m.gguf", "gguf", "does not exist"}}) {
    r = run_lowbit({"quantize", "m", "--method", "rtn", "--format", "int4g128a", "--out", out.string(), "--to", to});
    EXPECT_EQ(r.exit_code, 2) << out;
    EXPECT_NE(r.err.find(out.string() + ": "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(phrase), std::string::npos) << r.err;
  }
  EXPECT_EQ(slurp(dir / "file"), "x");
  // A checkpoint folder named with a trailing separator is a folder to make, not a missing parent.
  r = run_lowbit({"quantize", "/nonexistent/m", "--method", "rtn", "--format", "int4g128a", "--out", (dir / "new").string() + "/",
                  "--to", "gptq"});
  EXPECT_EQ(r.err.find("does not exist"), std::string::npos) << r.err;
}

TEST(CliInputs, AnImpossibleBudgetFailsBeforeTheSensitivityPass) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  const auto dir = fresh_temp_dir("impossible_budget");
  const auto text = short_text(dir);
  for (const char* kind : {"kld", "hessian"}) {
    const auto r = run_lowbit({"plan", (shared_dir() / kModel).string(), "--budget-size", "100000", "--formats", "q4_k,q8_0", "--calib",
                               text.string(), "--samples", "2", "--ctx", "16", "--sensitivity", kind, "--out", (dir / "p.json").string(),
                               "--cache", (dir / "cache.json").string()});
    EXPECT_EQ(r.exit_code, 2) << kind << ": " << r.err;
    EXPECT_NE(r.err.find("does not even hold what is not planned"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "cache.json")) << kind << ": the sensitivities were measured first";
  }
}

TEST(CliInputs, EveryCommandPrintsItsUsageWithHelp) {
  for (const std::string& cmd : std::vector<std::string>{"info", "tokenize", "ppl", "analyze", "quantize", "export", "plan", "compare", "report"}) {
    for (const char* flag : {"--help", "-h"}) {
      const auto r = run_lowbit({cmd, flag});
      EXPECT_EQ(r.exit_code, 0) << cmd << " " << flag << ": " << r.err;
      EXPECT_NE(r.out.find("  " + cmd + " "), std::string::npos) << r.out;
      EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << r.out;
    }
  }
  EXPECT_EQ(run_lowbit({"ppl", "--help"}).out.find("  plan "), std::string::npos);  // its own entries only
}

TEST(CliInputs, OptionsTheMethodDoesNotUseAreNamed) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  const auto dir = fresh_temp_dir("unused_options");
  const auto r = run_lowbit({"quantize", (shared_dir() / kModel).string(), "--method", "rtn", "--format", "q8_0", "--calib",
                             short_text(dir).string(), "--damp", "0.1", "--act-order", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_NE(j["warnings"].dump().find("--method rtn does not use --calib, --damp, --act-order"), std::string::npos) << j["warnings"];
}

TEST(CliInputs, AFolderGivenAsTextIsNamed) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  const auto dir = fresh_temp_dir("text_folder");
  const auto r = run_lowbit({"ppl", (shared_dir() / kModel).string(), "--text", dir.string(), "--ctx", "16"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(dir.string() + ": is a folder"), std::string::npos) << r.err;
}

TEST(CliInputs, TooShortATextIsNamedBeforeAnyWork) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  const auto dir = fresh_temp_dir("short_text");
  write_file(dir / "empty.txt", "");
  const std::string model = (shared_dir() / kModel).string(), empty = (dir / "empty.txt").string();
  for (const std::vector<std::string>& a :
       {std::vector<std::string>{"ppl", model, "--text", empty, "--ctx", "16"},
        {"compare", model, "--uniform", "q8_0", "--text", empty, "--ctx", "16"},
        {"quantize", model, "--method", "rtn", "--format", "q8_0", "--eval", empty, "--eval-ctx", "16"}}) {
    const auto r = run_lowbit(a);
    EXPECT_NE(r.exit_code, 0) << a[0];
    EXPECT_NE(r.err.find(empty + ": the text has 0 tokens"), std::string::npos) << a[0] << ": " << r.err;
  }
}

TEST(CliInputs, AConfigThatDisagreesWithItsTensorsOrHoldsABadEpsilonIsRefused) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  const auto fewer = model_copy("fewer_layers", [](nlohmann::json& c) { c["num_hidden_layers"] = c["num_hidden_layers"].get<int>() - 1; });
  auto r = run_lowbit({"info", fewer.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("belongs to block"), std::string::npos) << r.err;
  for (const double eps : {-1.0, 0.0}) {
    const auto bad = model_copy("bad_eps", [eps](nlohmann::json& c) { c["rms_norm_eps"] = eps; });
    r = run_lowbit({"info", bad.string()});
    EXPECT_EQ(r.exit_code, 1) << eps << ": " << r.err;
    EXPECT_NE(r.err.find("config.json: model config: the norm epsilon must be a positive number"), std::string::npos) << r.err;
  }
}

TEST(CliInputs, InfoSaysWhetherTheTokenizerLoads) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  auto r = run_lowbit({"info", (shared_dir() / kModel).string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["tokenizer_status"], "loads, 4096 tokens");
  const auto broken = model_copy("broken_tokenizer", [](nlohmann::json&) {}, "tokenizer.json");
  fs::permissions(broken / "tokenizer.json", fs::perms::owner_write, fs::perm_options::add);
  write_file(broken / "tokenizer.json", "{\"model\": ");
  r = run_lowbit({"info", broken.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string status = nlohmann::json::parse(r.out)["tokenizer_status"];
  EXPECT_EQ(status.rfind("does not load: ", 0), 0u) << status;
  EXPECT_NE(status.find("tokenizer.json"), std::string::npos) << status;
}

TEST(CliInputs, APerplexityThatIsNotFiniteIsAnError) {
  LOWBIT_REQUIRE_SHARED("models/kjv-llama-8m");
  // The final norm's first weight made NaN in a copy of the shard that holds it.
  const auto index = nlohmann::json::parse(slurp(shared_dir() / kModel / "model.safetensors.index.json"));
  const std::string shard = index["weight_map"]["model.norm.weight"];
  const auto dir = model_copy("nan_weight", [](nlohmann::json&) {}, shard);
  fs::permissions(dir / shard, fs::perms::owner_write, fs::perm_options::add);
  std::string bytes = slurp(dir / shard);
  uint64_t header = 0;
  std::memcpy(&header, bytes.data(), 8);
  const auto h = nlohmann::json::parse(bytes.substr(8, header));
  const auto& t = h["model.norm.weight"];
  const size_t at = 8 + header + t["data_offsets"][0].get<size_t>();
  if (t["dtype"] == "F32") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(bytes.data() + at, &nan, 4);
  } else {
    ASSERT_TRUE(t["dtype"] == "BF16" || t["dtype"] == "F16") << t.dump();
    const uint16_t nan = t["dtype"] == "BF16" ? 0x7FC0 : 0x7E00;
    std::memcpy(bytes.data() + at, &nan, 2);
  }
  write_file(dir / shard, bytes);
  const auto r = run_lowbit({"ppl", dir.string(), "--text", short_text(dir).string(), "--ctx", "16", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("is not finite"), std::string::npos) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], false);
}

}  // namespace
}  // namespace lowbit::test
