// Tokenizer: text ⇄ token ids, producing exactly the ids of Hugging Face `tokenizers` for a
// tokenizer.json (BPE model) and exactly llama.cpp's ids for a GGUF's tokenizer.ggml.* vocabulary
// ("llama": SentencePiece-style merges by score; "gpt2": byte-level BPE with the pre-tokenizer
// regex that tokenizer.ggml.pre names). Implementations live in hf_tokenizer.cpp and
// gguf_tokenizer.cpp; they share the merge engine of bpe.h. A Tokenizer is immutable after
// loading and safe to use from several threads at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/io/gguf.h"
#include "core/util/expected.h"

namespace lowbit {

// How a GGUF tokenizer treats control tokens written in the text. llama-perplexity tokenizes with
// parse_special = false (only user-defined tokens are matched); llama-tokenize defaults to true.
struct GgufTokenizerOptions {
  bool parse_special = false;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // From a Hugging Face tokenizer.json (model type BPE). from_json_file also reads the
  // tokenizer_config.json beside it, when there is one, for the names of the BOS and EOS tokens.
  static Expected<std::unique_ptr<Tokenizer>> from_json_file(const std::filesystem::path& path);
  static Expected<std::unique_ptr<Tokenizer>> from_json_text(std::string_view json, const std::string& source_name);
  // From GGUF metadata tokenizer.ggml.* (model "llama" = SentencePiece-style, "gpt2" = byte-level BPE).
  static Expected<std::unique_ptr<Tokenizer>> from_gguf(const GgufFile& gguf, const GgufTokenizerOptions& options = {});

  // Encodes UTF-8 text. Added/special tokens appearing in the text are matched as HF does (for
  // GGUF: as llama.cpp does, see GgufTokenizerOptions).
  // add_special: add the tokens the post-processor / GGUF add_bos flag says (BOS); false = none.
  // Text that is not valid UTF-8 gives ErrorCode::Format naming the byte offset.
  virtual Expected<std::vector<int32_t>> encode(std::string_view text, bool add_special) const = 0;
  // Ids → text, without special tokens (HF's decode with skip_special_tokens; llama.cpp's
  // detokenize without control tokens). Ids outside the vocabulary are skipped.
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  virtual int32_t vocab_size() const = 0;
  virtual std::optional<int32_t> bos_id() const = 0;
  virtual std::optional<int32_t> eos_id() const = 0;
  virtual bool adds_bos() const = 0;  // whether add_special=true prepends BOS
  virtual std::string token_text(int32_t id) const = 0;  // "" for an id outside the vocabulary
  virtual std::string kind() const = 0;  // "bpe-bytelevel", "bpe-metaspace", "bpe", "spm-gguf", "bpe-gguf"
};

}  // namespace lowbit
