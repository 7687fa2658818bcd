// The Tokenizer of a GGUF file's tokenizer.ggml.* metadata, reproducing llama.cpp's llama-vocab:
// special tokens are cut out of the text first (longest first; control and unknown tokens only
// with parse_special), then "llama" vocabularies go through llm_tokenizer_spm (a leading space
// after BOS/specials, spaces as U+2581, greedy merges of the highest-scoring bigram, byte tokens
// <0xXX> for what no piece covers) and "gpt2" vocabularies through llm_tokenizer_bpe (the
// pre-tokenizer regexes tokenizer.ggml.pre names, GPT-2 byte encoding, merges by rank).
#pragma once

#include <memory>

#include "core/tokenizer/tokenizer.h"

namespace lowbit::tok {

Expected<std::unique_ptr<Tokenizer>> load_gguf_tokenizer(const GgufFile& gguf, const GgufTokenizerOptions& options);

}  // namespace lowbit::tok
