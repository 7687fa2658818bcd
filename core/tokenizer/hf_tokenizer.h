// The Tokenizer of a Hugging Face tokenizer.json: added-token extraction, normalizer,
// pre-tokenizer, BPE model, post-processor and decoder, run in the order tokenizers runs them.
// Loading checks every field it reads and returns an Error naming the file and the field for a
// malformed file (not JSON, no model, a model type other than BPE, merges naming unknown tokens,
// wrong types); nothing throws out of it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/tokenizer/tokenizer.h"

namespace lowbit::tok {

// What tokenizer_config.json says about the BOS and EOS tokens (their text), when there is one.
struct SpecialTokenNames {
  std::optional<std::string> bos;
  std::optional<std::string> eos;
};

Expected<std::unique_ptr<Tokenizer>> load_hf_tokenizer(std::string_view json, const std::string& source,
                                                       const SpecialTokenNames& names);

// Reads bos_token / eos_token from a tokenizer_config.json text; a malformed file gives no names.
SpecialTokenNames parse_tokenizer_config(std::string_view json);

}  // namespace lowbit::tok
