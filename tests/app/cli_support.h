// Runs build/bin/lowbit as a user would and captures its exit code, stdout and stderr.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace lowbit::test {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
  double max_child_rss_mb = 0;  // the largest resident set of any child this process has waited for
};

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline CliResult run_lowbit(const std::vector<std::string>& args) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto out = dir / ("lowbit_cli_out_" + std::to_string(::getpid()));
  const auto err = dir / ("lowbit_cli_err_" + std::to_string(::getpid()));
  std::string cmd = shell_quote((bin_dir() / "lowbit").string());
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " > " + shell_quote(out.string()) + " 2> " + shell_quote(err.string()) + " < /dev/null";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  rusage ru{};
  getrusage(RUSAGE_CHILDREN, &ru);
  r.max_child_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

// A fresh temporary folder for one test.
inline std::filesystem::path fresh_temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("lowbit_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// A file's bytes ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace lowbit::test
