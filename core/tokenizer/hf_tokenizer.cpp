#include "core/tokenizer/hf_tokenizer.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/added_vocabulary.h"
#include "core/tokenizer/bpe.h"
#include "core/tokenizer/decoders.h"
#include "core/tokenizer/json_access.h"
#include "core/tokenizer/normalizers.h"
#include "core/tokenizer/pre_tokenizers.h"
#include "core/tokenizer/utf8.h"

namespace lowbit::tok {

namespace {

// Words longer than this are not cached (a tokenizer without pre-tokenizer sees whole lines).
constexpr size_t kMaxCachedWord = 256;
// Vocabulary ids may leave at most this many ids unused (see parse_vocab).
constexpr int64_t kMaxUnusedIds = int64_t{1} << 16;

class HfTokenizer final : public Tokenizer {
 public:
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::optional<BpeModel> model;
  AddedVocabulary added;
  std::unique_ptr<PostProcessor> post_processor;
  std::unique_ptr<Decoder> decoder;
  std::vector<std::string> id_to_token;  // model vocabulary and added tokens
  std::vector<char> special;              // 1 for special added tokens
  std::optional<int32_t> bos, eos;
  bool add_bos = false;
  std::string kind_name;

  Expected<std::vector<int32_t>> encode(std::string_view text, bool add_special) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(id_to_token.size()); }
  std::optional<int32_t> bos_id() const override { return bos; }
  std::optional<int32_t> eos_id() const override { return eos; }
  bool adds_bos() const override { return add_bos; }
  std::string token_text(int32_t id) const override {
    return id >= 0 && static_cast<size_t>(id) < id_to_token.size() ? id_to_token[static_cast<size_t>(id)] : std::string();
  }
  std::string kind() const override { return kind_name; }

  std::optional<int32_t> token_id(std::string_view text) const {
    if (const AddedToken* t = added.find_by_content(text)) return t->id;
    return model->token_to_id(text);
  }
};

using WordCache = std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>>;

void tokenize_word(const BpeModel& model, std::string_view word, WordCache& cache, std::vector<int32_t>& out) {
  if (word.size() > kMaxCachedWord) {
    model.tokenize(word, out);
    return;
  }
  const auto it = cache.find(word);
  if (it != cache.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return;
  }
  std::vector<int32_t> ids;
  model.tokenize(word, ids);
  out.insert(out.end(), ids.begin(), ids.end());
  cache.emplace(std::string(word), std::move(ids));
}

Expected<std::vector<int32_t>> HfTokenizer::encode(std::string_view text, bool add_special) const {
  if (const auto bad = find_invalid_utf8(text))
    return make_error(ErrorCode::Format, "text is not valid UTF-8 at byte offset " + std::to_string(*bad));
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 8);
  WordCache cache;
  const auto to_model = [&](Piece&& p) { tokenize_word(*model, p.text, cache, ids); };
  for (const Segment& seg : added.split(text, /*normalized_set=*/false)) {
    if (seg.token) {
      ids.push_back(*seg.token);
      continue;
    }
    std::string norm(text.substr(seg.start, seg.end - seg.start));
    if (normalizer) {
      LB_TRY_ASSIGN(norm, normalizer->normalize(std::move(norm)));
    }
    for (const Segment& sub : added.split(norm, /*normalized_set=*/true)) {
      if (sub.token) {
        ids.push_back(*sub.token);
        continue;
      }
      if (sub.end == sub.start) continue;
      Piece piece{norm.substr(sub.start, sub.end - sub.start), seg.start == 0 && sub.start == 0};
      if (pre_tokenizer) LB_TRY_VOID(pre_tokenizer->apply(std::move(piece), to_model));
      else to_model(std::move(piece));
    }
  }
  if (add_special && post_processor) ids = post_processor->process(std::move(ids));
  return ids;
}

std::string HfTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= id_to_token.size() || special[static_cast<size_t>(id)]) continue;
    const std::string& t = id_to_token[static_cast<size_t>(id)];
    if (!t.empty()) tokens.push_back(t);
  }
  std::string out;
  if (!decoder) {
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  for (const auto& s : decoder->decode_chain(std::move(tokens))) out += s;
  return out;
}

