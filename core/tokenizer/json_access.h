// Checked access to the fields of a parsed tokenizer.json: every helper verifies the field's type
// before reading it and returns an Error naming the file, the field's path and what was found, so
// that a malformed file never throws out of the tokenizer module (nlohmann::json throws on a
// wrong-typed get<>; these helpers never call it unchecked).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "core/util/expected.h"

namespace lowbit::tok {

using Json = nlohmann::json;

// Where a JSON value sits: the file and a path such as "pre_tokenizer.pretokenizers[1]".
struct JsonPath {
  const std::string* source;
  std::string path;
  JsonPath child(const std::string& key) const { return {source, path.empty() ? key : path + "." + key}; }
  JsonPath index(size_t i) const { return {source, path + "[" + std::to_string(i) + "]"}; }
  std::string str() const { return *source + ": " + (path.empty() ? "(top level)" : path); }
};

inline Unexpected json_type_error(const JsonPath& at, const char* expected, const Json& found) {
  return make_error(ErrorCode::Format, at.str() + ": expected " + expected + ", found " + found.type_name());
}

// The member `key` of an object, or nullptr when absent or null.
inline const Json* json_member(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

inline Expected<std::string> json_string(const Json& obj, const char* key, const JsonPath& at) {
  const Json* v = json_member(obj, key);
  if (!v) return make_error(ErrorCode::Format, at.child(key).str() + ": missing (a string is required)");
  if (!v->is_string()) return json_type_error(at.child(key), "a string", *v);
  return v->get_ref<const std::string&>();
}

inline Expected<std::optional<std::string>> json_opt_string(const Json& obj, const char* key, const JsonPath& at) {
  const Json* v = json_member(obj, key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return json_type_error(at.child(key), "a string", *v);
  return std::optional<std::string>(v->get_ref<const std::string&>());
}

inline Expected<bool> json_bool(const Json& obj, const char* key, bool fallback, const JsonPath& at) {
  const Json* v = json_member(obj, key);
  if (!v) return fallback;
  if (!v->is_boolean()) return json_type_error(at.child(key), "true or false", *v);
  return v->get<bool>();
}

inline Expected<int64_t> json_int(const Json& obj, const char* key, std::optional<int64_t> fallback, const JsonPath& at) {
  const Json* v = json_member(obj, key);
  if (!v) {
    if (fallback) return *fallback;
    return make_error(ErrorCode::Format, at.child(key).str() + ": missing (an integer is required)");
  }
  if (!v->is_number_integer()) return json_type_error(at.child(key), "an integer", *v);
  return v->get<int64_t>();
}

// A single-character string field (Metaspace's replacement, Strip's content).
inline Expected<std::string> json_char(const Json& obj, const char* key, const std::string& fallback,
                                       const JsonPath& at) {
  LB_TRY_ASSIGN(auto s, json_opt_string(obj, key, at));
  if (!s) return fallback;
  if (s->empty()) return make_error(ErrorCode::Format, at.child(key).str() + ": expected one character, found \"\"");
  return *s;
}

}  // namespace lowbit::tok
