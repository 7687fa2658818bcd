#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "app/cli/commands.h"

#include "core/export/estimate.h"
#include "core/io/mapped_file.h"
#include "core/io/resume_folder.h"
#include "core/model/forward.h"
#include "core/model/model.h"

namespace lowbit::cli {

// What a resume folder is checked against: the model's files (path, size, modification time) and
// the command line, less the options that do not change the result.
std::string run_id(const std::string& model, const std::vector<std::string>& argv) {
  std::string id = model_files_id(model);
  id += ";args";
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--resume" || argv[i] == "--quiet" || argv[i] == "--json") continue;
    if (argv[i] == "--threads") {
      ++i;
      continue;
    }
    id += " " + argv[i];
  }
  return id;
}

void print_json(const nlohmann::json& j) {
  const std::string s = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

int fail(const Error& error, bool json) {
  const int code = error.code == ErrorCode::Cancelled ? kCancelled : error.code == ErrorCode::InvalidArgument ? kUsage : kFailure;
  std::fprintf(stderr, "lowbit: error: %s\n", error.message.c_str());
  if (json) print_json({{"ok", false}, {"error", error.message}, {"error_kind", to_string(error.code)}});
  return code;
}

Expected<void> one_window_of_text(size_t tokens, int64_t ctx, const std::string& path) {
  if (ctx > 0 && tokens < static_cast<size_t>(ctx))
    return make_error(ErrorCode::InvalidArgument, path + ": the text has " + std::to_string(tokens) + " tokens, fewer than one window of " +
                                                      std::to_string(ctx));
  return {};
}

Error with_resume_note(Error error, const std::string& resume_dir) {
  std::error_code ec;
  if (!resume_dir.empty() && std::filesystem::is_directory(resume_dir, ec))
    error.message += " (the finished blocks are kept in " + resume_dir +
                     ": the same command with --resume continues from them; delete it to start afresh)";
  return error;
}

int usage_error(const std::string& command, const std::string& message, bool json) {
  std::fprintf(stderr, "lowbit %s: %s (see lowbit --help)\n", command.c_str(), message.c_str());
  if (json) print_json({{"ok", false}, {"error", message}, {"error_kind", "usage"}});
  return kUsage;
}

double peak_rss_mb() { return process_peak_rss_mb(); }

bool apply_threads(long long threads, std::string& error) {
  if (threads < 0 || threads > 1024) {
    error = "--threads must be between 0 (all cores) and 1024";
    return false;
  }
  set_compute_threads(static_cast<int>(threads));
  return true;
}

}  // namespace lowbit::cli
