#include "core/model/model.h"

#include <cctype>
#include <optional>
#include <string>

#include "core/io/mapped_file.h"

namespace lowbit {

namespace {

// The block index in a decoder block tensor's name ("model.layers.N.…", "h.N.…", "blk.N.…"), if any.
std::optional<int64_t> block_index(const std::string& name) {
  for (const char* stem : {"layers.", "h.", "blk."}) {
    const std::string st(stem);
    for (size_t at = name.find(st); at != std::string::npos; at = name.find(st, at + 1)) {
      if (at > 0 && name[at - 1] != '.') continue;
      size_t i = at + st.size(), end = i;
      while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
      if (end > i && end < name.size() && name[end] == '.' && end - i < 10) return std::stoll(name.substr(i, end - i));
    }
  }
  return std::nullopt;
}

// A checkpoint with tensors of blocks beyond its config's layer count would be evaluated without
// them: its config and its weights disagree.
Expected<void> check_block_count(const Checkpoint& ck, const ModelConfig& c) {
  for (const TensorInfo& t : ck.tensors())
    if (auto b = block_index(t.name); b && *b >= c.n_layers)
      return make_error(ErrorCode::Format, ck.path().string() + ": tensor " + t.name + " belongs to block " + std::to_string(*b) +
                                               ", but the model's config has " + std::to_string(c.n_layers) + " layers");
  return {};
}

}  // namespace

Expected<Model> open_model(const std::filesystem::path& path, bool with_tokenizer) {
  Model m;
  LB_TRY_ASSIGN(m.checkpoint, Checkpoint::open(path));
  LB_TRY_ASSIGN(m.config, read_model_config(*m.checkpoint));
  LB_TRY_VOID(check_block_count(*m.checkpoint, m.config));
  if (!with_tokenizer) return m;
  if (m.checkpoint->gguf()) {
    LB_TRY_ASSIGN(auto tok, Tokenizer::from_gguf(*m.checkpoint->gguf()));
    m.tokenizer = std::move(tok);
  } else if (!m.checkpoint->tokenizer_json().empty()) {
    LB_TRY_ASSIGN(auto tok, Tokenizer::from_json_file(m.checkpoint->tokenizer_json()));
    m.tokenizer = std::move(tok);
  } else {
    return make_error(ErrorCode::Format, path.string() + ": no tokenizer.json beside the weights (needed to tokenize text)");
  }
  if (m.tokenizer->vocab_size() > m.config.vocab)
    return make_error(ErrorCode::Format, path.string() + ": the tokenizer has " + std::to_string(m.tokenizer->vocab_size()) +
                                             " tokens but the model's vocabulary is " + std::to_string(m.config.vocab));
  return m;
}

Expected<std::vector<int32_t>> tokenize_text(const Tokenizer& tokenizer, const std::string& text, bool add_bos,
                                             const std::string& source_name) {
  auto ids = tokenizer.encode(text, add_bos);
  if (!ids) return make_error(ids.error().code, source_name + ": " + ids.error().message);
  return ids;
}

Expected<std::vector<int32_t>> tokenize_file(const Tokenizer& tokenizer, const std::string& path) {
  LB_TRY_ASSIGN(std::string text, read_text_file(path));
  return tokenize_text(tokenizer, text, false, path);
}

Expected<std::vector<int32_t>> calibration_windows(const Tokenizer& tokenizer, const std::string& path,
                                                   const CalibOptions& options) {
  LB_TRY_ASSIGN(std::vector<int32_t> ids, tokenize_file(tokenizer, path));
  auto windows = draw_windows(ids, options);
  if (!windows) return make_error(windows.error().code, path + ": " + windows.error().message);
  return windows;
}

}  // namespace lowbit
