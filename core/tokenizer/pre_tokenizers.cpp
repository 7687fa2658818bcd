#include "core/tokenizer/pre_tokenizers.h"

#include "core/tokenizer/pattern.h"
#include "core/tokenizer/utf8.h"

namespace lowbit::tok {

const char* const kGpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

namespace {

// Splits a piece by `pattern` with `behavior` (tokenizers' NormalizedString::split), dropping
// empty results; `map` may rewrite each result before it goes to the sink.
Expected<void> split_piece(const Piece& piece, const Pattern& pattern, SplitBehavior behavior, bool invert,
                           const PieceSink& sink) {
  SplitAssembler assembler(behavior, [&](size_t start, size_t end) {
    if (end > start) sink(Piece{piece.text.substr(start, end - start), piece.at_start && start == 0});
  });
  LB_TRY_VOID(pattern.for_each_span(piece.text, [&](const Span& s) {
    assembler.add(invert ? Span{s.start, s.end, !s.match} : s);
  }));
  assembler.finish();
  return {};
}

class ByteLevelPre final : public PreTokenizer {
 public:
  ByteLevelPre(bool add_prefix_space, std::optional<Pattern> regex)
      : add_prefix_space_(add_prefix_space), regex_(std::move(regex)) {}
  Expected<void> apply(Piece piece, const PieceSink& sink) const override {
    if (add_prefix_space_ && (piece.text.empty() || piece.text[0] != ' ')) piece.text.insert(piece.text.begin(), ' ');
    const auto encode = [&](Piece&& p) {
      p.text = byte_level_encode(p.text);
      sink(std::move(p));
    };
    if (regex_) return split_piece(piece, *regex_, SplitBehavior::Isolated, false, encode);
    encode(std::move(piece));
    return {};
  }
  bool contains(const std::string& type) const override { return type == "ByteLevel"; }

