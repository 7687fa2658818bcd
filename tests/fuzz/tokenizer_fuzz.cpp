// libFuzzer target: the tokenizer.json loader (core/tokenizer/hf_tokenizer.h) — normalizers,
// pre-tokenizers (PCRE2 patterns from the file), the BPE model, added tokens, post-processor and
// decoder — and encoding with what it built. Every input gives a Tokenizer or an Error naming the
// source; an accepted tokenizer encodes a fixed text and the first bytes of the input itself, every
// id lies in the vocabulary, and decoding any ids returns.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/tokenizer/hf_tokenizer.h"
#include "core/tokenizer/tokenizer.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lowbit;
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  const std::string source = "fuzz/tokenizer.json";
  (void)tok::parse_tokenizer_config(json);
  const auto tok = Tokenizer::from_json_text(json, source);
  if (!tok) {
    fuzz::require_names(tok.error().message, source);
    return 0;
  }
  const Tokenizer& t = **tok;
  const std::string_view texts[] = {fuzz::kSampleText, json.substr(0, std::min<size_t>(json.size(), 64))};
  for (const std::string_view text : texts) {
    for (const bool add_special : {false, true}) {
      const auto ids = t.encode(text, add_special);
      if (!ids) continue;  // text that is not UTF-8
      for (const int32_t id : *ids)
        fuzz::require(id >= 0 && id < t.vocab_size(), "ids lie in the vocabulary", std::to_string(id));
      (void)t.decode(*ids);
    }
  }
  (void)t.decode({-1, 0, 1, t.vocab_size(), t.vocab_size() - 1});
  (void)t.token_text(0);
  return 0;
}
