#include "core/tokenizer/normalizers.h"

#include <vector>

#include "core/tokenizer/pattern.h"
#include "core/tokenizer/unicode_nfc.h"
#include "core/tokenizer/utf8.h"

namespace lowbit::tok {

namespace {

class NfcNormalizer final : public Normalizer {
 public:
  explicit NfcNormalizer(bool compose) : compose_(compose) {}
  Expected<std::string> normalize(std::string text) const override { return compose_ ? nfc(text) : nfd(text); }

 private:
  bool compose_;
};

class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  Expected<std::string> normalize(std::string text) const override {
    if (text.empty()) return text;
    return prefix_ + text;
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(Pattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  Expected<std::string> normalize(std::string text) const override { return pattern_.replace(text, content_); }

 private:
  Pattern pattern_;
  std::string content_;
};

class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  Expected<std::string> normalize(std::string text) const override {
    size_t begin = 0, end = text.size();
    if (left_) {
      while (begin < end) {
        size_t i = begin;
        if (!is_unicode_whitespace(next_code_point(text, i))) break;
        begin = i;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t k = end - 1;
        while (k > begin && (static_cast<unsigned char>(text[k]) & 0xC0) == 0x80) --k;
        size_t i = k;
        if (!is_unicode_whitespace(next_code_point(text, i))) break;
        end = k;
      }
    }
    return text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

class ByteLevelNormalizer final : public Normalizer {
 public:
  Expected<std::string> normalize(std::string text) const override { return byte_level_encode(text); }
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  Expected<std::string> normalize(std::string text) const override {
    for (const auto& p : parts_) {
      LB_TRY_ASSIGN(text, p->normalize(std::move(text)));
    }
    return text;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

Expected<std::unique_ptr<Normalizer>> make_normalizer(const Json& value, const JsonPath& at) {
  if (!value.is_object()) return json_type_error(at, "an object", value);
  LB_TRY_ASSIGN(const std::string type, json_string(value, "type", at));
  if (type == "NFC" || type == "NFD") return std::unique_ptr<Normalizer>(new NfcNormalizer(type == "NFC"));
  if (type == "Prepend") {
    LB_TRY_ASSIGN(std::string prefix, json_string(value, "prepend", at));
    return std::unique_ptr<Normalizer>(new PrependNormalizer(std::move(prefix)));
  }
  if (type == "Replace") {
    const Json* p = json_member(value, "pattern");
    if (!p) return make_error(ErrorCode::Format, at.child("pattern").str() + ": missing");
    LB_TRY_ASSIGN(Pattern pattern, Pattern::from_json(*p, at.child("pattern")));
    LB_TRY_ASSIGN(std::string content, json_string(value, "content", at));
    return std::unique_ptr<Normalizer>(new ReplaceNormalizer(std::move(pattern), std::move(content)));
  }
  if (type == "Strip") {
    LB_TRY_ASSIGN(const bool left, json_bool(value, "strip_left", true, at));
    LB_TRY_ASSIGN(const bool right, json_bool(value, "strip_right", true, at));
    return std::unique_ptr<Normalizer>(new StripNormalizer(left, right));
  }
  if (type == "ByteLevel") return std::unique_ptr<Normalizer>(new ByteLevelNormalizer());
  if (type == "Sequence") {
    const Json* list = json_member(value, "normalizers");
    if (!list || !list->is_array())
      return make_error(ErrorCode::Format, at.child("normalizers").str() + ": expected an array");
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (size_t i = 0; i < list->size(); ++i) {
      LB_TRY_ASSIGN(auto part, make_normalizer((*list)[i], at.child("normalizers").index(i)));
      parts.push_back(std::move(part));
    }
    return std::unique_ptr<Normalizer>(new SequenceNormalizer(std::move(parts)));
  }
  return make_error(ErrorCode::Unsupported, at.str() + ": normalizer type '" + type + "' is not supported");
}

}  // namespace lowbit::tok
