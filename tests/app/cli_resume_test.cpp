// `lowbit quantize --method gptq|awq --out F` keeps each finished block in F.resume/; killed (SIGKILL) at
// a random block and rerun with --resume it writes the same file, byte for byte, as an uninterrupted
// run, and removes the folder. A resume folder of another run is refused; --resume without --out or
// with another method is a usage error. The demo model (resources/demo, 4 blocks) keeps it quick.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include "cli_support.h"

namespace lowbit {
namespace {

namespace fs = std::filesystem;
using test::run_lowbit;
using test::slurp;

fs::path demo() { return test::source_dir() / "resources" / "demo"; }

std::vector<std::string> gptq_args(const fs::path& out, const std::string& method = "gptq") {
  return {"quantize", demo().string(), "--method", method, "--format", "q4_k", "--calib", (demo() / "demo-calib.txt").string(),
          "--samples", "96", "--ctx", "128", "--out", out.string(), "--quiet"};
}

// Starts `lowbit ARGS` as a child process (to be killed): its pid, or -1.
pid_t spawn_lowbit(std::vector<std::string> args) {
  const std::string bin = (test::bin_dir() / "lowbit").string();
  std::vector<char*> cargv;
  cargv.push_back(const_cast<char*>(bin.c_str()));
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    execv(bin.c_str(), cargv.data());
    _exit(127);
  }
  return pid;
}

void killed_and_resumed_writes_the_same_file(const std::string& method) {
  const auto dir = test::fresh_temp_dir("resume_" + method);
  const fs::path whole = dir / "whole.gguf", resumed = dir / "resumed.gguf";
  const auto a = run_lowbit(gptq_args(whole, method));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_FALSE(fs::exists(dir / "whole.gguf.resume")) << "a completed run leaves no resume folder";

  // Kill the run once block k (1 or 2 of 0..3, drawn at random) is saved.
  std::mt19937 rng(static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
  const int k = 1 + static_cast<int>(rng() % 2);
  char name[40];
  std::snprintf(name, sizeof name, "block-%05d.safetensors", k);
  const fs::path marker = dir / "resumed.gguf.resume" / name;
  const pid_t pid = spawn_lowbit(gptq_args(resumed, method));
  ASSERT_GE(pid, 0);
  bool killed = false;
  for (int i = 0; i < 60'000 && !killed; ++i) {
    if (fs::exists(marker)) {
      killed = ::kill(pid, SIGKILL) == 0;
      break;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) break;  // it finished before block k was seen
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(killed && WIFSIGNALED(status)) << "the run ended before block " << k << " could be interrupted";
  ASSERT_FALSE(fs::exists(resumed)) << "a killed run leaves no output file";
  ASSERT_TRUE(fs::exists(dir / "resumed.gguf.resume" / "run.json"));

  auto args = gptq_args(resumed, method);
  args.push_back("--resume");
  const auto b = run_lowbit(args);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.err.find("block(s) restored"), std::string::npos) << b.err;
  EXPECT_EQ(slurp(whole), slurp(resumed)) << "killed at block " << k;
  EXPECT_FALSE(fs::exists(dir / "resumed.gguf.resume"));
  EXPECT_FALSE(fs::exists(dir / "resumed.gguf.partial")) << "the streamed file the killed run left is replaced";
  fs::remove_all(dir);
}

TEST(CliResume, KilledAtARandomBlockAndResumedWritesTheSameFile) {
  if (!fs::exists(demo() / "model.safetensors")) GTEST_SKIP() << "the demo model (resources/demo) is absent";
  killed_and_resumed_writes_the_same_file("gptq");
}

// AWQ changes the norms too (its scales are folded into them): the resumed file still matches.
TEST(CliResume, AwqKilledAtARandomBlockAndResumedWritesTheSameFile) {
  if (!fs::exists(demo() / "model.safetensors")) GTEST_SKIP() << "the demo model (resources/demo) is absent";
  killed_and_resumed_writes_the_same_file("awq");
}

// `lowbit analyze` (no views) keeps its walk's state in OUT.resume/: killed part-way (at a random
// moment after its first block) and rerun with --resume, it writes the statistics of an uninterrupted
// run, byte for byte. kjv-llama-8m (8 blocks, 32 windows of 256: a few seconds) gives time to kill it.
TEST(CliResume, AnalyzeKilledAndResumedWritesTheSameStatistics) {
  const fs::path model = test::shared_dir() / "models/kjv-llama-8m", text = test::shared_dir() / "data/kjv-train.txt";
  if (!fs::exists(model / "config.json") || !fs::exists(text)) GTEST_SKIP() << "../shared (kjv-llama-8m, kjv-train.txt) is absent";
  const auto dir = test::fresh_temp_dir("resume_analyze");
  auto args = [&](const fs::path& out) {
    return std::vector<std::string>{"analyze", model.string(), "--calib", text.string(), "--samples", "32", "--ctx", "256",
                                    "--out", out.string(), "--quiet", "--threads", "2"};
  };
  const fs::path whole = dir / "whole", resumed = dir / "resumed";
  const auto a = run_lowbit(args(whole));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_FALSE(fs::exists(dir / "whole.resume")) << "a completed run leaves no resume folder";

  std::mt19937 rng(static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
  const int delay_ms = static_cast<int>(rng() % 1000);
  const pid_t pid = spawn_lowbit(args(resumed));
  ASSERT_GE(pid, 0);
  bool killed = false;
  const fs::path state = dir / "resumed.resume" / "state.safetensors";
  for (int i = 0; i < 60'000 && !killed; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) break;
    if (fs::exists(state)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      killed = ::kill(pid, SIGKILL) == 0;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(killed && WIFSIGNALED(status)) << "the run ended before it could be interrupted (delay " << delay_ms << " ms)";
  ASSERT_FALSE(fs::exists(resumed / "stats.safetensors")) << "a killed run leaves no finished statistics";

  auto again = args(resumed);
  again.push_back("--resume");
  const auto b = run_lowbit(again);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(slurp(whole / "stats.safetensors"), slurp(resumed / "stats.safetensors")) << "killed after " << delay_ms << " ms";
  EXPECT_FALSE(fs::exists(dir / "resumed.resume"));
  fs::remove_all(dir);
}

TEST(CliResume, AFolderOfAnotherRunIsRefused) {
  if (!fs::exists(demo() / "model.safetensors")) GTEST_SKIP() << "the demo model (resources/demo) is absent";
  const auto dir = test::fresh_temp_dir("resume_other");
  const fs::path out = dir / "m.gguf";
  fs::create_directories(dir / "m.gguf.resume");
  test::write_file(dir / "m.gguf.resume" / "run.json", R"({"format": "lowbit-resume", "version": 2, "fingerprint": "another run"})");
  auto args = gptq_args(out);
  args.push_back("--resume");
  const auto r = run_lowbit(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("belongs to another run"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("m.gguf.resume"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  // A folder of another version of lowbit is refused too.
  test::write_file(dir / "m.gguf.resume" / "run.json", R"({"format": "lowbit-resume", "version": 1, "fingerprint": "x"})");
  const auto old = run_lowbit(args);
  EXPECT_EQ(old.exit_code, 1);
  EXPECT_NE(old.err.find("another version of lowbit"), std::string::npos) << old.err;
  // Without --resume the stale folder is replaced and the run completes.
  args.pop_back();
  const auto fresh = run_lowbit(args);
  EXPECT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_TRUE(fs::exists(out));
  fs::remove_all(dir);
}

TEST(CliResume, ResumeNeedsOutAndGptq) {
  const auto no_out = run_lowbit({"quantize", demo().string(), "--method", "gptq", "--format", "q4_k", "--calib",
                                  (demo() / "demo-calib.txt").string(), "--resume"});
  EXPECT_EQ(no_out.exit_code, 2) << no_out.err;
  EXPECT_NE(no_out.err.find("--resume needs --out"), std::string::npos) << no_out.err;
  const auto dir = test::fresh_temp_dir("resume_rtn");
  const auto rtn = run_lowbit({"quantize", demo().string(), "--method", "rtn", "--format", "q4_k", "--out",
                               (dir / "r.gguf").string(), "--resume"});
  EXPECT_EQ(rtn.exit_code, 1) << rtn.err;
  EXPECT_NE(rtn.err.find("supported for methods gptq, awq and awq+gptq"), std::string::npos) << rtn.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lowbit
