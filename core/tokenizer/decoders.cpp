#include "core/tokenizer/decoders.h"

#include <cstdlib>

#include "core/tokenizer/pattern.h"
#include "core/tokenizer/utf8.h"

namespace lowbit::tok {

namespace {

class ByteLevelDecoder final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string bytes;
    for (const auto& t : tokens) {
      // A token with a character outside the byte-level alphabet (an added token) goes through
      // as its raw UTF-8, as tokenizers does.
      std::string mapped;
      bool ok = true;
      for (size_t i = 0; i < t.size() && ok;) {
        const int b = byte_level_byte(next_code_point(t, i));
        if (b < 0) ok = false;
        else mapped.push_back(static_cast<char>(b));
      }
      bytes += ok ? mapped : t;
    }
    return {utf8_lossy(bytes)};
  }
};

class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first) : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& t = tokens[i];
      for (size_t k = 0; k < t.size();) {
        if (t.compare(k, replacement_.size(), replacement_) == 0) {
          if (!(i == 0 && strip_first_)) out.push_back(' ');
          k += replacement_.size();
        } else {
          out.push_back(t[k++]);
        }
      }
      tokens[i] = std::move(out);
    }
    return tokens;
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(Pattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (auto& t : tokens)
      if (auto r = pattern_.replace(t, content_)) t = std::move(r).value();
    return tokens;
  }

 private:
  Pattern pattern_;
  std::string content_;
};

// Runs of <0xXX> tokens become the text of their bytes, or one U+FFFD per byte when the run is
// not valid UTF-8 (tokenizers' ByteFallback).
class ByteFallbackDecoder final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    std::string bytes;
    size_t count = 0;
    const auto flush = [&] {
      if (count == 0) return;
      if (!find_invalid_utf8(bytes)) {
        out.push_back(bytes);
      } else {
        for (size_t i = 0; i < count; ++i) out.emplace_back("\xEF\xBF\xBD");
      }
      bytes.clear();
      count = 0;
    };
    for (auto& t : tokens) {
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && std::isxdigit(static_cast<unsigned char>(t[3])) &&
          std::isxdigit(static_cast<unsigned char>(t[4]))) {
        bytes.push_back(static_cast<char>(std::strtol(t.substr(3, 2).c_str(), nullptr, 16)));
        ++count;
        continue;
      }
      flush();
      out.push_back(std::move(t));
    }
    flush();
    return out;
  }
};

class FuseDecoder final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string all;
    for (const auto& t : tokens) all += t;
    return {all};
  }
};

class StripDecoder final : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop) : content_(std::move(content)), start_(start), stop_(stop) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    const size_t n = content_.size();
    for (auto& t : tokens) {
      size_t begin = 0, end = t.size();
      for (size_t i = 0; i < start_ && end - begin >= n && t.compare(begin, n, content_) == 0; ++i) begin += n;
      for (size_t i = 0; i < stop_ && end - begin >= n && t.compare(end - n, n, content_) == 0; ++i) end -= n;
      t = t.substr(begin, end - begin);
    }
    return tokens;
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

class BpeDecoder final : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    if (suffix_.empty()) return tokens;
    const Pattern p = Pattern::literal(suffix_);
    for (size_t i = 0; i < tokens.size(); ++i)
      if (auto r = p.replace(tokens[i], i + 1 == tokens.size() ? "" : " ")) tokens[i] = std::move(r).value();
    return tokens;
  }

 private:
  std::string suffix_;
};

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (const auto& p : parts_) tokens = p->decode_chain(std::move(tokens));
    return tokens;
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

}  // namespace