 private:
  bool add_prefix_space_;
  std::optional<Pattern> regex_;
};

class SplitPre final : public PreTokenizer {
 public:
  SplitPre(Pattern pattern, SplitBehavior behavior, bool invert, std::string type)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert), type_(std::move(type)) {}
  Expected<void> apply(Piece piece, const PieceSink& sink) const override {
    return split_piece(piece, pattern_, behavior_, invert_, sink);
  }
  bool contains(const std::string& type) const override { return type == type_; }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
  std::string type_;
};

enum class PrependScheme { Always, First, Never };

class MetaspacePre final : public PreTokenizer {
 public:
  MetaspacePre(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  Expected<void> apply(Piece piece, const PieceSink& sink) const override {
    LB_TRY_ASSIGN(piece.text, Pattern::literal(" ").replace(piece.text, replacement_));
    const bool starts = piece.text.compare(0, replacement_.size(), replacement_) == 0;
    if (!starts && (scheme_ == PrependScheme::Always || (scheme_ == PrependScheme::First && piece.at_start)))
      piece.text.insert(0, replacement_);
    if (split_) return split_piece(piece, Pattern::literal(replacement_), SplitBehavior::MergedWithNext, false, sink);
    if (!piece.text.empty()) sink(std::move(piece));
    return {};
  }
  bool contains(const std::string& type) const override { return type == "Metaspace"; }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

class WhitespaceSplitPre final : public PreTokenizer {
 public:
  Expected<void> apply(Piece p, const PieceSink& sink) const override {
    size_t i = 0, word_start = 0;
    bool in_word = false;
    while (i < p.text.size()) {
      const size_t at = i;
      const bool ws = is_unicode_whitespace(next_code_point(p.text, i));
      if (ws && in_word) sink(Piece{p.text.substr(word_start, at - word_start), p.at_start && word_start == 0});
      if (!ws && !in_word) word_start = at;
      in_word = !ws;
    }
    if (in_word) sink(Piece{p.text.substr(word_start), p.at_start && word_start == 0});
    return {};
  }
  bool contains(const std::string& type) const override { return type == "WhitespaceSplit"; }
};

class SequencePre final : public PreTokenizer {
 public:
  explicit SequencePre(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  Expected<void> apply(Piece piece, const PieceSink& sink) const override {
    std::optional<Error> failure;
    run(0, std::move(piece), sink, failure);
    if (failure) return Unexpected{*failure};
    return {};
  }
  bool contains(const std::string& type) const override {
    for (const auto& p : parts_)
      if (p->contains(type)) return true;
    return type == "Sequence";
  }

 private:
  // Feeds a piece to stage i, whose pieces feed stage i + 1; the first error stops the chain.
  void run(size_t i, Piece piece, const PieceSink& sink, std::optional<Error>& failure) const {
    if (failure) return;
    if (i == parts_.size()) {
      sink(std::move(piece));
      return;
    }
    auto r = parts_[i]->apply(std::move(piece), [&](Piece&& p) { run(i + 1, std::move(p), sink, failure); });
    if (!r && !failure) failure = r.error();
  }

  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

Expected<std::unique_ptr<PreTokenizer>> make_split(Expected<Pattern> pattern, SplitBehavior behavior, bool invert,
                                                   const std::string& type) {
  if (!pattern) return Unexpected{pattern.error()};
  return std::unique_ptr<PreTokenizer>(new SplitPre(std::move(pattern).value(), behavior, invert, type));
}

}  // namespace

Expected<std::unique_ptr<PreTokenizer>> make_pre_tokenizer(const Json& value, const JsonPath& at) {
  if (!value.is_object()) return json_type_error(at, "an object", value);
  LB_TRY_ASSIGN(const std::string type, json_string(value, "type", at));
  const std::string where = at.str();
  if (type == "ByteLevel") {
    LB_TRY_ASSIGN(const bool add_prefix_space, json_bool(value, "add_prefix_space", true, at));
    LB_TRY_ASSIGN(const bool use_regex, json_bool(value, "use_regex", true, at));
    std::optional<Pattern> regex;
    if (use_regex) {
      LB_TRY_ASSIGN(regex, Pattern::regex(kGpt2Pattern, where));
    }
    return std::unique_ptr<PreTokenizer>(new ByteLevelPre(add_prefix_space, std::move(regex)));
  }
  if (type == "Split") {
    const Json* p = json_member(value, "pattern");
    if (!p) return make_error(ErrorCode::Format, at.child("pattern").str() + ": missing");
    LB_TRY_ASSIGN(Pattern pattern, Pattern::from_json(*p, at.child("pattern")));
    if (!json_member(value, "behavior")) return make_error(ErrorCode::Format, at.child("behavior").str() + ": missing");
    LB_TRY_ASSIGN(const auto behavior, parse_split_behavior(value, "behavior", SplitBehavior::Isolated, at));
    LB_TRY_ASSIGN(const bool invert, json_bool(value, "invert", false, at));
    return std::unique_ptr<PreTokenizer>(new SplitPre(std::move(pattern), behavior, invert, type));
  }
  if (type == "Metaspace") {
    LB_TRY_ASSIGN(std::string replacement, json_char(value, "replacement", "\xE2\x96\x81", at));
    LB_TRY_ASSIGN(const auto scheme_name, json_opt_string(value, "prepend_scheme", at));
    PrependScheme scheme = PrependScheme::Always;
    if (scheme_name) {
      if (*scheme_name == "always") scheme = PrependScheme::Always;
      else if (*scheme_name == "first") scheme = PrependScheme::First;
      else if (*scheme_name == "never") scheme = PrependScheme::Never;
      else
        return make_error(ErrorCode::Format, at.child("prepend_scheme").str() + ": unknown scheme '" + *scheme_name + "'");
    } else {
      // Files written before prepend_scheme existed carry add_prefix_space.
      LB_TRY_ASSIGN(const bool add_prefix_space, json_bool(value, "add_prefix_space", true, at));
      scheme = add_prefix_space ? PrependScheme::Always : PrependScheme::Never;
    }
    LB_TRY_ASSIGN(const bool split, json_bool(value, "split", true, at));
    return std::unique_ptr<PreTokenizer>(new MetaspacePre(std::move(replacement), scheme, split));
  }
  if (type == "Digits") {
    LB_TRY_ASSIGN(const bool individual, json_bool(value, "individual_digits", false, at));
    return make_split(Pattern::regex("\\p{N}", where), individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous,
                      false, type);
  }
  if (type == "Whitespace")
    return make_split(Pattern::regex("\\w+|[^\\w\\s]+", where), SplitBehavior::Removed, true, type);
  if (type == "WhitespaceSplit") return std::unique_ptr<PreTokenizer>(new WhitespaceSplitPre());
  if (type == "Punctuation") {
    LB_TRY_ASSIGN(const auto behavior, parse_split_behavior(value, "behavior", SplitBehavior::Isolated, at));
    return make_split(Pattern::regex("[\\p{P}!-/:-@\\[-`{-~]", where), behavior, false, type);
  }
  if (type == "CharDelimiterSplit") {
    LB_TRY_ASSIGN(std::string delimiter, json_char(value, "delimiter", "", at));
    return make_split(Pattern::literal(delimiter), SplitBehavior::Removed, false, type);
  }
  if (type == "Sequence") {
    const Json* list = json_member(value, "pretokenizers");
    if (!list || !list->is_array())
      return make_error(ErrorCode::Format, at.child("pretokenizers").str() + ": expected an array");
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (size_t i = 0; i < list->size(); ++i) {
      LB_TRY_ASSIGN(auto part, make_pre_tokenizer((*list)[i], at.child("pretokenizers").index(i)));
      parts.push_back(std::move(part));
    }
    return std::unique_ptr<PreTokenizer>(new SequencePre(std::move(parts)));
  }
  return make_error(ErrorCode::Unsupported, where + ": pre-tokenizer type '" + type + "' is not supported");
}

}  // namespace lowbit::tok
