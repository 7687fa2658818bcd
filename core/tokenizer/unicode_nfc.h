// Unicode canonical normalization (NFC and NFD) of valid UTF-8, as the Hugging Face `NFC`/`NFD`
// normalizers apply it: full canonical decomposition (Hangul included), canonical ordering of
// combining marks, then canonical composition. The tables are generated into
// unicode_nfc_data.cpp by scripts/gen_unicode_nfc.py; the input must already be valid UTF-8
// (the tokenizer validates text before it normalizes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lowbit::tok {

std::string nfc(std::string_view utf8);
std::string nfd(std::string_view utf8);

namespace nfc_data {
struct CombiningClassRange {
  uint32_t first;
  uint32_t last;
  uint8_t ccc;
};
// A canonical decomposition of `cp` into `first` (and `second`, 0 for a singleton); `composes`
// is 1 when NFC recomposes the pair into `cp` (not excluded, not a singleton).
struct Decomposition {
  uint32_t cp;
  uint32_t first;
  uint32_t second;
  uint8_t composes;
};
extern const char* const kUnicodeVersion;
extern const CombiningClassRange kCombiningClasses[];
extern const size_t kCombiningClassCount;
extern const Decomposition kDecompositions[];
extern const size_t kDecompositionCount;
}  // namespace nfc_data

}  // namespace lowbit::tok
