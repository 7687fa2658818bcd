// The commands of `lowbit`. Each takes the arguments after the command word and returns the exit
// code: 0 ok, 1 failure, 2 usage error, 130 cancelled. With --json a command prints exactly one JSON
// object on stdout (an error too: {"ok": false, "error": ...}); progress always goes to stderr.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/calib/calibration.h"
#include "core/jobs/progress.h"
#include "core/quant/format.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/expected.h"

namespace lowbit::cli {

enum ExitCode { kOk = 0, kFailure = 1, kUsage = 2, kCancelled = 130 };

// The cancel token that SIGINT sets.
CancelToken& interrupt_token();

int run_info(const std::vector<std::string>& argv);
int run_tokenize(const std::vector<std::string>& argv);
int run_ppl(const std::vector<std::string>& argv);
int run_quantize(const std::vector<std::string>& argv);
int run_analyze(const std::vector<std::string>& argv);
int run_export(const std::vector<std::string>& argv);
int run_plan(const std::vector<std::string>& argv);
int run_compare(const std::vector<std::string>& argv);
int run_report(const std::vector<std::string>& argv);
int run_dev(const std::vector<std::string>& argv);  // developer tools: `dev synth` (cmd_dev.cpp)

// "a,b,c" → formats; nullopt with `error` set on an unknown name or an empty list.
std::optional<std::vector<Format>> parse_format_list(const std::string& list, std::string& error);

// Reports an error (stderr, and stdout JSON in json mode) and returns its exit code.
int fail(const Error& error, bool json);
// An error naming `path` when its `tokens` do not fill one evaluation window of `ctx` (checked before
// any work, as the evaluation itself would find it only after it).
Expected<void> one_window_of_text(size_t tokens, int64_t ctx, const std::string& path);
// `error` with a note when an interrupted run left its finished blocks in `resume_dir`: how to go on.
Error with_resume_note(Error error, const std::string& resume_dir);
int usage_error(const std::string& command, const std::string& message, bool json);
void print_json(const nlohmann::json& j);

// The peak resident memory of this process so far, in MB.
double peak_rss_mb();
// What a resume folder is checked against: the model's files (path, size, modification time) and
// the command line, less the options that do not change the result (--resume, --quiet, --json, --threads).
std::string run_id(const std::string& model, const std::vector<std::string>& argv);

// Threads for OpenMP/Eigen from --threads (0 = all cores); returns false on a bad value.
bool apply_threads(long long threads, std::string& error);

}  // namespace lowbit::cli
