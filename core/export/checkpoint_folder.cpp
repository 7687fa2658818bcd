#include "core/export/checkpoint_folder.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <fstream>

#include "core/io/mapped_file.h"

namespace lowbit {
namespace fs = std::filesystem;
namespace {

// The source's files a checkpoint folder needs beside the weights (tokenizer, generation settings).
constexpr const char* kCopiedFiles[] = {"tokenizer.json",         "tokenizer_config.json", "special_tokens_map.json",
                                        "generation_config.json", "tokenizer.model",       "vocab.json",
                                        "merges.txt",             "added_tokens.json"};

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// Whether `inner` is `outer` or lies inside it (both canonical).
bool within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin(), o = outer.begin();
  for (; o != outer.end(); ++o, ++i)
    if (i == inner.end() || *i != *o) return false;
  return true;
}

Expected<void> check_target(const fs::path& out, const fs::path& out_canon, const fs::path& src_canon,
                            const std::string& kind, const std::function<bool(const nlohmann::json&)>& is_ours) {
  if (out_canon == src_canon || within(src_canon, out_canon))
    return make_error(ErrorCode::InvalidArgument,
                      out.string() + ": is the source checkpoint's folder (or holds it); the export would overwrite its input");
  if (!present(out)) return {};
  std::error_code ec;
  if (!fs::is_directory(out, ec)) return make_error(ErrorCode::InvalidArgument, out.string() + ": exists and is not a folder");
  if (fs::is_empty(out, ec)) return {};
  if (auto text = read_text_file(out / "config.json")) {
    const auto j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_discarded() && is_ours(j)) return {};
  }
  return make_error(ErrorCode::InvalidArgument,
                    out.string() + ": exists and is not a " + kind + " checkpoint folder; choose an empty or new folder");
}

// Puts the finished temporary folder at `out`; an earlier export there is replaced.
Expected<void> move_into_place(const fs::path& temp, const fs::path& out) {
  std::error_code ec;
  if (present(out)) {
    fs::path old = out;
    old += ".lowbit-old-" + std::to_string(::getpid());
    fs::rename(out, old, ec);
    if (ec) return make_error(ErrorCode::Io, out.string() + ": the earlier export cannot be moved aside: " + ec.message());
    fs::rename(temp, out, ec);
    if (ec) {
      std::error_code ec2;
      fs::rename(old, out, ec2);
      return make_error(ErrorCode::Io, out.string() + ": cannot be replaced: " + ec.message());
    }
    fs::remove_all(old, ec);
    return {};
  }
  fs::rename(temp, out, ec);
  if (ec) return make_error(ErrorCode::Io, out.string() + ": the export cannot be moved into place: " + ec.message());
  return {};
}

}  // namespace

Expected<FolderExport> FolderExport::begin(const Model& source, const fs::path& out_dir, const std::string& kind,
                                           const std::function<bool(const nlohmann::json&)>& is_ours) {
  if (!source.checkpoint) return make_error(ErrorCode::InvalidArgument, kind + " export: no source checkpoint");
  const Checkpoint& ck = *source.checkpoint;
  if (ck.kind() == Checkpoint::Kind::Gguf)
    return make_error(ErrorCode::Unsupported, kind + " export: " + ck.path().string() + " is a GGUF file; a " + kind +
                                                  " checkpoint needs a Hugging Face source (config.json and its tensor names)");
  FolderExport x;
  x.kind_ = kind;
  const fs::path src_dir = ck.kind() == Checkpoint::Kind::HfFolder ? ck.path() : ck.path().parent_path();
  x.source_dir_ = src_dir.empty() ? fs::path(".") : src_dir;
  if (!present(x.source_dir_ / "config.json"))
    return make_error(ErrorCode::Unsupported, kind + " export: " + ck.path().string() + " has no config.json beside it");
  if (out_dir.empty()) return make_error(ErrorCode::InvalidArgument, kind + " export: no output folder given");

  std::error_code ec;
  const fs::path src_canon = fs::weakly_canonical(x.source_dir_, ec);
  x.target_ = fs::weakly_canonical(fs::absolute(out_dir, ec), ec);
  if (ec) return make_error(ErrorCode::Io, out_dir.string() + ": cannot resolve the path: " + ec.message());
  if (x.target_.filename().empty()) x.target_ = x.target_.parent_path();  // a trailing separator
  LB_TRY_VOID(check_target(out_dir, x.target_, src_canon, kind, is_ours));

  const fs::path parent = x.target_.parent_path();
  fs::create_directories(parent, ec);
  if (ec) return make_error(ErrorCode::Io, parent.string() + ": cannot create the folder: " + ec.message());
  const std::string stem = "." + x.target_.filename().string() + ".lowbit-partial-";
  // A run that was killed (not cancelled) could not remove its temporary folder: one whose process is
  // gone is removed now. (A streaming export holds its folder for the whole run.)
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(stem, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + stem.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove_all(e.path(), ec);
  }
  const fs::path temp = parent / (stem + std::to_string(::getpid()));
  fs::remove_all(temp, ec);
  fs::create_directories(temp, ec);
  if (ec) return make_error(ErrorCode::Io, temp.string() + ": cannot create the folder: " + ec.message());
  x.temp_ = temp;
  return x;
}

FolderExport::FolderExport(FolderExport&& other) noexcept
    : kind_(std::move(other.kind_)),
      source_dir_(std::move(other.source_dir_)),
      target_(std::move(other.target_)),
      temp_(std::move(other.temp_)) {
  other.temp_.clear();
}

FolderExport::~FolderExport() {
  std::error_code ec;
  if (!temp_.empty()) fs::remove_all(temp_, ec);
}

Expected<nlohmann::ordered_json> FolderExport::source_config() const {
  const fs::path path = source_dir_ / "config.json";
  LB_TRY_ASSIGN(const std::string text, read_text_file(path));
  auto config = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) return make_error(ErrorCode::Format, path.string() + ": not a JSON object");
  return config;
}

Expected<void> FolderExport::write_text(const std::string& name, const std::string& text) const {
  const fs::path p = temp_ / name;
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return make_error(ErrorCode::Io, p.string() + ": cannot be written");
  return {};
}

Expected<uint64_t> FolderExport::finish() {
  std::error_code ec;
  for (const char* f : kCopiedFiles) {
    const fs::path from = source_dir_ / f;
    if (!present(from)) continue;
    fs::copy_file(from, temp_ / f, fs::copy_options::overwrite_existing, ec);
    if (ec) return make_error(ErrorCode::Io, from.string() + ": cannot be copied into the export: " + ec.message());
    // The copy is the user's to change, even when the source's files are read-only.
    fs::permissions(temp_ / f, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add, ec);
  }
  uint64_t bytes = 0;
  for (auto it = fs::directory_iterator(temp_, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    const auto size = it->file_size(size_ec);
    if (!size_ec) bytes += size;
  }
  LB_TRY_VOID(move_into_place(temp_, target_));
  temp_.clear();
  return bytes;
}

}  // namespace lowbit