Expected<Vocab> parse_vocab(const Json& model, const JsonPath& at) {
  const Json* v = json_member(model, "vocab");
  if (!v) return make_error(ErrorCode::Format, at.child("vocab").str() + ": missing");
  if (!v->is_object()) return json_type_error(at.child("vocab"), "an object of token: id", *v);
  Vocab vocab;
  vocab.reserve(v->size());
  int64_t max_id = -1;
  std::string max_token;
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it.value().is_number_integer())
      return json_type_error(at.child("vocab").child("\"" + it.key() + "\""), "an integer id", it.value());
    const int64_t id = it.value().get<int64_t>();
    if (id < 0 || id >= (int64_t{1} << 31) - 1)
      return make_error(ErrorCode::Format, at.child("vocab").str() + ": id " + std::to_string(id) + " of token '" +
                                               it.key() + "' is out of range");
    vocab.emplace(it.key(), static_cast<int32_t>(id));
    if (id > max_id) max_id = id, max_token = it.key();
  }
  // The tokenizer keeps a dense id → token table, so a vocabulary whose ids leave millions unused
  // (a damaged id such as 2147483000) would cost gigabytes; real vocabularies are dense.
  if (max_id >= static_cast<int64_t>(vocab.size()) + kMaxUnusedIds)
    return make_error(ErrorCode::Format, at.child("vocab").str() + ": id " + std::to_string(max_id) + " of token '" +
                                             max_token + "' leaves more than " + std::to_string(kMaxUnusedIds) +
                                             " ids unused (the vocabulary has " + std::to_string(vocab.size()) + " tokens)");
  return vocab;
}

Expected<std::vector<std::pair<std::string, std::string>>> parse_merges(const Json& model, const JsonPath& at) {
  std::vector<std::pair<std::string, std::string>> merges;
  const Json* m = json_member(model, "merges");
  if (!m) return merges;
  if (!m->is_array()) return json_type_error(at.child("merges"), "an array", *m);
  merges.reserve(m->size());
  for (size_t i = 0; i < m->size(); ++i) {
    const Json& e = (*m)[i];
    const JsonPath e_at = at.child("merges").index(i);
    if (e.is_string()) {
      const auto& s = e.get_ref<const std::string&>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        return make_error(ErrorCode::Format, e_at.str() + ": expected \"left right\", found \"" + s + "\"");
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      merges.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
    } else {
      return json_type_error(e_at, "\"left right\" or [\"left\", \"right\"]", e);
    }
  }
  return merges;
}

Expected<BpeModel> parse_model(const Json& root, const std::string& source) {
  const JsonPath top{&source, ""};
  const Json* model = json_member(root, "model");
  const JsonPath at = top.child("model");
  if (!model) return make_error(ErrorCode::Format, at.str() + ": missing (a tokenizer.json needs a model)");
  if (!model->is_object()) return json_type_error(at, "an object", *model);
  LB_TRY_ASSIGN(const auto type, json_opt_string(*model, "type", at));
  if (type && *type != "BPE")
    return make_error(ErrorCode::Unsupported, at.child("type").str() + ": model type '" + *type +
                                                  "' is not supported (only BPE is)");
  if (!type && !json_member(*model, "merges"))
    return make_error(ErrorCode::Unsupported, at.str() + ": no \"type\" and no merges; only BPE models are supported");
  if (const Json* d = json_member(*model, "dropout")) {
    if (!d->is_number()) return json_type_error(at.child("dropout"), "a number or null", *d);
    if (d->get<double>() > 0.0)
      return make_error(ErrorCode::Unsupported, at.child("dropout").str() + ": BPE dropout is random; it is not supported");
  }
  BpeOptions options;
  LB_TRY_ASSIGN(options.unk_token, json_opt_string(*model, "unk_token", at));
  LB_TRY_ASSIGN(const auto prefix, json_opt_string(*model, "continuing_subword_prefix", at));
  LB_TRY_ASSIGN(const auto suffix, json_opt_string(*model, "end_of_word_suffix", at));
  options.continuing_subword_prefix = prefix.value_or("");
  options.end_of_word_suffix = suffix.value_or("");
  LB_TRY_ASSIGN(options.fuse_unk, json_bool(*model, "fuse_unk", false, at));
  LB_TRY_ASSIGN(options.byte_fallback, json_bool(*model, "byte_fallback", false, at));
  LB_TRY_ASSIGN(options.ignore_merges, json_bool(*model, "ignore_merges", false, at));
  LB_TRY_ASSIGN(Vocab vocab, parse_vocab(*model, at));
  LB_TRY_ASSIGN(const auto merges, parse_merges(*model, at));
  return BpeModel::build(std::move(vocab), merges, std::move(options), source);
}

