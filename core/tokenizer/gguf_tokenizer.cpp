#include "core/tokenizer/gguf_tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <queue>
#include <unordered_map>

#include "core/tokenizer/bpe.h"
#include "core/tokenizer/regex.h"
#include "core/tokenizer/utf8.h"

namespace lowbit::tok {

namespace {

// llama.cpp's token attributes, from tokenizer.ggml.token_type.
enum Attr : uint8_t { kNormal = 1, kUnknown = 2, kControl = 4, kUserDefined = 8, kUnused = 16, kByte = 32, kUndefined = 64 };

uint8_t attr_of_type(int64_t type) {
  switch (type) {
    case 1: return kNormal;
    case 2: return kUnknown;
    case 3: return kControl;
    case 4: return kUserDefined;
    case 5: return kUnused;
    case 6: return kByte;
    default: return kUndefined;
  }
}

// Texts llama.cpp marks as control tokens whatever their type says (EOT, EOM, FIM and EOG tokens).
bool is_control_by_text(const std::string& t) {
  static const char* const names[] = {
      "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
      "<|eom_id|>", "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
      "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<|fim_repo|>",
      "<|repo_name|>", "<fim-repo>", "<|file_sep|>", "</s>", "<|return|>", "<|call|>", "<eos>"};
  return std::any_of(std::begin(names), std::end(names), [&](const char* n) { return t == n; });
}

constexpr const char* kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// Pre-tokenizer regexes of llama.cpp's llm_tokenizer_bpe, by tokenizer.ggml.pre.
struct PreType {
  std::vector<std::string> regexes;
  bool ignore_merges = false;
  bool add_bos = false;
};

const char* const kGpt2Regex = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const char* const kLlama3Regex =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kQwen2Regex =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

std::optional<PreType> pre_type(const std::string& pre) {
  if (pre.empty() || pre == "default")
    return PreType{{"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2Regex, "\\p{N}+", "[0-9][0-9][0-9]"}, false, false};
  if (pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe" || pre == "falcon3" || pre == "pixtral")
    return PreType{{kLlama3Regex}, true, true};
  if (pre == "dbrx" || pre == "smaug-bpe") return PreType{{kLlama3Regex}, false, false};
  if (pre == "gpt-2" || pre == "phi-2" || pre == "jina-es" || pre == "jina-de" || pre == "mpt" || pre == "olmo" ||
      pre == "jais" || pre == "roberta-bpe" || pre == "jina-v1-en" || pre == "jina-v2-code" || pre == "exaone4")
    return PreType{{kGpt2Regex}, false, false};
  if (pre == "qwen2" || pre == "deepseek-r1-qwen" || pre == "stablelm2" || pre == "megrez")
    return PreType{{kQwen2Regex}, false, false};
  if (pre == "starcoder" || pre == "refact" || pre == "command-r" || pre == "smollm" || pre == "codeshell" ||
      pre == "exaone" || pre == "minerva-7b")
    return PreType{{"\\p{N}", kGpt2Regex}, false, false};
  if (pre == "falcon")
    return PreType{{"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2Regex, "[0-9][0-9][0-9]"}, false, false};
  return std::nullopt;
}

class GgufTokenizer final : public Tokenizer {
 public:
  bool spm = true;
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<uint8_t> attrs;
  Vocab vocab;                       // token text → id
  std::vector<int32_t> special_order;  // control / user-defined / unknown ids, longest text first
  std::vector<int32_t> byte_ids;     // SPM: the id for each byte value, -1 where none
  std::optional<int32_t> bos, eos, unk;
  bool add_bos = false, add_eos = false, add_space_prefix = false, parse_special = false;
  // BPE ("gpt2") only.
  std::vector<std::shared_ptr<const Regex>> regexes;
  bool ignore_merges = false;
  Vocab symbols;  // vocabulary plus the merge parts and results that are not tokens (ids >= n_tokens)
  BpeMergeTable merges;

  Expected<std::vector<int32_t>> encode(std::string_view text, bool add_special) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(tokens.size()); }
  std::optional<int32_t> bos_id() const override { return bos; }
  std::optional<int32_t> eos_id() const override { return eos; }
  bool adds_bos() const override { return add_bos && bos.has_value(); }
  std::string token_text(int32_t id) const override {
    return id >= 0 && static_cast<size_t>(id) < tokens.size() ? tokens[static_cast<size_t>(id)] : std::string();
  }
  std::string kind() const override { return spm ? "spm-gguf" : "bpe-gguf"; }

 private:
  struct Fragment {
    int32_t token;  // -1: raw text
    size_t offset, length;
  };
  std::vector<Fragment> partition(std::string_view text) const;
  void tokenize_spm(const std::string& text, std::vector<int32_t>& out) const;
  Expected<void> tokenize_bpe(std::string_view text, std::vector<int32_t>& out,
                              std::unordered_map<std::string, std::vector<int32_t>>& cache) const;
  void bpe_word(const std::string& word, std::vector<int32_t>& out) const;
  Expected<void> split(std::string_view text, size_t level, size_t start, size_t end,
                       const std::function<void(size_t, size_t)>& emit) const;
};

// llama.cpp's tokenizer_st_partition: each special token in turn (longest first) is cut out of
// every raw-text fragment, left to right.
std::vector<GgufTokenizer::Fragment> GgufTokenizer::partition(std::string_view text) const {
  std::vector<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back({-1, 0, text.size()});
  std::vector<Fragment> next;
  for (const int32_t id : special_order) {
    const uint8_t a = attrs[static_cast<size_t>(id)];
    if (!parse_special && (a & (kControl | kUnknown))) continue;
    const std::string& t = tokens[static_cast<size_t>(id)];
    if (t.empty()) continue;
    next.clear();
    bool changed = false;
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t base = f.offset;
      const size_t end = f.offset + f.length;
      const std::string_view window = text.substr(0, end);
      for (size_t m = window.find(t, base); m != std::string_view::npos; m = window.find(t, base)) {
        changed = true;
        if (m > base) next.push_back({-1, base, m - base});
        next.push_back({id, m, t.size()});
        base = m + t.size();
      }
      if (base < end) next.push_back({-1, base, end - base});
    }
    if (changed) frags.swap(next);
  }
  return frags;
}

struct SpmSymbol {
  int32_t prev, next;
  size_t start, n;
};

struct SpmBigram {
  float score;
  int32_t left, right;
  size_t size;
};

// Highest score first, then leftmost (llama.cpp's llm_bigram_spm::comparator).
struct SpmOrder {
  bool operator()(const SpmBigram& l, const SpmBigram& r) const {
    return l.score < r.score || (l.score == r.score && l.left > r.left);
  }
};

void GgufTokenizer::tokenize_spm(const std::string& text, std::vector<int32_t>& out) const {
  std::vector<SpmSymbol> syms;
  syms.reserve(text.size());
  for (size_t offs = 0; offs < text.size();) {
    const size_t n = std::min(utf8_len(static_cast<unsigned char>(text[offs])), text.size() - offs);
    const auto index = static_cast<int32_t>(syms.size());
    syms.push_back({index - 1, offs + n == text.size() ? -1 : index + 1, offs, n});
    offs += n;
  }
  std::priority_queue<SpmBigram, std::vector<SpmBigram>, SpmOrder> queue;
  const std::string_view all(text);
  const auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const auto& l = syms[static_cast<size_t>(left)];
    const auto& r = syms[static_cast<size_t>(right)];
    const auto id = lookup(vocab, all.substr(l.start, l.n + r.n));
    if (!id) return;
    queue.push({scores[static_cast<size_t>(*id)], left, right, l.n + r.n});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(syms.size()); ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    const SpmBigram b = queue.top();
    queue.pop();
    auto& l = syms[static_cast<size_t>(b.left)];
    auto& r = syms[static_cast<size_t>(b.right)];
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) syms[static_cast<size_t>(r.next)].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  for (int32_t i = syms.empty() ? -1 : 0; i != -1; i = syms[static_cast<size_t>(i)].next) {
    const auto& s = syms[static_cast<size_t>(i)];
    if (const auto id = lookup(vocab, all.substr(s.start, s.n))) {
      out.push_back(*id);
      continue;
    }
    // Only single characters can be left without a token (every merge makes one): their bytes.
    for (size_t k = 0; k < s.n; ++k) {
      const int32_t id = byte_ids[static_cast<unsigned char>(text[s.start + k])];
      if (id >= 0) out.push_back(id);
      else if (unk) out.push_back(*unk);
    }
  }
}

void GgufTokenizer::bpe_word(const std::string& word, std::vector<int32_t>& out) const {
  if (ignore_merges)
    if (const auto id = lookup(vocab, word)) {
      out.push_back(*id);
      return;
    }
  std::vector<BpeSymbol> syms;
  syms.reserve(word.size());
  for (size_t offs = 0; offs < word.size();) {
    const size_t n = std::min(utf8_len(static_cast<unsigned char>(word[offs])), word.size() - offs);
    const auto id = lookup(symbols, std::string_view(word).substr(offs, n));
    syms.push_back({id.value_or(-1), -1, -1, static_cast<uint32_t>(offs), static_cast<uint32_t>(n)});
    offs += n;
  }
  link_symbols(syms);
  merges.merge(syms);
  const auto n_tokens = static_cast<int32_t>(tokens.size());
  for (const auto& s : syms) {
    if (s.id >= 0 && s.id < n_tokens) {
      out.push_back(s.id);
      continue;
    }
    // Not a token: llama.cpp looks each byte up as a one-character token.
    for (size_t k = 0; k < s.len; ++k)
      if (const auto id = lookup(vocab, std::string_view(word).substr(s.start + k, 1))) out.push_back(*id);
  }
}

// llama.cpp's unicode_regex_split: each regex in turn splits every piece into its matches and
// the text between them (all kept); pieces are streamed to `emit` depth-first, in text order.
Expected<void> GgufTokenizer::split(std::string_view text, size_t level, size_t start, size_t end,
                                    const std::function<void(size_t, size_t)>& emit) const {
  if (level == regexes.size()) {
    emit(start, end);
    return {};
  }
  size_t prev = 0;
  std::optional<Error> failure;
  const auto piece = [&](size_t from, size_t to) {
    if (to <= from || failure) return;
    if (auto r = split(text, level + 1, start + from, start + to, emit); !r) failure = r.error();
  };
  LB_TRY_VOID(regexes[level]->for_each_match(text.substr(start, end - start), [&](size_t ms, size_t me) {
    piece(prev, ms);
    piece(ms, me);
    prev = me;
  }));
  piece(prev, end - start);
  if (failure) return Unexpected{*failure};
  return {};
}

Expected<void> GgufTokenizer::tokenize_bpe(std::string_view text, std::vector<int32_t>& out,
                                           std::unordered_map<std::string, std::vector<int32_t>>& cache) const {
  return split(text, 0, 0, text.size(), [&](size_t start, size_t end) {
    std::string word = byte_level_encode(text.substr(start, end - start));
    const auto it = cache.find(word);
    if (it != cache.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
    std::vector<int32_t> ids;
    bpe_word(word, ids);
    out.insert(out.end(), ids.begin(), ids.end());
    cache.emplace(std::move(word), std::move(ids));
  });
}

Expected<std::vector<int32_t>> GgufTokenizer::encode(std::string_view text, bool add_special) const {
  if (const auto bad = find_invalid_utf8(text))
    return make_error(ErrorCode::Format, "text is not valid UTF-8 at byte offset " + std::to_string(*bad));
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 8);
  if (add_special && add_bos && bos) out.push_back(*bos);
  const auto frags = partition(text);
  if (spm) {
    bool prev_special = true;  // the first fragment gets the leading space too
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        out.push_back(f.token);
        prev_special = true;
        continue;
      }
      std::string piece = add_space_prefix && prev_special ? " " : "";
      piece += text.substr(f.offset, f.length);
      std::string escaped;
      escaped.reserve(piece.size() + piece.size() / 2);
      for (const char c : piece) {
        if (c == ' ') escaped += kSpace;
        else escaped += c;
      }
      tokenize_spm(escaped, out);
      prev_special = false;
    }
  } else {
    std::unordered_map<std::string, std::vector<int32_t>> cache;
    for (const Fragment& f : frags) {
      if (f.token >= 0) out.push_back(f.token);
      else LB_TRY_VOID(tokenize_bpe(text.substr(f.offset, f.length), out, cache));
    }
  }
  if (add_special && add_eos && eos) out.push_back(*eos);
  return out;
}

std::string GgufTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (const int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= tokens.size()) continue;
    const uint8_t a = attrs[static_cast<size_t>(id)];
    const std::string& t = tokens[static_cast<size_t>(id)];
    if (a & kUserDefined) {
      out += t;
    } else if (a & kNormal) {
      if (spm) {
        for (size_t k = 0; k < t.size();) {
          if (t.compare(k, 3, kSpace) == 0) {
            out += ' ';
            k += 3;
          } else {
            out += t[k++];
          }
        }
      } else {
        for (size_t k = 0; k < t.size();) {
          const size_t at = k;
          const int b = byte_level_byte(next_code_point(t, k));
          if (b >= 0) out += static_cast<char>(b);
          else out.append(t, at, k - at);
        }
      }
    } else if ((a & kByte) && t.size() == 6 && t.compare(0, 3, "<0x") == 0) {
      out += static_cast<char>(std::strtol(t.substr(3, 2).c_str(), nullptr, 16));
    }
    // Control, unknown, unused and undefined tokens print nothing (llama.cpp without `special`).
  }
  if (spm && add_space_prefix && !out.empty() && out[0] == ' ') out.erase(0, 1);
  return out;
}

}  // namespace

