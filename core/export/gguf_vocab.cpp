#include "core/export/gguf_vocab.h"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace lowbit {
namespace {

enum TokenType : int64_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

// The regexes llama.cpp's BPE tokenizer applies for these `pre` names, spelled as tokenizer.json
// spells them (case-insensitive contractions).
constexpr const char* kContractions = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
constexpr const char* kLlama3Tail = "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kQwen2Tail = "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

using Json = nlohmann::json;

Expected<std::string> pre_name(const Json& pre, const std::string& source) {
  auto unsupported = [&](const std::string& what) {
    return make_error(ErrorCode::Unsupported, source + ": the pre-tokenizer " + what +
                                                  " has no llama.cpp name (gpt-2, llama-bpe and qwen2 are exported)");
  };
  if (pre.is_object() && pre.value("type", "") == "ByteLevel" && pre.value("use_regex", true)) return std::string("gpt-2");
  if (pre.is_object() && pre.value("type", "") == "Sequence" && pre.contains("pretokenizers") && pre["pretokenizers"].is_array() &&
      pre["pretokenizers"].size() == 2) {
    const Json& split = pre["pretokenizers"][0];
    const Json& bl = pre["pretokenizers"][1];
    if (split.value("type", "") == "Split" && bl.value("type", "") == "ByteLevel" && !bl.value("use_regex", true) &&
        split.contains("pattern") && split["pattern"].is_object() && split["pattern"].contains("Regex") &&
        split["pattern"]["Regex"].is_string()) {
      const std::string re = split["pattern"]["Regex"].get<std::string>();
      if (re == std::string(kContractions) + kLlama3Tail) return std::string("llama-bpe");
      if (re == std::string(kContractions) + kQwen2Tail) return std::string("qwen2");
      return unsupported("Split regex '" + re + "'");
    }
  }
  return unsupported(pre.dump().substr(0, 120));
}

bool is_byte_token(const std::string& t) {
  return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && std::isxdigit(static_cast<unsigned char>(t[3])) &&
         std::isxdigit(static_cast<unsigned char>(t[4]));
}

std::string merge_text(const Json& m) {
  if (m.is_string()) return m.get<std::string>();
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) return m[0].get<std::string>() + " " + m[1].get<std::string>();
  return {};
}

}  // namespace

