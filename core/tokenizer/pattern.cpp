#include "core/tokenizer/pattern.h"

#include <algorithm>
#include <cctype>

namespace lowbit::tok {

Expected<Pattern> Pattern::from_json(const Json& value, const JsonPath& at) {
  if (!value.is_object()) return json_type_error(at, "an object {\"String\": ...} or {\"Regex\": ...}", value);
  if (const Json* s = json_member(value, "String")) {
    if (!s->is_string()) return json_type_error(at.child("String"), "a string", *s);
    return literal(s->get_ref<const std::string&>());
  }
  if (const Json* r = json_member(value, "Regex")) {
    if (!r->is_string()) return json_type_error(at.child("Regex"), "a string", *r);
    return regex(r->get_ref<const std::string&>(), at.str());
  }
  return make_error(ErrorCode::Format, at.str() + ": a pattern needs a \"String\" or a \"Regex\" member");
}

Pattern Pattern::literal(std::string text) {
  Pattern p;
  p.literal_ = std::move(text);
  return p;
}

Expected<Pattern> Pattern::regex(std::string_view onig_pattern, const std::string& what) {
  Pattern p;
  LB_TRY_ASSIGN(p.regex_, Regex::compile(onig_pattern, what));
  return p;
}

Expected<void> Pattern::for_each_span(std::string_view text, const std::function<void(const Span&)>& sink) const {
  if (text.empty()) {
    sink({0, 0, false});
    return {};
  }
  size_t prev = 0;
  const auto on_match = [&](size_t start, size_t end) {
    if (prev != start) sink({prev, start, false});
    sink({start, end, true});
    prev = end;
  };
  if (regex_) {
    LB_TRY_VOID(regex_->for_each_match(text, on_match));
  } else if (!literal_.empty()) {
    for (size_t pos = text.find(literal_); pos != std::string_view::npos; pos = text.find(literal_, pos + literal_.size()))
      on_match(pos, pos + literal_.size());
  }
  if (prev != text.size()) sink({prev, text.size(), false});
  return {};
}

Expected<std::string> Pattern::replace(std::string_view text, std::string_view content) const {
  std::string out;
  out.reserve(text.size());
  LB_TRY_VOID(for_each_span(text, [&](const Span& s) {
    if (s.match) out.append(content);
    else out.append(text.substr(s.start, s.end - s.start));
  }));
  return out;
}

Expected<SplitBehavior> parse_split_behavior(const Json& obj, const char* key, SplitBehavior fallback,
                                             const JsonPath& at) {
  LB_TRY_ASSIGN(const auto name, json_opt_string(obj, key, at));
  if (!name) return fallback;
  // Older files spell the behaviours in lower case.
  std::string n = *name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (n == "removed") return SplitBehavior::Removed;
  if (n == "isolated") return SplitBehavior::Isolated;
  if (n == "mergedwithprevious") return SplitBehavior::MergedWithPrevious;
  if (n == "mergedwithnext") return SplitBehavior::MergedWithNext;
  if (n == "contiguous") return SplitBehavior::Contiguous;
  return make_error(ErrorCode::Format, at.child(key).str() + ": unknown split behavior '" + *name + "'");
}

// The folds of tokenizers' NormalizedString::split, done in one forward pass. MergedWithNext,
// which tokenizers folds from the end, comes out the same: a match joins the span after it when
// that span is not a match.
void SplitAssembler::add(const Span& s) {
  switch (behavior_) {
    case SplitBehavior::Isolated:
      emit_(s.start, s.end);
      return;
    case SplitBehavior::Removed:
      if (!s.match) emit_(s.start, s.end);
      return;
    case SplitBehavior::Contiguous:
    case SplitBehavior::MergedWithPrevious: {
      const bool join = behavior_ == SplitBehavior::Contiguous ? s.match == previous_match_ : s.match && !previous_match_;
      if (join && has_pending_) {
        pending_end_ = s.end;
      } else {
        if (has_pending_) emit_(pending_start_, pending_end_);
        has_pending_ = true;
        pending_start_ = s.start;
        pending_end_ = s.end;
      }
      previous_match_ = s.match;
      return;
    }
    case SplitBehavior::MergedWithNext:
      if (s.match) {
        if (has_pending_) emit_(pending_start_, pending_end_);
        has_pending_ = true;
        pending_start_ = s.start;
        pending_end_ = s.end;
      } else if (has_pending_) {
        emit_(pending_start_, s.end);
        has_pending_ = false;
      } else {
        emit_(s.start, s.end);
      }
      return;
  }
}

void SplitAssembler::finish() {
  if (has_pending_) emit_(pending_start_, pending_end_);
  has_pending_ = false;
  previous_match_ = false;
}

}  // namespace lowbit::tok
