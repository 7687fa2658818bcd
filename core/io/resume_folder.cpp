#include "core/io/resume_folder.h"

#include <algorithm>
#include <cstdio>
#include <vector>
#include <nlohmann/json.hpp>
#include <system_error>

#include "core/io/mapped_file.h"

namespace fs = std::filesystem;

namespace lowbit {

namespace {
constexpr const char* kFormat = "lowbit-resume";
}  // namespace

Expected<bool> open_resume_folder(const fs::path& dir, const std::string& fingerprint, bool resume, int version,
                                  bool other_runs_start_fresh) {
  const fs::path run = dir / "run.json";
  std::error_code ec;
  if (resume && fs::exists(run, ec)) {
    auto check = [&]() -> Expected<bool> {
      LB_TRY_ASSIGN(std::string text, read_text_file(run));
      const auto j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_discarded() || !j.is_object() || j.value("format", std::string()) != kFormat || !j.contains("fingerprint") ||
          !j["fingerprint"].is_string())
        return make_error(ErrorCode::Format, run.string() + ": not the resume folder of a lowbit run");
      if (j.value("version", 0) != version)
        return make_error(ErrorCode::Format, dir.string() + ": this resume folder was written by another version of lowbit; remove it or "
                                                     "run without --resume");
      if (j["fingerprint"].get<std::string>() != fingerprint)
        return make_error(ErrorCode::Format, dir.string() + ": this resume folder belongs to another run (the model, the "
                                                     "options or the calibration windows differ); remove it or run without --resume");
      return true;
    };
    auto same = check();
    if (same || !other_runs_start_fresh) return same;
  }
  // A fresh run: whatever an earlier one left goes.
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::Io, dir.string() + ": cannot create the resume folder: " + ec.message());
  const nlohmann::json j = {{"format", kFormat}, {"version", version}, {"fingerprint", fingerprint}};
  LB_TRY_VOID(write_text_file_atomic(run, j.dump(1) + "\n"));
  return false;
}

std::string model_files_id(const std::string& model) {
  std::string id = "model " + fs::absolute(model).lexically_normal().string();
  std::error_code ec;
  std::vector<fs::path> files;
  if (fs::is_directory(model, ec)) {
    for (const auto& e : fs::directory_iterator(model, ec))
      if (e.is_regular_file(ec)) files.push_back(e.path());
  } else {
    files.push_back(model);
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    const auto size = fs::file_size(f, ec);
    const auto time = fs::last_write_time(f, ec).time_since_epoch().count();
    id += ";" + f.filename().string() + " " + std::to_string(size) + " " + std::to_string(time);
  }
  return id;
}

uint64_t token_hash(std::span<const int32_t> tokens) {
  uint64_t h = 1469598103934665603ull;
  for (int32_t t : tokens) {
    uint32_t v = static_cast<uint32_t>(t);
    for (int k = 0; k < 4; ++k) {
      h ^= (v >> (8 * k)) & 0xffu;
      h *= 1099511628211ull;
    }
  }
  return h;
}

std::string token_hash_hex(std::span<const int32_t> tokens) {
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(token_hash(tokens)));
  return hash;
}

}  // namespace lowbit