Expected<std::unique_ptr<Decoder>> make_decoder(const Json& value, const JsonPath& at) {
  if (!value.is_object()) return json_type_error(at, "an object", value);
  LB_TRY_ASSIGN(const std::string type, json_string(value, "type", at));
  if (type == "ByteLevel") return std::unique_ptr<Decoder>(new ByteLevelDecoder());
  if (type == "Metaspace") {
    LB_TRY_ASSIGN(std::string replacement, json_char(value, "replacement", "\xE2\x96\x81", at));
    LB_TRY_ASSIGN(const auto scheme, json_opt_string(value, "prepend_scheme", at));
    bool strip_first = true;
    if (scheme) {
      strip_first = *scheme != "never";
    } else {
      LB_TRY_ASSIGN(strip_first, json_bool(value, "add_prefix_space", true, at));
    }
    return std::unique_ptr<Decoder>(new MetaspaceDecoder(std::move(replacement), strip_first));
  }
  if (type == "Replace") {
    const Json* p = json_member(value, "pattern");
    if (!p) return make_error(ErrorCode::Format, at.child("pattern").str() + ": missing");
    LB_TRY_ASSIGN(Pattern pattern, Pattern::from_json(*p, at.child("pattern")));
    LB_TRY_ASSIGN(std::string content, json_string(value, "content", at));
    return std::unique_ptr<Decoder>(new ReplaceDecoder(std::move(pattern), std::move(content)));
  }
  if (type == "ByteFallback") return std::unique_ptr<Decoder>(new ByteFallbackDecoder());
  if (type == "Fuse") return std::unique_ptr<Decoder>(new FuseDecoder());
  if (type == "Strip") {
    LB_TRY_ASSIGN(std::string content, json_char(value, "content", " ", at));
    LB_TRY_ASSIGN(const int64_t start, json_int(value, "start", 0, at));
    LB_TRY_ASSIGN(const int64_t stop, json_int(value, "stop", 0, at));
    if (start < 0 || stop < 0) return make_error(ErrorCode::Format, at.str() + ": start and stop must not be negative");
    return std::unique_ptr<Decoder>(new StripDecoder(std::move(content), static_cast<size_t>(start), static_cast<size_t>(stop)));
  }
  if (type == "BPEDecoder") {
    LB_TRY_ASSIGN(const auto suffix, json_opt_string(value, "suffix", at));
    return std::unique_ptr<Decoder>(new BpeDecoder(suffix.value_or("</w>")));
  }
  if (type == "Sequence") {
    const Json* list = json_member(value, "decoders");
    if (!list || !list->is_array()) return make_error(ErrorCode::Format, at.child("decoders").str() + ": expected an array");
    std::vector<std::unique_ptr<Decoder>> parts;
    for (size_t i = 0; i < list->size(); ++i) {
      LB_TRY_ASSIGN(auto part, make_decoder((*list)[i], at.child("decoders").index(i)));
      parts.push_back(std::move(part));
    }
    return std::unique_ptr<Decoder>(new SequenceDecoder(std::move(parts)));
  }
  return make_error(ErrorCode::Unsupported, at.str() + ": decoder type '" + type + "' is not supported");
}

namespace {

class TemplatePost final : public PostProcessor {
 public:
  // Each item: the ids of a special token, or nullopt for the sequence itself.
  explicit TemplatePost(std::vector<std::optional<std::vector<int32_t>>> items) : items_(std::move(items)) {}
  std::vector<int32_t> process(std::vector<int32_t> ids) const override {
    std::vector<int32_t> out;
    out.reserve(ids.size() + 4);
    for (const auto& item : items_) {
      if (item) out.insert(out.end(), item->begin(), item->end());
      else out.insert(out.end(), ids.begin(), ids.end());
    }
    return out;
  }

