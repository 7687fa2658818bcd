#include "core/io/checkpoint.h"

#include <set>

#include "core/io/gptq_format.h"
#include "core/io/onebit_format.h"

namespace lowbit {
namespace fs = std::filesystem;

namespace {

Expected<nlohmann::json> read_json(const fs::path& path) {
  LB_TRY_ASSIGN(std::string text, read_text_file(path));
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(ErrorCode::Format, path.string() + ": not well-formed JSON");
  return j;
}

// std::filesystem queries that report errors (permissions, loops) as "absent" instead of throwing:
// no exception may leave the core.
bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

bool has_suffix(const fs::path& p, std::string_view suffix) {
  const std::string s = p.filename().string();
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

const char* Checkpoint::kind_name() const {
  switch (kind_) {
    case Kind::HfFolder: return "huggingface";
    case Kind::Safetensors: return "safetensors";
    case Kind::Gguf: return "gguf";
  }
  return "?";
}

Expected<void> Checkpoint::add_tensors(const std::vector<TensorInfo>& ts) {
  for (const auto& t : ts) {
    if (!index_.emplace(t.name, tensors_.size()).second)
      return make_error(ErrorCode::Format, t.file + ": tensor '" + t.name + "' appears in more than one file of " + path_.string());
    tensors_.push_back(t);
  }
  return {};
}

Expected<void> Checkpoint::resolve_gptq(const fs::path& config_path) {
  if (!is_gptq_config(config_)) return {};
  // `dynamic` rules are tried in file order, which nlohmann::json's sorted objects lose: re-read in order.
  LB_TRY_ASSIGN(std::string text, read_text_file(config_path));
  const auto ordered = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (ordered.is_discarded()) return make_error(ErrorCode::Format, config_path.string() + ": not well-formed JSON");
  LB_TRY_ASSIGN(const GptqQuantConfig qc, parse_gptq_config(ordered["quantization_config"], config_path.string()));
  // gpt2 keeps Conv1D weights as [in, out]; the packed layout is the same for every architecture.
  auto mt = config_.find("model_type");
  const bool conv1d = mt != config_.end() && mt->is_string() && mt->get<std::string>() == "gpt2";
  auto keep_alive = std::make_shared<std::vector<std::shared_ptr<SafetensorsFile>>>(shards_);
  LB_TRY_ASSIGN(auto resolved, gptq_resolve_tensors(tensors_, qc, conv1d, keep_alive, path_.string()));
  tensors_.clear();
  index_.clear();
  return add_tensors(resolved);
}

Expected<void> Checkpoint::resolve_onebit(const fs::path& config_path) {
  if (!is_onebit_config(config_)) return {};
  LB_TRY_VOID(check_onebit_config(config_, config_path.string()));
  // The signs are stored [outputs, inputs] for every architecture; gpt2's Conv1D tensors are read back as [in, out].
  auto mt = config_.find("model_type");
  const bool conv1d = mt != config_.end() && mt->is_string() && mt->get<std::string>() == "gpt2";
  auto keep_alive = std::make_shared<std::vector<std::shared_ptr<SafetensorsFile>>>(shards_);
  LB_TRY_ASSIGN(auto resolved, onebit_resolve_tensors(tensors_, conv1d, keep_alive, path_.string()));
  tensors_.clear();
  index_.clear();
  return add_tensors(resolved);
}

Expected<std::shared_ptr<Checkpoint>> Checkpoint::open(const fs::path& path) {
  auto ck = std::make_shared<Checkpoint>();
  ck->path_ = path;
  std::error_code ec;
  if (!present(path)) return make_error(ErrorCode::Io, path.string() + ": no such file or folder");

  if (fs::is_directory(path, ec)) {
    ck->kind_ = Kind::HfFolder;
    const fs::path cfg = path / "config.json";
    if (!present(cfg)) return make_error(ErrorCode::Format, path.string() + ": folder has no config.json, so it is not a Hugging Face checkpoint");
    LB_TRY_ASSIGN(ck->config_, read_json(cfg));
    if (!ck->config_.is_object()) return make_error(ErrorCode::Format, cfg.string() + ": not a JSON object");

    const fs::path index = path / "model.safetensors.index.json";
    if (present(index)) {
      LB_TRY_ASSIGN(auto j, read_json(index));
      auto wm = j.find("weight_map");
      if (!j.is_object() || wm == j.end() || !wm->is_object())
        return make_error(ErrorCode::Format, index.string() + ": no 'weight_map' object");
      std::set<std::string> names;
      for (auto it = wm->begin(); it != wm->end(); ++it) {
        if (!it.value().is_string()) return make_error(ErrorCode::Format, index.string() + ": weight_map entry '" + it.key() + "' is not a file name");
        const std::string f = it.value().get<std::string>();
        if (f.find('/') != std::string::npos || f.find("..") != std::string::npos)
          return make_error(ErrorCode::Format, index.string() + ": weight_map names '" + f + "', which is not a file in the folder");
        names.insert(f);
      }
      if (names.empty()) return make_error(ErrorCode::Format, index.string() + ": 'weight_map' lists no tensors");
      // Every tensor the index promises must be in the file it names.
      for (const auto& n : names) {
        if (!present(path / n))
          return make_error(ErrorCode::Format, index.string() + ": weight_map names shard '" + n + "', which is missing from " + path.string());
        LB_TRY_ASSIGN(auto shard, SafetensorsFile::open(path / n));
        ck->file_bytes_ += shard->file().size();
        LB_TRY_VOID(ck->add_tensors(shard->tensors()));
        ck->shards_.push_back(std::move(shard));
      }
      for (auto it = wm->begin(); it != wm->end(); ++it) {
        const TensorInfo* t = ck->find(it.key());
        if (!t) return make_error(ErrorCode::Format, index.string() + ": tensor '" + it.key() + "' is listed but not found in " + it.value().get<std::string>());
      }
    } else if (present(path / "model.safetensors")) {
      LB_TRY_ASSIGN(auto shard, SafetensorsFile::open(path / "model.safetensors"));
      ck->file_bytes_ += shard->file().size();
      LB_TRY_VOID(ck->add_tensors(shard->tensors()));
      ck->shards_.push_back(std::move(shard));
    } else {
      return make_error(ErrorCode::Format, path.string() + ": folder has neither model.safetensors nor model.safetensors.index.json");
    }
    if (present(path / "tokenizer.json")) ck->tokenizer_json_ = path / "tokenizer.json";
    LB_TRY_VOID(ck->resolve_gptq(cfg));
    LB_TRY_VOID(ck->resolve_onebit(cfg));
    return ck;
  }

  if (has_suffix(path, ".gguf")) {
    ck->kind_ = Kind::Gguf;
    LB_TRY_ASSIGN(ck->gguf_, GgufFile::open(path));
    ck->file_bytes_ = fs::file_size(path, ec);
    LB_TRY_VOID(ck->add_tensors(ck->gguf_->tensors()));
    return ck;
  }
  if (has_suffix(path, ".safetensors")) {
    ck->kind_ = Kind::Safetensors;
    LB_TRY_ASSIGN(auto shard, SafetensorsFile::open(path));
    ck->file_bytes_ = shard->file().size();
    LB_TRY_VOID(ck->add_tensors(shard->tensors()));
    ck->shards_.push_back(std::move(shard));
    const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    if (present(dir / "config.json")) {
      LB_TRY_ASSIGN(ck->config_, read_json(dir / "config.json"));
      if (!ck->config_.is_object()) return make_error(ErrorCode::Format, (dir / "config.json").string() + ": not a JSON object");
      LB_TRY_VOID(ck->resolve_gptq(dir / "config.json"));
      LB_TRY_VOID(ck->resolve_onebit(dir / "config.json"));
    }
    if (present(dir / "tokenizer.json")) ck->tokenizer_json_ = dir / "tokenizer.json";
    return ck;
  }
  return make_error(ErrorCode::Unsupported, path.string() + ": not a checkpoint folder, .safetensors or .gguf file");
}

const TensorInfo* Checkpoint::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Expected<std::vector<float>> Checkpoint::read_f32(std::string_view name) const {
  const TensorInfo* t = find(name);
  if (!t) return make_error(ErrorCode::Format, path_.string() + ": has no tensor '" + std::string(name) + "'");
  return decode_to_f32(*t);
}

uint64_t Checkpoint::parameter_count() const {
  uint64_t n = 0;
  for (const auto& t : tensors_) n += static_cast<uint64_t>(t.numel());
  return n;
}

}  // namespace lowbit
