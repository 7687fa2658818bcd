// AddedVocabulary: the added tokens of a tokenizer.json (special or not) and how tokenizers finds
// them in text before the model sees it. Tokens with normalized=false are matched in the raw
// text; the rest of the text is normalized and then searched for the normalized=true tokens
// (whose own text is normalized for matching). Matching is leftmost-longest, non-overlapping,
// with the single_word, lstrip and rstrip rules of tokenizers' AddedVocabulary::find_matches.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/normalizers.h"
#include "core/util/expected.h"

namespace lowbit::tok {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = false;
};

// A segment of text after added-token extraction: either an added token's id or text to tokenize.
struct Segment {
  std::optional<int32_t> token;
  size_t start = 0;  // byte range in the string that was searched
  size_t end = 0;
};

class AddedVocabulary {
 public:
  // `normalizer` (may be null) prepares the patterns of normalized tokens.
  static Expected<AddedVocabulary> build(std::vector<AddedToken> tokens, const Normalizer* normalizer);

  // Splits `text` around the non-normalized (raw) or normalized tokens.
  std::vector<Segment> split(std::string_view text, bool normalized_set) const;

  const std::vector<AddedToken>& tokens() const { return tokens_; }
  const AddedToken* find_by_id(int32_t id) const;
  const AddedToken* find_by_content(std::string_view content) const;
  bool empty() const { return tokens_.empty(); }

 private:
  // A byte trie over the patterns of one set; leftmost-longest matching walks it from each start.
  struct Trie {
    struct Node {
      std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
      int32_t token = -1;                                       // index into tokens_
    };
    std::vector<Node> nodes{Node{}};
    bool first_byte[256] = {};
    void insert(std::string_view pattern, int32_t token_index);
    // Length and token index of the longest pattern starting at text[pos].
    std::optional<std::pair<size_t, int32_t>> longest_at(std::string_view text, size_t pos) const;
  };

  std::vector<AddedToken> tokens_;
  Trie raw_;
  Trie normalized_;
};

}  // namespace lowbit::tok