// tokenizers' AddedVocabulary::add_tokens: a token already in the model keeps the model's id;
// a new one gets the next id after the vocabulary and the added tokens so far.
Expected<std::vector<AddedToken>> parse_added_tokens(const Json& root, const BpeModel& model, const JsonPath& top) {
  std::vector<AddedToken> tokens;
  const Json* list = json_member(root, "added_tokens");
  if (!list) return tokens;
  const JsonPath at = top.child("added_tokens");
  if (!list->is_array()) return json_type_error(at, "an array", *list);
  const auto vocab_size = static_cast<int64_t>(model.vocab().size());
  std::unordered_map<std::string, int32_t> assigned;
  std::optional<int64_t> max_added;
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& e = (*list)[i];
    const JsonPath e_at = at.index(i);
    if (!e.is_object()) return json_type_error(e_at, "an object", e);
    AddedToken t;
    LB_TRY_ASSIGN(t.content, json_string(e, "content", e_at));
    LB_TRY_ASSIGN(const int64_t file_id, json_int(e, "id", 0, e_at));
    (void)file_id;  // tokenizers recomputes ids rather than trusting the file; so do we
    LB_TRY_ASSIGN(t.special, json_bool(e, "special", false, e_at));
    LB_TRY_ASSIGN(t.single_word, json_bool(e, "single_word", false, e_at));
    LB_TRY_ASSIGN(t.lstrip, json_bool(e, "lstrip", false, e_at));
    LB_TRY_ASSIGN(t.rstrip, json_bool(e, "rstrip", false, e_at));
    LB_TRY_ASSIGN(t.normalized, json_bool(e, "normalized", !t.special, e_at));
    if (t.content.empty()) continue;
    if (find_invalid_utf8(t.content)) return make_error(ErrorCode::Format, e_at.child("content").str() + ": not valid UTF-8");
    if (const auto it = assigned.find(t.content); it != assigned.end()) continue;
    int64_t id = 0;
    if (const auto in_model = model.token_to_id(t.content)) {
      id = *in_model;
    } else if (!max_added) {
      id = vocab_size;
    } else {
      id = (*max_added >= vocab_size || vocab_size == 0) ? *max_added + 1 : vocab_size;
    }
    if (id >= (int64_t{1} << 31) - 1) return make_error(ErrorCode::Format, e_at.str() + ": too many tokens");
    t.id = static_cast<int32_t>(id);
    max_added = std::max(max_added.value_or(id), id);
    assigned.emplace(t.content, t.id);
    tokens.push_back(std::move(t));
  }
  return tokens;
}

template <class T, class Make>
Expected<std::unique_ptr<T>> optional_component(const Json& root, const char* key, const std::string& source, Make make) {
  const Json* v = json_member(root, key);
  if (!v) return std::unique_ptr<T>();
  return make(*v, JsonPath{&source, key});
}

