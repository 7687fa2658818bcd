#include "core/tokenizer/tokenizer.h"

#include "core/io/mapped_file.h"
#include "core/tokenizer/gguf_tokenizer.h"
#include "core/tokenizer/hf_tokenizer.h"

namespace lowbit {

Expected<std::unique_ptr<Tokenizer>> Tokenizer::from_json_file(const std::filesystem::path& path) {
  LB_TRY_ASSIGN(const std::string json, read_text_file(path));
  tok::SpecialTokenNames names;
  std::error_code ec;
  const auto config = path.parent_path() / "tokenizer_config.json";
  if (std::filesystem::is_regular_file(config, ec))
    if (auto text = read_text_file(config)) names = tok::parse_tokenizer_config(*text);
  return tok::load_hf_tokenizer(json, path.string(), names);
}

Expected<std::unique_ptr<Tokenizer>> Tokenizer::from_json_text(std::string_view json, const std::string& source_name) {
  return tok::load_hf_tokenizer(json, source_name, {});
}

Expected<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const GgufFile& gguf, const GgufTokenizerOptions& options) {
  try {
    return tok::load_gguf_tokenizer(gguf, options);
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::OutOfMemory, gguf.path() + ": out of memory while loading the tokenizer");
  }
}

}  // namespace lowbit
