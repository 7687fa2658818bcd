// Pre-tokenizers of tokenizer.json (tokenizers 0.2x semantics): ByteLevel (add_prefix_space,
// use_regex, GPT-2's regex), Split (String or Regex pattern, the five behaviours, invert),
// Metaspace (replacement, prepend_scheme always/first/never, split), Digits, Whitespace,
// WhitespaceSplit, Punctuation, CharDelimiterSplit and Sequence. A pre-tokenizer turns pieces of
// normalized text into smaller pieces; empty pieces are dropped, as tokenizers drops them. Pieces
// stream through a sink, one at a time, so a long text is never held as a list of pieces.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tokenizer/json_access.h"
#include "core/util/expected.h"

namespace lowbit::tok {

// A piece of text on its way to the model. `at_start` says whether it begins at offset 0 of the
// original input (Metaspace's prepend_scheme "first" needs it).
struct Piece {
  std::string text;
  bool at_start = false;
};

using PieceSink = std::function<void(Piece&&)>;

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Splits one piece and hands the results, in order, to `sink`.
  virtual Expected<void> apply(Piece piece, const PieceSink& sink) const = 0;
  // Whether this pre-tokenizer (or one in its sequence) is of the given type.
  virtual bool contains(const std::string& type) const = 0;
};

Expected<std::unique_ptr<PreTokenizer>> make_pre_tokenizer(const Json& value, const JsonPath& at);

// GPT-2's pre-tokenization regex, used by ByteLevel with use_regex.
extern const char* const kGpt2Pattern;

}  // namespace lowbit::tok