Expected<std::vector<std::string>> add_gguf_vocab_from_json(GgufMetadata& md, const std::filesystem::path& path,
                                                            const Tokenizer& tokenizer, int64_t model_vocab) {
  const std::string where = path.string();
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const Json root = Json::parse(ss.str(), nullptr, false);
  if (root.is_discarded() || !root.is_object() || !root.contains("model") || !root["model"].is_object())
    return make_error(ErrorCode::Format, where + ": not a tokenizer.json with a model");
  const Json& model = root["model"];
  if (model.value("type", "BPE") != "BPE" || !model.contains("vocab") || !model["vocab"].is_object())
    return make_error(ErrorCode::Unsupported, where + ": only BPE tokenizers are exported to GGUF");
  const Tokenizer* tok = &tokenizer;

  // Tokens in id order; ids past the tokenizer up to the model's vocabulary are padding.
  std::map<int64_t, std::pair<std::string, int64_t>> by_id;  // id → (text, type)
  for (const auto& [text, id] : model["vocab"].items())
    if (id.is_number_integer()) by_id[id.get<int64_t>()] = {text, kNormal};
  if (root.contains("added_tokens") && root["added_tokens"].is_array())
    for (const Json& a : root["added_tokens"])
      if (a.is_object() && a.contains("id") && a["id"].is_number_integer() && a.contains("content") && a["content"].is_string())
        by_id[a["id"].get<int64_t>()] = {a["content"].get<std::string>(), a.value("special", false) ? kControl : kUserDefined};
  const int64_t n = std::max<int64_t>(model_vocab, by_id.empty() ? 0 : by_id.rbegin()->first + 1);
  std::vector<std::string> tokens(static_cast<size_t>(n));
  std::vector<int64_t> types(static_cast<size_t>(n), kUnused);
  for (int64_t i = 0; i < n; ++i) {
    auto it = by_id.find(i);
    if (it == by_id.end()) {
      tokens[static_cast<size_t>(i)] = "[PAD" + std::to_string(i) + "]";
    } else {
      tokens[static_cast<size_t>(i)] = it->second.first;
      types[static_cast<size_t>(i)] = it->second.second;
    }
  }
  std::vector<std::string> merges;
  if (model.contains("merges") && model["merges"].is_array())
    for (const Json& m : model["merges"]) merges.push_back(merge_text(m));

  const Json pre = root.contains("pre_tokenizer") ? root["pre_tokenizer"] : Json();
  const bool byte_level = (pre.is_object() && pre.dump().find("\"ByteLevel\"") != std::string::npos);
  std::vector<std::string> warnings;
  if (byte_level) {
    LB_TRY_ASSIGN(const std::string pre_id, pre_name(pre, where));
    if (root.contains("normalizer") && !root["normalizer"].is_null() && root["normalizer"].value("type", "") != "NFC")
      warnings.push_back(where + ": the normalizer is not exported (llama.cpp applies none)");
    md.set_string("tokenizer.ggml.model", "gpt2");
    md.set_string("tokenizer.ggml.pre", pre_id);
    md.set_strings("tokenizer.ggml.tokens", std::move(tokens));
    md.set_i32s("tokenizer.ggml.token_type", std::move(types));
    md.set_strings("tokenizer.ggml.merges", std::move(merges));
  } else {
    // SentencePiece-style: scores replay the merge order.
    std::map<std::string, int64_t> id_of;
    for (int64_t i = 0; i < n; ++i) id_of.emplace(tokens[static_cast<size_t>(i)], i);
    std::vector<double> scores(static_cast<size_t>(n), -1e9);
    for (size_t r = 0; r < merges.size(); ++r) {
      const auto sp = merges[r].find(' ');
      if (sp == std::string::npos) continue;
      auto it = id_of.find(merges[r].substr(0, sp) + merges[r].substr(sp + 1));
      if (it != id_of.end() && scores[static_cast<size_t>(it->second)] == -1e9) scores[static_cast<size_t>(it->second)] = -static_cast<double>(r);
    }
    for (int64_t i = 0; i < n; ++i) {
      auto& t = types[static_cast<size_t>(i)];
      if (t == kNormal && is_byte_token(tokens[static_cast<size_t>(i)])) t = kByte;
      if (t != kNormal) scores[static_cast<size_t>(i)] = 0;
    }
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      auto it = id_of.find(model["unk_token"].get<std::string>());
      if (it != id_of.end()) types[static_cast<size_t>(it->second)] = kUnknown;
    }
    md.set_string("tokenizer.ggml.model", "llama");
    md.set_string("tokenizer.ggml.pre", "default");
    md.set_strings("tokenizer.ggml.tokens", std::move(tokens));
    md.set_f32s("tokenizer.ggml.scores", std::move(scores));
    md.set_i32s("tokenizer.ggml.token_type", std::move(types));
    md.set_bool("tokenizer.ggml.add_space_prefix", root.contains("normalizer") && root["normalizer"].dump().find("Prepend") != std::string::npos);
  }
  if (auto b = tok->bos_id()) md.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(*b));
  if (auto e = tok->eos_id()) md.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(*e));
  // The unknown token: the BPE model's, else tokenizer_config.json's (as the converter's SpecialVocab reads it).
  std::string unk = model.contains("unk_token") && model["unk_token"].is_string() ? model["unk_token"].get<std::string>() : "";
  if (unk.empty()) {
    std::ifstream cfg(path.parent_path() / "tokenizer_config.json", std::ios::binary);
    std::stringstream cs;
    cs << cfg.rdbuf();
    const Json c = Json::parse(cs.str(), nullptr, false);
    if (!c.is_discarded() && c.is_object() && c.contains("unk_token")) {
      const Json& u = c["unk_token"];
      if (u.is_string()) unk = u.get<std::string>();
      else if (u.is_object() && u.contains("content") && u["content"].is_string()) unk = u["content"].get<std::string>();
    }
  }
  if (!unk.empty())
    for (const auto& [id, entry] : by_id)
      if (entry.first == unk) {
        md.set_u32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(id));
        break;
      }
  md.set_bool("tokenizer.ggml.add_bos_token", tok->adds_bos());
  return warnings;
}

Expected<std::vector<std::string>> add_gguf_vocab(GgufMetadata& md, const Model& source) {
  if (const GgufFile* g = source.checkpoint->gguf()) {
    for (const auto& [key, v] : g->metadata())
      if (key.rfind("tokenizer.", 0) == 0) md.set(key, v);
    return std::vector<std::string>{};
  }
  if (source.checkpoint->tokenizer_json().empty()) {
    md.set_string("tokenizer.ggml.model", "none");
    return std::vector<std::string>{source.checkpoint->path().string() +
                                    ": no tokenizer.json; the GGUF has no vocabulary, so llama.cpp cannot tokenize text with it"};
  }
  if (!source.tokenizer)
    return make_error(ErrorCode::InvalidArgument, source.checkpoint->path().string() + ": the model was opened without its tokenizer");
  LB_TRY_ASSIGN(auto warnings, add_gguf_vocab_from_json(md, source.checkpoint->tokenizer_json(), *source.tokenizer, source.config.vocab));
  if (!md.find("tokenizer.ggml.bos_token_id") && source.config.bos_id)
    md.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(*source.config.bos_id));
  if (!md.find("tokenizer.ggml.eos_token_id") && source.config.eos_id)
    md.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(*source.config.eos_id));
  return warnings;
}

}  // namespace lowbit
