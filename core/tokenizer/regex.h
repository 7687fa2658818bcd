// Regex: a compiled PCRE2 pattern (UTF + UCP, JIT when available) that finds all matches the way
// the Hugging Face tokenizers find them with Oniguruma. Patterns in tokenizer.json are written in
// Oniguruma syntax; compile() rewrites the few escapes whose Unicode meaning differs in PCRE2
// (\s \S: the White_Space property, which includes U+0085; \w \W: letters, marks, numbers and
// connector punctuation; \h \H: hex digits) and leaves the rest to PCRE2. Thread-safe: match data
// and the JIT stack are per thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/util/expected.h"

struct pcre2_real_code_8;

namespace lowbit::tok {

class Regex {
 public:
  // `what` names the pattern's origin for error messages (file and field).
  static Expected<std::shared_ptr<const Regex>> compile(std::string_view onig_pattern, const std::string& what);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends the [start, end) byte ranges of all matches, in order, as Oniguruma's find_iter
  // yields them: an empty match right where the previous match ended is skipped and the search
  // moves on by one character.
  Expected<void> find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;
  // The same matches handed to `sink` one at a time, without collecting them.
  Expected<void> for_each_match(std::string_view text, const std::function<void(size_t, size_t)>& sink) const;

  const std::string& pattern() const { return pattern_; }

 private:
  Regex() = default;
  pcre2_real_code_8* code_ = nullptr;
  bool jit_ = false;
  std::string pattern_;
};

// The Oniguruma → PCRE2 rewrite that compile() applies (exposed for tests).
std::string onig_to_pcre2(std::string_view pattern);

}  // namespace lowbit::tok