Expected<std::unique_ptr<Tokenizer>> load_gguf_tokenizer(const GgufFile& gguf, const GgufTokenizerOptions& options) {
  const std::string& src = gguf.path();
  const auto fail = [&](ErrorCode code, const std::string& what) { return make_error(code, src + ": " + what); };
  const auto model = gguf.get_string("tokenizer.ggml.model");
  if (!model) return fail(ErrorCode::Format, "tokenizer.ggml.model is missing (the GGUF has no tokenizer)");
  auto t = std::make_unique<GgufTokenizer>();
  if (*model == "llama") {
    t->spm = true;
  } else if (*model == "gpt2") {
    t->spm = false;
  } else {
    return fail(ErrorCode::Unsupported, "tokenizer.ggml.model '" + *model + "' is not supported (only llama and gpt2)");
  }

  const GgufValue* list = gguf.find("tokenizer.ggml.tokens");
  if (!list || list->type != GgufType::ARRAY || list->elem_type != GgufType::STRING)
    return fail(ErrorCode::Format, "tokenizer.ggml.tokens is missing or not an array of strings");
  t->tokens = list->strs;
  const size_t n = t->tokens.size();
  if (n == 0 || n >= (size_t{1} << 31)) return fail(ErrorCode::Format, "tokenizer.ggml.tokens has " + std::to_string(n) + " tokens");

  t->scores.assign(n, 0.0f);
  if (const GgufValue* s = gguf.find("tokenizer.ggml.scores")) {
    if (s->type != GgufType::ARRAY || s->elem_type == GgufType::STRING || s->array_size() < n)
      return fail(ErrorCode::Format, "tokenizer.ggml.scores is not an array of " + std::to_string(n) + " numbers");
    for (size_t i = 0; i < n; ++i)
      t->scores[i] = s->floats.empty() ? static_cast<float>(s->ints[i]) : static_cast<float>(s->floats[i]);
  }
  t->attrs.assign(n, kNormal);
  if (const GgufValue* ty = gguf.find("tokenizer.ggml.token_type")) {
    if (ty->type != GgufType::ARRAY || ty->ints.size() < n)
      return fail(ErrorCode::Format, "tokenizer.ggml.token_type is not an array of " + std::to_string(n) + " integers");
    for (size_t i = 0; i < n; ++i) t->attrs[i] = attr_of_type(ty->ints[i]);
  }
  t->vocab.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (t->tokens[i].empty()) t->tokens[i] = "[EMPTY_" + std::to_string(i) + "]";  // as llama.cpp renames them
    const auto [it, inserted] = t->vocab.emplace(t->tokens[i], static_cast<int32_t>(i));
    if (!inserted)
      return fail(ErrorCode::Format, "tokenizer.ggml.tokens has '" + t->tokens[i] + "' twice (ids " +
                                         std::to_string(it->second) + " and " + std::to_string(i) + ")");
    if (is_control_by_text(t->tokens[i])) t->attrs[i] |= kControl;
  }

  // Defaults of llama.cpp's llama_vocab::load, then the keys.
  PreType pre;
  if (t->spm) {
    t->bos = 1, t->eos = 2, t->unk = 0;
    t->add_bos = true;
    t->add_space_prefix = true;
  } else {
    t->bos = 11, t->eos = 11;  // llama.cpp's defaults for BPE vocabularies
    const std::string pre_name = gguf.get_string("tokenizer.ggml.pre").value_or("");
    const auto p = pre_type(pre_name);
    if (!p) return fail(ErrorCode::Unsupported, "tokenizer.ggml.pre '" + pre_name + "' is not supported");
    pre = *p;
    t->add_bos = pre.add_bos;
    t->ignore_merges = pre.ignore_merges;
  }
  const auto id_key = [&](const char* key, std::optional<int32_t>& id) {
    if (id && static_cast<size_t>(*id) >= n) id.reset();
    const auto v = gguf.get_int(key);
    if (v && *v >= 0 && static_cast<uint64_t>(*v) < n) id = static_cast<int32_t>(*v);
  };
  id_key("tokenizer.ggml.bos_token_id", t->bos);
  id_key("tokenizer.ggml.eos_token_id", t->eos);
  id_key("tokenizer.ggml.unknown_token_id", t->unk);
  if (const auto v = gguf.get_int("tokenizer.ggml.add_bos_token")) t->add_bos = *v != 0;
  if (const auto v = gguf.get_int("tokenizer.ggml.add_eos_token")) t->add_eos = *v != 0;
  if (const auto v = gguf.get_int("tokenizer.ggml.add_space_prefix")) t->add_space_prefix = *v != 0;
  t->parse_special = options.parse_special;

  for (size_t i = 0; i < n; ++i)
    if (t->attrs[i] & (kControl | kUserDefined | kUnknown)) t->special_order.push_back(static_cast<int32_t>(i));
  std::stable_sort(t->special_order.begin(), t->special_order.end(), [&](int32_t a, int32_t b) {
    return t->tokens[static_cast<size_t>(a)].size() > t->tokens[static_cast<size_t>(b)].size();
  });

  if (t->spm) {
    t->byte_ids.assign(256, -1);
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      auto id = lookup(t->vocab, name);
      if (!id) id = lookup(t->vocab, std::string(1, static_cast<char>(b)));
      if (id) t->byte_ids[static_cast<size_t>(b)] = *id;
    }
    return std::unique_ptr<Tokenizer>(std::move(t));
  }

  for (const auto& r : pre.regexes) {
    LB_TRY_ASSIGN(auto re, Regex::compile(r, src + ": pre-tokenizer regex"));
    t->regexes.push_back(std::move(re));
  }
  const GgufValue* m = gguf.find("tokenizer.ggml.merges");
  if (!m || m->type != GgufType::ARRAY || m->elem_type != GgufType::STRING)
    return fail(ErrorCode::Format, "tokenizer.ggml.merges is missing or not an array of strings");
  t->symbols = t->vocab;
  const auto intern = [&](const std::string& s) {
    const auto [it, inserted] = t->symbols.emplace(s, static_cast<int32_t>(t->symbols.size()));
    return it->second;
  };
  t->merges.reserve(m->strs.size());
  for (size_t i = 0; i < m->strs.size(); ++i) {
    const std::string& line = m->strs[i];
    const size_t pos = line.find(' ', 1);
    if (pos == std::string::npos) continue;  // llama.cpp records an empty pair that never matches
    const std::string first = line.substr(0, pos), second = line.substr(pos + 1);
    const int32_t a = intern(first), b = intern(second), ab = intern(first + second);
    t->merges.add(a, b, static_cast<int32_t>(i), ab, /*overwrite=*/false);
  }
  return std::unique_ptr<Tokenizer>(std::move(t));
}

}  // namespace lowbit::tok
