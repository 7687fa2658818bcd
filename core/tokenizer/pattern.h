// Pattern: the `pattern` of a tokenizer.json Split pre-tokenizer or Replace normalizer/decoder —
// a literal string ({"String": ...}) or an Oniguruma regex ({"Regex": ...}) — and the split
// behaviours of tokenizers' NormalizedString::split (Removed, Isolated, MergedWithPrevious,
// MergedWithNext, Contiguous), applied to the match spans exactly as tokenizers applies them.
// Spans and pieces are streamed through callbacks so that a long text never turns into a long
// list in memory.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/json_access.h"
#include "core/tokenizer/regex.h"
#include "core/util/expected.h"

namespace lowbit::tok {

// A span of a string; `match` says whether the pattern matched it.
struct Span {
  size_t start;
  size_t end;
  bool match;
};

class Pattern {
 public:
  static Expected<Pattern> from_json(const Json& value, const JsonPath& at);
  static Pattern literal(std::string text);
  static Expected<Pattern> regex(std::string_view onig_pattern, const std::string& what);

  // Hands `sink` the spans that cover the whole text in order, alternating non-matches and
  // matches (tokenizers' Pattern::find_matches); an empty text gives one empty non-match span.
  Expected<void> for_each_span(std::string_view text, const std::function<void(const Span&)>& sink) const;
  // The text with every match replaced by `content`.
  Expected<std::string> replace(std::string_view text, std::string_view content) const;

 private:
  std::string literal_;
  std::shared_ptr<const Regex> regex_;
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

Expected<SplitBehavior> parse_split_behavior(const Json& obj, const char* key, SplitBehavior fallback,
                                             const JsonPath& at);

// Turns the covering spans, fed in order, into the [start, end) pieces a behaviour keeps (empty
// ones included; callers drop them as tokenizers does). Call finish() after the last span.
class SplitAssembler {
 public:
  SplitAssembler(SplitBehavior behavior, std::function<void(size_t, size_t)> emit)
      : behavior_(behavior), emit_(std::move(emit)) {}
  void add(const Span& span);
  void finish();

 private:
  SplitBehavior behavior_;
  std::function<void(size_t, size_t)> emit_;
  bool previous_match_ = false;
  bool has_pending_ = false;
  size_t pending_start_ = 0, pending_end_ = 0;
};

}  // namespace lowbit::tok
