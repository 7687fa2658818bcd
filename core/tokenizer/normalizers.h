// Normalizers of tokenizer.json (tokenizers 0.2x semantics): NFC, NFD, Prepend, Replace, Strip,
// ByteLevel and Sequence. Each maps a piece of text to its normalized form; the offsets
// tokenizers tracks alongside are not needed for ids and are not kept. Types the project does not
// implement (NFKC, Lowercase, BertNormalizer, Precompiled, ...) are refused with an error naming
// the type.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/tokenizer/json_access.h"
#include "core/util/expected.h"

namespace lowbit::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual Expected<std::string> normalize(std::string text) const = 0;
};

// Builds the normalizer described by `value` (an object with a "type"); `at` locates it.
Expected<std::unique_ptr<Normalizer>> make_normalizer(const Json& value, const JsonPath& at);

}  // namespace lowbit::tok