 private:
  std::vector<std::optional<std::vector<int32_t>>> items_;
};

class SequencePost final : public PostProcessor {
 public:
  explicit SequencePost(std::vector<std::unique_ptr<PostProcessor>> parts) : parts_(std::move(parts)) {}
  std::vector<int32_t> process(std::vector<int32_t> ids) const override {
    for (const auto& p : parts_) ids = p->process(std::move(ids));
    return ids;
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> parts_;
};

// Roberta's and Bert's processors name a token as ["text", id].
Expected<int32_t> pair_id(const Json& obj, const char* key, const JsonPath& at) {
  const Json* v = json_member(obj, key);
  if (!v || !v->is_array() || v->size() != 2 || !(*v)[1].is_number_integer())
    return make_error(ErrorCode::Format, at.child(key).str() + ": expected [\"token\", id]");
  return static_cast<int32_t>((*v)[1].get<int64_t>());
}

Expected<std::unique_ptr<PostProcessor>> make_template(const Json& value, const JsonPath& at) {
  const Json* single = json_member(value, "single");
  if (!single || !single->is_array()) return make_error(ErrorCode::Format, at.child("single").str() + ": expected an array");
  const Json* specials = json_member(value, "special_tokens");
  std::vector<std::optional<std::vector<int32_t>>> items;
  for (size_t i = 0; i < single->size(); ++i) {
    const JsonPath item_at = at.child("single").index(i);
    const Json& item = (*single)[i];
    if (json_member(item, "Sequence")) {
      items.emplace_back(std::nullopt);
      continue;
    }
    const Json* special = json_member(item, "SpecialToken");
    if (!special) return make_error(ErrorCode::Format, item_at.str() + ": expected a SpecialToken or a Sequence");
    LB_TRY_ASSIGN(const std::string name, json_string(*special, "id", item_at.child("SpecialToken")));
    const Json* entry = specials ? json_member(*specials, name.c_str()) : nullptr;
    const Json* ids = entry ? json_member(*entry, "ids") : nullptr;
    if (!ids || !ids->is_array())
      return make_error(ErrorCode::Format, at.child("special_tokens").str() + ": no ids for the template's token '" + name + "'");
    std::vector<int32_t> list;
    for (const auto& id : *ids) {
      if (!id.is_number_integer())
        return make_error(ErrorCode::Format, at.child("special_tokens").child(name).str() + ".ids: expected integers");
      list.push_back(static_cast<int32_t>(id.get<int64_t>()));
    }
    items.emplace_back(std::move(list));
  }
  return std::unique_ptr<PostProcessor>(new TemplatePost(std::move(items)));
}

}  // namespace

Expected<std::unique_ptr<PostProcessor>> make_post_processor(const Json& value, const JsonPath& at) {
  if (!value.is_object()) return json_type_error(at, "an object", value);
  LB_TRY_ASSIGN(const std::string type, json_string(value, "type", at));
  if (type == "TemplateProcessing") return make_template(value, at);
  if (type == "ByteLevel") return std::unique_ptr<PostProcessor>(new SequencePost({}));
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    LB_TRY_ASSIGN(const int32_t cls, pair_id(value, "cls", at));
    LB_TRY_ASSIGN(const int32_t sep, pair_id(value, "sep", at));
    std::vector<std::optional<std::vector<int32_t>>> items;
    items.emplace_back(std::vector<int32_t>{cls});
    items.emplace_back(std::nullopt);
    items.emplace_back(std::vector<int32_t>{sep});
    return std::unique_ptr<PostProcessor>(new TemplatePost(std::move(items)));
  }
  if (type == "Sequence") {
    const Json* list = json_member(value, "processors");
    if (!list || !list->is_array()) return make_error(ErrorCode::Format, at.child("processors").str() + ": expected an array");
    std::vector<std::unique_ptr<PostProcessor>> parts;
    for (size_t i = 0; i < list->size(); ++i) {
      LB_TRY_ASSIGN(auto part, make_post_processor((*list)[i], at.child("processors").index(i)));
      parts.push_back(std::move(part));
    }
    return std::unique_ptr<PostProcessor>(new SequencePost(std::move(parts)));
  }
  return make_error(ErrorCode::Unsupported, at.str() + ": post-processor type '" + type + "' is not supported");
}

}  // namespace lowbit::tok
