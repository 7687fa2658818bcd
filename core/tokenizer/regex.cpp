#include "core/tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/tokenizer/utf8.h"

namespace lowbit::tok {

namespace {

constexpr const char* kWordClass = "\\p{L}\\p{M}\\p{N}\\p{Pc}";
constexpr const char* kHexClass = "0-9a-fA-F";

// Per-thread PCRE2 scratch: one match data (one ovector pair is all find_all reads) and a JIT
// stack large enough for long runs of \s or letters.
struct MatchScratch {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;
  MatchScratch() {
    data = pcre2_match_data_create(1, nullptr);
    context = pcre2_match_context_create(nullptr);
    jit_stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
    if (context && jit_stack) pcre2_jit_stack_assign(context, nullptr, jit_stack);
  }
  ~MatchScratch() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(jit_stack);
  }
  MatchScratch(const MatchScratch&) = delete;
  MatchScratch& operator=(const MatchScratch&) = delete;
};

MatchScratch& scratch() {
  thread_local MatchScratch s;
  return s;
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  if (pcre2_get_error_message(code, buf, sizeof(buf)) < 0) return "PCRE2 error " + std::to_string(code);
  return reinterpret_cast<const char*>(buf);
}

}  // namespace

std::string onig_to_pcre2(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 32);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[++i];
      // Appends a class body, bracketed when outside a class (negated when asked).
      const auto add_class = [&](const char* body, bool negate, const char* inside_fallback) {
        if (in_class) {
          out += negate ? inside_fallback : body;
          return;
        }
        out += negate ? "[^" : "[";
        out += body;
        out += ']';
      };
      switch (e) {
        case 's': out += "\\p{White_Space}"; break;
        case 'S': out += "\\P{White_Space}"; break;
        case 'w': add_class(kWordClass, false, ""); break;
        case 'W': add_class(kWordClass, true, "\\W"); break;  // inside a class PCRE2's \W is close
        case 'h': add_class(kHexClass, false, ""); break;
        case 'H': add_class(kHexClass, true, "\\H"); break;
        default:
          out += '\\';
          out += e;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];  // a leading ] is literal
      continue;
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

Expected<std::shared_ptr<const Regex>> Regex::compile(std::string_view onig_pattern, const std::string& what) {
  const std::string translated = onig_to_pcre2(onig_pattern);
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                                   PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
  if (!code)
    return make_error(ErrorCode::Format, what + ": regex '" + std::string(onig_pattern) +
                                             "' does not compile (" + pcre2_message(error) + " at offset " +
                                             std::to_string(offset) + ")");
  std::shared_ptr<Regex> r(new Regex());
  r->code_ = code;
  r->jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  r->pattern_ = std::string(onig_pattern);
  return std::shared_ptr<const Regex>(std::move(r));
}

Regex::~Regex() { pcre2_code_free(code_); }

Expected<void> Regex::find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
  return for_each_match(text, [&](size_t start, size_t end) { out.emplace_back(start, end); });
}

Expected<void> Regex::for_each_match(std::string_view text, const std::function<void(size_t, size_t)>& sink) const {
  MatchScratch& s = scratch();
  if (!s.data || !s.context) return make_error(ErrorCode::OutOfMemory, "PCRE2 match data could not be allocated");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const size_t n = text.size();
  size_t last_end = 0;
  bool have_last_match = false;
  size_t last_match_end = 0;
  while (last_end <= n) {
    const int rc = jit_ && s.jit_stack ? pcre2_jit_match(code_, subject, n, last_end, 0, s.data, s.context)
                                       : pcre2_match(code_, subject, n, last_end, 0, s.data, s.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0)
      return make_error(ErrorCode::InvalidArgument, "regex '" + pattern_ + "' failed on the text at byte " +
                                                        std::to_string(last_end) + ": " + pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(s.data);
    const size_t start = ov[0], end = ov[1];
    if (start == end && have_last_match && last_match_end == end) {
      if (last_end >= n) break;
      last_end += utf8_len(static_cast<unsigned char>(text[last_end]));
      continue;
    }
    last_end = end;
    have_last_match = true;
    last_match_end = end;
    sink(start, end);
  }
  return {};
}

}  // namespace lowbit::tok
