// The tokenizer of a GGUF export (`tokenizer.ggml.*`), as llama.cpp's converter writes it. A GGUF
// source's keys are copied verbatim. A Hugging Face tokenizer.json becomes:
//  - byte-level BPE → model "gpt2": tokens in id order, token types (special added tokens CONTROL,
//    other added tokens USER_DEFINED, ids the model has beyond the tokenizer "[PADn]" UNUSED), the
//    merges as "a b", and `pre` named after the pre-tokenizer (ByteLevel's own regex "gpt-2", the
//    Llama 3 split "llama-bpe", the Qwen2 split "qwen2"; any other regex is refused, because
//    llama.cpp recognizes pre-tokenizers by name only);
//  - SentencePiece-style BPE (Metaspace or a "▁" normalizer, byte fallback) → model "llama": scores
//    from the merge ranks (the token a merge of rank r creates scores −r, so llama.cpp's
//    highest-score-first merging replays the BPE merge order), <0xNN> tokens BYTE.
// BOS/EOS/UNK ids and add_bos_token as the source tokenizer has them. A source without a tokenizer
// gets model "none" and a warning (llama.cpp loads it but cannot tokenize text).
#pragma once

#include <string>
#include <vector>

#include "core/io/gguf_writer.h"
#include "core/model/model.h"

namespace lowbit {

// Adds the tokenizer keys to `md`; returns warnings.
Expected<std::vector<std::string>> add_gguf_vocab(GgufMetadata& md, const Model& source);
// The same for a tokenizer.json (`tokenizer` is it, loaded) and a model vocabulary of `model_vocab` ids.
Expected<std::vector<std::string>> add_gguf_vocab_from_json(GgufMetadata& md, const std::filesystem::path& tokenizer_json,
                                                            const Tokenizer& tokenizer, int64_t model_vocab);

}  // namespace lowbit
