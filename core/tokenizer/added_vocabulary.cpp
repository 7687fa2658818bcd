#include "core/tokenizer/added_vocabulary.h"

#include <algorithm>

#include "core/tokenizer/regex.h"
#include "core/tokenizer/utf8.h"

namespace lowbit::tok {

namespace {

// Whether a character is a word character for tokenizers' single_word rule, which tests the
// neighbours with the Rust regex \w: Alphabetic, marks, decimal digits, connector punctuation
// and Join_Control.
bool is_word_char(uint32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_';
  static const auto word = Regex::compile("^[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]$", "added-token word test");
  if (!word) return false;
  std::string s;
  append_utf8(s, cp);
  std::vector<std::pair<size_t, size_t>> matches;
  return (*word)->find_all(s, matches) && matches.size() == 1;
}

uint32_t last_code_point(std::string_view s) {
  size_t k = s.size() - 1;
  while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
  return next_code_point(s, k);
}

uint32_t first_code_point(std::string_view s) {
  size_t i = 0;
  return next_code_point(s, i);
}

// Start of the run of whitespace that ends s (tokenizers' space_leftmost_at_end).
size_t whitespace_run_start(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t k = end - 1;
    while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
    size_t i = k;
    if (!is_unicode_whitespace(next_code_point(s, i))) break;
    end = k;
  }
  return end;
}

// Length of the run of whitespace that starts s (tokenizers' space_rightmost_at_start).
size_t whitespace_run_length(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t k = i;
    if (!is_unicode_whitespace(next_code_point(s, k))) break;
    i = k;
  }
  return i;
}

}  // namespace

void AddedVocabulary::Trie::insert(std::string_view pattern, int32_t token_index) {
  if (pattern.empty()) return;
  first_byte[static_cast<unsigned char>(pattern[0])] = true;
  size_t node = 0;
  for (const char ch : pattern) {
    const auto c = static_cast<unsigned char>(ch);
    auto& children = nodes[node].children;
    auto it = std::lower_bound(children.begin(), children.end(), c,
                               [](const std::pair<unsigned char, int32_t>& e, unsigned char b) { return e.first < b; });
    if (it != children.end() && it->first == c) {
      node = static_cast<size_t>(it->second);
      continue;
    }
    const auto next = static_cast<int32_t>(nodes.size());
    children.insert(it, {c, next});
    nodes.emplace_back();
    node = static_cast<size_t>(next);
  }
  // Two tokens with the same pattern: the first one added keeps it.
  if (nodes[node].token < 0) nodes[node].token = token_index;
}

std::optional<std::pair<size_t, int32_t>> AddedVocabulary::Trie::longest_at(std::string_view text, size_t pos) const {
  std::optional<std::pair<size_t, int32_t>> best;
  size_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto& children = nodes[node].children;
    auto it = std::lower_bound(children.begin(), children.end(), c,
                               [](const std::pair<unsigned char, int32_t>& e, unsigned char b) { return e.first < b; });
    if (it == children.end() || it->first != c) break;
    node = static_cast<size_t>(it->second);
    if (nodes[node].token >= 0) best = std::make_pair(i + 1 - pos, nodes[node].token);
  }
  return best;
}

Expected<AddedVocabulary> AddedVocabulary::build(std::vector<AddedToken> tokens, const Normalizer* normalizer) {
  AddedVocabulary v;
  v.tokens_ = std::move(tokens);
  // tokenizers builds its tries from the special tokens first, then the others.
  std::vector<int32_t> order;
  for (int32_t pass = 0; pass < 2; ++pass)
    for (size_t i = 0; i < v.tokens_.size(); ++i)
      if (v.tokens_[i].special == (pass == 0)) order.push_back(static_cast<int32_t>(i));
  for (const int32_t i : order) {
    const AddedToken& t = v.tokens_[static_cast<size_t>(i)];
    if (!t.normalized) {
      v.raw_.insert(t.content, i);
    } else if (normalizer) {
      LB_TRY_ASSIGN(const std::string pattern, normalizer->normalize(t.content));
      v.normalized_.insert(pattern, i);
    } else {
      v.normalized_.insert(t.content, i);
    }
  }
  return v;
}

std::vector<Segment> AddedVocabulary::split(std::string_view text, bool normalized_set) const {
  const Trie& trie = normalized_set ? normalized_ : raw_;
  std::vector<Segment> out;
  size_t start_offset = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!trie.first_byte[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const auto match = trie.longest_at(text, pos);
    if (!match) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[static_cast<size_t>(match->second)];
    size_t start = pos, stop = pos + match->first;
    pos = stop;  // the next search starts after this match whether or not it is kept
    if (token.single_word) {
      const bool start_space = start == 0 || !is_word_char(last_code_point(text.substr(0, start)));
      const bool stop_space = stop == text.size() || !is_word_char(first_code_point(text.substr(stop)));
      if (!start_space || !stop_space) continue;
    }
    if (token.lstrip) start = std::max(whitespace_run_start(text.substr(0, start)), start_offset);
    if (token.rstrip) {
      stop += whitespace_run_length(text.substr(stop));
      pos = stop;
    }
    if (start_offset < start) out.push_back({std::nullopt, start_offset, start});
    out.push_back({token.id, start, stop});
    start_offset = stop;
  }
  if (start_offset != text.size()) out.push_back({std::nullopt, start_offset, text.size()});
  return out;
}

const AddedToken* AddedVocabulary::find_by_id(int32_t id) const {
  for (const auto& t : tokens_)
    if (t.id == id) return &t;
  return nullptr;
}

const AddedToken* AddedVocabulary::find_by_content(std::string_view content) const {
  for (const auto& t : tokens_)
    if (t.content == content) return &t;
  return nullptr;
}

}  // namespace lowbit::tok
