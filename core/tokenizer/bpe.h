// The byte-pair-encoding merge engine shared by the tokenizer.json and GGUF "gpt2" tokenizers,
// and the Hugging Face BPE model built on it. A word starts as one symbol per character; the
// merge table maps a pair of symbol ids to (rank, merged id); merges are applied lowest rank
// first, leftmost first among equal ranks, with a priority queue (O(n log n) per word), exactly
// as tokenizers' Word::merge_all and llama.cpp's llm_tokenizer_bpe_session do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/util/expected.h"

namespace lowbit::tok {

// Hash that lets unordered_map<std::string, V> be searched with a string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using Vocab = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

inline std::optional<int32_t> lookup(const Vocab& vocab, std::string_view s) {
  const auto it = vocab.find(s);
  if (it == vocab.end()) return std::nullopt;
  return it->second;
}

// One symbol of a word being merged: its id (-1: never merges), its byte span in the word and
// its neighbours in the linked list (-1: none). A merged-away symbol has len 0.
struct BpeSymbol {
  int32_t id;
  int32_t prev;
  int32_t next;
  uint32_t start;
  uint32_t len;
};

class BpeMergeTable {
 public:
  // Records that (left, right) merges into `merged` at `rank`. When the pair is already there,
  // `overwrite` says whether the new rank wins (tokenizers: the later line wins; llama.cpp: the
  // first one does).
  void add(int32_t left, int32_t right, int32_t rank, int32_t merged, bool overwrite);
  std::optional<std::pair<int32_t, int32_t>> find(int32_t left, int32_t right) const;  // (rank, merged)
  size_t size() const { return map_.size(); }
  void reserve(size_t n) { map_.reserve(n); }

  // Merges `symbols` (a word, in order, prev/next set) in place and erases merged-away symbols.
  void merge(std::vector<BpeSymbol>& symbols) const;

 private:
  static uint64_t key(int32_t left, int32_t right) {
    return (uint64_t{static_cast<uint32_t>(left)} << 32) | static_cast<uint32_t>(right);
  }
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> map_;
};

// Links symbols[i] to its neighbours (prev = i-1, next = i+1).
void link_symbols(std::vector<BpeSymbol>& symbols);

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};

// The Hugging Face `BPE` model: vocabulary, merges and options, tokenizing one pre-token at a time.
class BpeModel {
 public:
  // Builds the merge table; a merge whose parts or result are not in the vocabulary is an error
  // naming `source` and the merge's line (as tokenizers refuses such a file).
  static Expected<BpeModel> build(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                                  BpeOptions options, const std::string& source);

  // Appends the ids of one pre-token (a "word").
  void tokenize(std::string_view word, std::vector<int32_t>& out) const;

  const Vocab& vocab() const { return vocab_; }
  const BpeOptions& options() const { return options_; }
  std::optional<int32_t> token_to_id(std::string_view token) const { return lookup(vocab_, token); }

 private:
  Vocab vocab_;
  BpeMergeTable merges_;
  BpeOptions options_;
  std::optional<int32_t> unk_id_;
  std::vector<int32_t> byte_fallback_ids_;  // <0xXX> ids, -1 where absent (only with byte_fallback)
};

}  // namespace lowbit::tok
