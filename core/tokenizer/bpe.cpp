#include "core/tokenizer/bpe.h"

#include <cstdio>
#include <queue>

#include "core/tokenizer/utf8.h"

namespace lowbit::tok {

void BpeMergeTable::add(int32_t left, int32_t right, int32_t rank, int32_t merged, bool overwrite) {
  const auto [it, inserted] = map_.try_emplace(key(left, right), rank, merged);
  if (!inserted && overwrite) it->second = {rank, merged};
}

std::optional<std::pair<int32_t, int32_t>> BpeMergeTable::find(int32_t left, int32_t right) const {
  if (left < 0 || right < 0) return std::nullopt;
  const auto it = map_.find(key(left, right));
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

void link_symbols(std::vector<BpeSymbol>& symbols) {
  const auto n = static_cast<int32_t>(symbols.size());
  for (int32_t i = 0; i < n; ++i) {
    symbols[i].prev = i - 1;
    symbols[i].next = i + 1 < n ? i + 1 : -1;
  }
}

namespace {

struct QueuedMerge {
  int32_t rank;
  int32_t pos;
  int32_t merged;
};

// std::priority_queue keeps the largest on top; "larger" here means lower rank, then lower pos.
struct QueueOrder {
  bool operator()(const QueuedMerge& a, const QueuedMerge& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

}  // namespace

void BpeMergeTable::merge(std::vector<BpeSymbol>& symbols) const {
  if (symbols.size() < 2 || map_.empty()) return;
  std::vector<QueuedMerge> storage;
  storage.reserve(symbols.size());
  std::priority_queue<QueuedMerge, std::vector<QueuedMerge>, QueueOrder> queue(QueueOrder{}, std::move(storage));
  for (size_t i = 0; i + 1 < symbols.size(); ++i)
    if (const auto m = find(symbols[i].id, symbols[i + 1].id))
      queue.push({m->first, static_cast<int32_t>(i), m->second});

  while (!queue.empty()) {
    const QueuedMerge top = queue.top();
    queue.pop();
    BpeSymbol& sym = symbols[static_cast<size_t>(top.pos)];
    if (sym.len == 0 || sym.next < 0) continue;
    const int32_t right_pos = sym.next;
    BpeSymbol& right = symbols[static_cast<size_t>(right_pos)];
    // A queued pair is stale when the symbols changed since: the pair must still merge into the
    // same token (this is the check tokenizers makes).
    const auto current = find(sym.id, right.id);
    if (!current || current->second != top.merged) continue;

    sym.id = top.merged;
    sym.len += right.len;
    sym.next = right.next;
    right.len = 0;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = top.pos;

    if (sym.prev >= 0)
      if (const auto m = find(symbols[static_cast<size_t>(sym.prev)].id, sym.id))
        queue.push({m->first, sym.prev, m->second});
    if (sym.next >= 0)
      if (const auto m = find(sym.id, symbols[static_cast<size_t>(sym.next)].id))
        queue.push({m->first, top.pos, m->second});
  }
  std::erase_if(symbols, [](const BpeSymbol& s) { return s.len == 0; });
}

Expected<BpeModel> BpeModel::build(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                                   BpeOptions options, const std::string& source) {
  BpeModel m;
  m.vocab_ = std::move(vocab);
  m.options_ = std::move(options);
  m.merges_.reserve(merges.size());
  const std::string& prefix = m.options_.continuing_subword_prefix;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    // Not a structured binding: clang before 16 cannot capture one in the lambda below.
    const std::string& a = merges[rank].first;
    const std::string& b = merges[rank].second;
    const auto where = [&] {
      return source + ": model.merges[" + std::to_string(rank) + "] ('" + a + "', '" + b + "')";
    };
    const auto a_id = m.token_to_id(a);
    if (!a_id) return make_error(ErrorCode::Format, where() + ": token '" + a + "' is not in the vocabulary");
    const auto b_id = m.token_to_id(b);
    if (!b_id) return make_error(ErrorCode::Format, where() + ": token '" + b + "' is not in the vocabulary");
    const bool strip = !prefix.empty() && b.size() >= prefix.size() && b.compare(0, prefix.size(), prefix) == 0;
    const std::string merged = a + (strip ? b.substr(prefix.size()) : b);
    const auto merged_id = m.token_to_id(merged);
    if (!merged_id)
      return make_error(ErrorCode::Format, where() + ": the merged token '" + merged + "' is not in the vocabulary");
    m.merges_.add(*a_id, *b_id, static_cast<int32_t>(rank), *merged_id, /*overwrite=*/true);
  }
  if (m.options_.unk_token) m.unk_id_ = m.token_to_id(*m.options_.unk_token);
  if (m.options_.byte_fallback) {
    m.byte_fallback_ids_.assign(256, -1);
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      if (const auto id = m.token_to_id(name)) m.byte_fallback_ids_[static_cast<size_t>(b)] = *id;
    }
  }
  return m;
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (options_.ignore_merges)
    if (const auto id = token_to_id(word)) {
      out.push_back(*id);
      return;
    }

  std::vector<BpeSymbol> symbols;
  symbols.reserve(word.size());
  const auto add = [&](int32_t id, size_t start, size_t len) {
    symbols.push_back({id, -1, -1, static_cast<uint32_t>(start), static_cast<uint32_t>(len)});
  };
  // A pending unknown run (tokenizers fuses consecutive unknowns when fuse_unk is set).
  std::optional<std::pair<size_t, size_t>> unk;  // (start, len)
  const auto flush_unk = [&] {
    if (unk) add(*unk_id_, unk->first, unk->second);
    unk.reset();
  };
  std::string piece;
  for (size_t i = 0; i < word.size();) {
    const size_t start = i;
    i += utf8_len(static_cast<unsigned char>(word[i]));
    if (i > word.size()) i = word.size();
    const size_t len = i - start;
    const bool first = start == 0, last = i == word.size();
    std::string_view s = word.substr(start, len);
    if ((!first && !options_.continuing_subword_prefix.empty()) || (last && !options_.end_of_word_suffix.empty())) {
      piece.clear();
      if (!first) piece += options_.continuing_subword_prefix;
      piece += s;
      if (last) piece += options_.end_of_word_suffix;
      s = piece;
    }
    if (const auto id = token_to_id(s)) {
      flush_unk();
      add(*id, start, len);
      continue;
    }
    if (options_.byte_fallback) {
      bool all = true;
      for (const char c : s) all = all && byte_fallback_ids_[static_cast<unsigned char>(c)] >= 0;
      if (all) {
        // tokenizers gives each byte symbol a length of one byte of the word.
        for (size_t k = 0; k < s.size(); ++k) add(byte_fallback_ids_[static_cast<unsigned char>(s[k])], start, 1);
        continue;
      }
    }
    if (unk_id_) {
      if (unk && options_.fuse_unk) {
        unk->second += len;
      } else {
        flush_unk();
        unk = std::make_pair(start, len);
      }
    }
    // No unk token: tokenizers drops the character.
  }
  flush_unk();
  link_symbols(symbols);
  merges_.merge(symbols);
  for (const auto& sym : symbols) out.push_back(sym.id);
}

}  // namespace lowbit::tok