Expected<std::unique_ptr<Tokenizer>> build(const Json& root, const std::string& source, const SpecialTokenNames& names) {
  if (!root.is_object()) return json_type_error(JsonPath{&source, ""}, "an object", root);
  auto t = std::make_unique<HfTokenizer>();
  LB_TRY_ASSIGN(t->model, parse_model(root, source));
  LB_TRY_ASSIGN(t->normalizer, optional_component<Normalizer>(root, "normalizer", source, make_normalizer));
  LB_TRY_ASSIGN(t->pre_tokenizer, optional_component<PreTokenizer>(root, "pre_tokenizer", source, make_pre_tokenizer));
  LB_TRY_ASSIGN(t->post_processor, optional_component<PostProcessor>(root, "post_processor", source, make_post_processor));
  LB_TRY_ASSIGN(t->decoder, optional_component<Decoder>(root, "decoder", source, make_decoder));
  LB_TRY_ASSIGN(auto added_tokens, parse_added_tokens(root, *t->model, JsonPath{&source, ""}));
  LB_TRY_ASSIGN(t->added, AddedVocabulary::build(std::move(added_tokens), t->normalizer.get()));

  int32_t size = 0;
  for (const auto& [text, id] : t->model->vocab()) size = std::max(size, id + 1);
  for (const auto& a : t->added.tokens()) size = std::max(size, a.id + 1);
  t->id_to_token.assign(static_cast<size_t>(size), std::string());
  t->special.assign(static_cast<size_t>(size), 0);
  for (const auto& [text, id] : t->model->vocab()) t->id_to_token[static_cast<size_t>(id)] = text;
  for (const auto& a : t->added.tokens()) {
    t->id_to_token[static_cast<size_t>(a.id)] = a.content;
    t->special[static_cast<size_t>(a.id)] = a.special ? 1 : 0;
  }

  // Every id a template adds must exist.
  const std::vector<int32_t> template_ids = t->post_processor ? t->post_processor->process({}) : std::vector<int32_t>{};
  for (const int32_t id : template_ids)
    if (id < 0 || id >= size)
      return make_error(ErrorCode::Format, source + ": post_processor adds id " + std::to_string(id) +
                                               ", which is not in the vocabulary");

  // BOS/EOS: tokenizer_config.json's names first; otherwise the token a template puts first,
  // otherwise the usual names.
  if (names.bos) t->bos = t->token_id(*names.bos);
  if (!t->bos && !template_ids.empty()) t->bos = template_ids.front();
  for (const char* name : {"<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>"})
    if (!t->bos) t->bos = t->token_id(name);
  if (names.eos) t->eos = t->token_id(*names.eos);
  for (const char* name : {"</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>", "<|im_end|>", "<|eot_id|>"})
    if (!t->eos) t->eos = t->token_id(name);
  t->add_bos = !template_ids.empty() && t->bos && template_ids.front() == *t->bos;

  const bool byte_level = t->pre_tokenizer && t->pre_tokenizer->contains("ByteLevel");
  const bool metaspace = (t->pre_tokenizer && t->pre_tokenizer->contains("Metaspace")) ||
                         (json_member(root, "normalizer") && root["normalizer"].dump().find("\xE2\x96\x81") != std::string::npos);
  t->kind_name = byte_level ? "bpe-bytelevel" : metaspace ? "bpe-metaspace" : "bpe";
  return std::unique_ptr<Tokenizer>(std::move(t));
}

}  // namespace

Expected<std::unique_ptr<Tokenizer>> load_hf_tokenizer(std::string_view json, const std::string& source,
                                                       const SpecialTokenNames& names) {
  // nlohmann::json reports where a parse failed only through its exception; it is caught here so
  // that nothing escapes the module.
  try {
    Json root;
    try {
      root = Json::parse(json.begin(), json.end());
    } catch (const Json::parse_error& e) {
      return make_error(ErrorCode::Format, source + ": not valid JSON (" + e.what() + ")");
    }
    return build(root, source, names);
  } catch (const Json::exception& e) {
    return make_error(ErrorCode::Format, source + ": unexpected JSON content (" + e.what() + ")");
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::OutOfMemory, source + ": out of memory while loading the tokenizer");
  }
}

SpecialTokenNames parse_tokenizer_config(std::string_view json) {
  SpecialTokenNames names;
  const Json root = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (!root.is_object()) return names;
  const auto name_of = [&](const char* key) -> std::optional<std::string> {
    const Json* v = json_member(root, key);
    if (!v) return std::nullopt;
    if (v->is_string()) return v->get<std::string>();
    if (const Json* c = json_member(*v, "content"); c && c->is_string()) return c->get<std::string>();
    return std::nullopt;
  };
  names.bos = name_of("bos_token");
  names.eos = name_of("eos_token");
  return names;
}

}  // namespace lowbit::tok
