#include "core/io/gptq_format.h"

#include <cstring>
#include <map>
#include <set>

#include "core/tokenizer/regex.h"

namespace lowbit {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shape_of(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

Expected<int64_t> json_int(const nlohmann::ordered_json& j, const char* key, int64_t fallback,
                           const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number_integer())
    return make_error(ErrorCode::Format, where + ": quantization_config." + key + " is not an integer");
  return it->get<int64_t>();
}

Expected<bool> json_bool(const nlohmann::ordered_json& j, const char* key, bool fallback, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean())
    return make_error(ErrorCode::Format, where + ": quantization_config." + key + " is not true or false");
  return it->get<bool>();
}

// Python's re.match: the pattern anchored at the start of the name, not at its end.
Expected<bool> matches_at_start(const tok::Regex& re, const std::string& name) {
  bool found = false;
  LB_TRY_VOID(re.for_each_match(name, [&](size_t, size_t) { found = true; }));
  return found;
}

}  // namespace

bool is_gptq_config(const nlohmann::json& config) {
  if (!config.is_object()) return false;
  auto qc = config.find("quantization_config");
  if (qc == config.end() || !qc->is_object()) return false;
  auto m = qc->find("quant_method");
  return m != qc->end() && m->is_string() && m->get<std::string>() == "gptq";
}

Expected<GptqQuantConfig> parse_gptq_config(const nlohmann::ordered_json& qc, const std::string& where) {
  if (!qc.is_object()) return make_error(ErrorCode::Format, where + ": quantization_config is not an object");
  GptqQuantConfig c;
  LB_TRY_ASSIGN(const int64_t bits, json_int(qc, "bits", -1, where));
  if (!gptq_bits_supported(static_cast<int>(bits)))
    return make_error(ErrorCode::Unsupported, where + ": quantization_config.bits is " + std::to_string(bits) +
                                                  "; GPTQ checkpoints hold 2, 3, 4 or 8 bits");
  c.bits = static_cast<int>(bits);
  LB_TRY_ASSIGN(c.group_size, json_int(qc, "group_size", 128, where));
  if (c.group_size == 0 || c.group_size < -1)
    return make_error(ErrorCode::Format, where + ": quantization_config.group_size is " + std::to_string(c.group_size) +
                                             " (expected -1 or a positive group length)");
  LB_TRY_ASSIGN(c.sym, json_bool(qc, "sym", true, where));
  LB_TRY_ASSIGN(c.desc_act, json_bool(qc, "desc_act", false, where));
  std::string format = "gptq";
  for (const char* key : {"checkpoint_format", "format"}) {
    auto it = qc.find(key);
    if (it != qc.end() && it->is_string()) {
      format = it->get<std::string>();
      break;
    }
  }
  if (format == "gptq")
    c.zeros_minus_one = true;
  else if (format == "gptq_v2")
    c.zeros_minus_one = false;
  else
    return make_error(ErrorCode::Unsupported,
                      where + ": GPTQ checkpoint_format '" + format + "' is not supported (only 'gptq' and 'gptq_v2')");
  auto dyn = qc.find("dynamic");
  if (dyn != qc.end() && !dyn->is_null()) {
    if (!dyn->is_object())
      return make_error(ErrorCode::Format, where + ": quantization_config.dynamic is not an object");
    for (auto it = dyn->begin(); it != dyn->end(); ++it) {
      const std::string at = where + ": quantization_config.dynamic['" + it.key() + "']";
      if (!it.value().is_object()) return make_error(ErrorCode::Format, at + " is not an object");
      GptqDynamicRule r;
      r.key = it.key();
      r.skip = r.key.rfind("-:", 0) == 0;
      const std::string pattern = r.skip || r.key.rfind("+:", 0) == 0 ? r.key.substr(2) : r.key;
      LB_TRY_ASSIGN(r.pattern, tok::Regex::compile("\\A(?:" + pattern + ")", at));
      r.overrides = it.value();
      c.dynamic.push_back(std::move(r));
    }
  }
  return c;
}

Expected<GptqModuleConfig> gptq_module_config(const GptqQuantConfig& c, const std::string& module,
                                              const std::string& where) {
  GptqModuleConfig m;
  m.bits = c.bits;
  m.group_size = c.group_size;
  m.sym = c.sym;
  for (const GptqDynamicRule& r : c.dynamic) {
    LB_TRY_ASSIGN(const bool hit, matches_at_start(*r.pattern, module));
    if (!hit) continue;
    if (r.skip) {
      m.quantized = false;
      return m;
    }
    const std::string at = where + " (dynamic['" + r.key + "'])";
    LB_TRY_ASSIGN(const int64_t bits, json_int(r.overrides, "bits", m.bits, at));
    if (!gptq_bits_supported(static_cast<int>(bits)))
      return make_error(ErrorCode::Unsupported, at + ": bits " + std::to_string(bits) + " is not 2, 3, 4 or 8");
    m.bits = static_cast<int>(bits);
    LB_TRY_ASSIGN(m.group_size, json_int(r.overrides, "group_size", m.group_size, at));
    LB_TRY_ASSIGN(m.sym, json_bool(r.overrides, "sym", m.sym, at));
    return m;
  }
  return m;
}

std::string gptq_dynamic_key(const std::string& module, bool quantized) {
  std::string key = quantized ? "+:^" : "-:^";
  for (char ch : module) {
    if (std::strchr(".^$*+?()[]{}|\\", ch)) key += '\\';
    key += ch;
  }
  return key + "$";
}

void gptq_pack(const uint8_t* codes, int64_t n, int bits, uint32_t* words, int64_t stride) {
  const int64_t nw = n * bits / 32;
  for (int64_t w = 0; w < nw; ++w) words[w * stride] = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t bit = i * bits, w = bit >> 5;
    const int off = static_cast<int>(bit & 31);
    const uint32_t v = codes[i];
    words[w * stride] |= v << off;
    if (off + bits > 32) words[(w + 1) * stride] |= v >> (32 - off);
  }
}

void gptq_unpack(const uint32_t* words, int64_t stride, int64_t n, int bits, uint8_t* codes) {
  const uint32_t mask = (1u << bits) - 1;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t bit = i * bits, w = bit >> 5;
    const int off = static_cast<int>(bit & 31);
    uint32_t v = words[w * stride] >> off;
    if (off + bits > 32) v |= words[(w + 1) * stride] << (32 - off);
    codes[i] = static_cast<uint8_t>(v & mask);
  }
}

uint32_t gptq_zero_offset(int bits, int64_t word) {
  uint32_t r = 0;
  const int64_t lo = word * 32, hi = lo + 32;
  for (int64_t start = (lo + bits - 1) / bits * bits; start < hi; start += bits) r |= 1u << (start - lo);
  return r;
}

namespace {

// Words per packing unit: 3 bits fill 3 words with 32 fields; the other widths one.
int64_t unit_words(int bits) {
  return bits == 3 ? 3 : 1;
}

}  // namespace

void gptq_zeros_to_v1(uint32_t* words, int64_t n, int bits) {
  const int64_t u = unit_words(bits);
  for (int64_t w0 = 0; w0 + u <= n; w0 += u) {
    uint64_t borrow = 0;
    for (int64_t k = 0; k < u; ++k) {
      const uint64_t sub = static_cast<uint64_t>(gptq_zero_offset(bits, k)) + borrow;
      borrow = words[w0 + k] < sub ? 1 : 0;
      words[w0 + k] = static_cast<uint32_t>(static_cast<uint64_t>(words[w0 + k]) - sub);
    }
  }
}

void gptq_zeros_from_v1(uint32_t* words, int64_t n, int bits) {
  const int64_t u = unit_words(bits);
  for (int64_t w0 = 0; w0 + u <= n; w0 += u) {
    uint64_t carry = 0;
    for (int64_t k = 0; k < u; ++k) {
      const uint64_t sum = static_cast<uint64_t>(words[w0 + k]) + gptq_zero_offset(bits, k) + carry;
      words[w0 + k] = static_cast<uint32_t>(sum);
      carry = sum >> 32;
    }
  }
}

namespace {

struct Packed {
  std::string module;
  TensorInfo qweight, qzeros, scales, g_idx;
  bool has_g_idx = false;
  int bits = 4;
  int64_t in = 0, out = 0, groups = 0, group_size = 0;
};

std::vector<uint32_t> load_words(const TensorInfo& t) {
  std::vector<uint32_t> w(static_cast<size_t>(t.numel()));
  if (!w.empty()) std::memcpy(w.data(), t.data, w.size() * sizeof(uint32_t));
  return w;
}

Expected<void> decode_packed(const Packed& p, bool zeros_minus_one, bool conv1d, float* dst) {
  const int64_t in = p.in, out = p.out, G = p.groups, zwords = p.qzeros.shape[1];
  // The group of every input column, checked against the scales.
  std::vector<int64_t> gi(static_cast<size_t>(in));
  if (p.has_g_idx) {
    for (int64_t i = 0; i < in; ++i) {
      if (p.g_idx.dtype == DType::I64) {
        std::memcpy(&gi[static_cast<size_t>(i)], p.g_idx.data + i * 8, 8);
      } else {
        int32_t v;
        std::memcpy(&v, p.g_idx.data + i * 4, 4);
        gi[static_cast<size_t>(i)] = v;
      }
      if (gi[static_cast<size_t>(i)] < 0 || gi[static_cast<size_t>(i)] >= G)
        return make_error(ErrorCode::Format, p.g_idx.file + ": tensor '" + p.g_idx.name + "' gives input column " +
                                                 std::to_string(i) + " group " +
                                                 std::to_string(gi[static_cast<size_t>(i)]) + ", outside the " +
                                                 std::to_string(G) + " groups of '" + p.scales.name + "'");
    }
  } else {
    for (int64_t i = 0; i < in; ++i) gi[static_cast<size_t>(i)] = p.group_size < 0 ? 0 : i / p.group_size;
  }
  LB_TRY_ASSIGN(const std::vector<float> scales, decode_to_f32(p.scales));
  std::vector<uint32_t> qz = load_words(p.qzeros);
  std::vector<uint8_t> zeros(static_cast<size_t>(G * out));
  for (int64_t g = 0; g < G; ++g) {
    uint32_t* row = qz.data() + g * zwords;
    if (zeros_minus_one) gptq_zeros_from_v1(row, zwords, p.bits);
    gptq_unpack(row, 1, out, p.bits, zeros.data() + g * out);
  }
  const std::vector<uint32_t> qw = load_words(p.qweight);
#pragma omp parallel
  {
    std::vector<uint8_t> codes(static_cast<size_t>(in));
#pragma omp for schedule(static)
    for (int64_t o = 0; o < out; ++o) {
      gptq_unpack(qw.data() + o, out, in, p.bits, codes.data());
      for (int64_t i = 0; i < in; ++i) {
        const size_t k = static_cast<size_t>(gi[static_cast<size_t>(i)] * out + o);
        // The same float operations as dequantize_code (int_quant.h), so values match bit for bit.
        const float v = scales[k] * (static_cast<float>(codes[static_cast<size_t>(i)]) - static_cast<float>(zeros[k]));
        dst[conv1d ? i * out + o : o * in + i] = v;
      }
    }
  }
  return {};
}

}  // namespace

Expected<std::vector<TensorInfo>> gptq_resolve_tensors(const std::vector<TensorInfo>& stored, const GptqQuantConfig& c,
                                                       bool conv1d, std::shared_ptr<const void> keep_alive,
                                                       const std::string& where) {
  std::map<std::string, const TensorInfo*> by_name;
  for (const auto& t : stored) by_name[t.name] = &t;
  std::set<std::string> packed_names;
  std::map<std::string, TensorInfo> virtual_by_qweight;
  for (const auto& t : stored) {
    if (!ends_with(t.name, ".qweight")) continue;
    Packed p;
    p.module = t.name.substr(0, t.name.size() - 8);
    const std::string& m = p.module;
    auto need = [&](const std::string& suffix) -> Expected<const TensorInfo*> {
      auto it = by_name.find(m + suffix);
      if (it == by_name.end())
        return make_error(ErrorCode::Format,
                          t.file + ": GPTQ module '" + m + "' has a qweight but no '" + m + suffix + "'");
      return it->second;
    };
    LB_TRY_ASSIGN(const TensorInfo* qz, need(".qzeros"));
    LB_TRY_ASSIGN(const TensorInfo* sc, need(".scales"));
    p.qweight = t;
    p.qzeros = *qz;
    p.scales = *sc;
    if (auto it = by_name.find(m + ".g_idx"); it != by_name.end()) {
      p.g_idx = *it->second;
      p.has_g_idx = true;
    }
    if (by_name.count(m + ".weight"))
      return make_error(ErrorCode::Format, t.file + ": GPTQ module '" + m + "' has both a qweight and a plain weight");
    LB_TRY_ASSIGN(const GptqModuleConfig mc, gptq_module_config(c, m, where));
    if (!mc.quantized)
      return make_error(
          ErrorCode::Format,
          t.file + ": module '" + m + "' has packed GPTQ tensors, but quantization_config.dynamic excludes it");
    p.bits = mc.bits;
    auto bad = [&](const TensorInfo& x, const std::string& expected) {
      return make_error(ErrorCode::Format, x.file + ": tensor '" + x.name + "' is " + dtype_name(x.dtype) + " " +
                                               shape_of(x.shape) + ", expected " + expected + " (GPTQ, " +
                                               std::to_string(p.bits) + " bits)");
    };
    if (t.dtype != DType::I32 || t.shape.size() != 2 || t.shape[0] <= 0 || t.shape[1] <= 0)
      return bad(t, "a non-empty I32 matrix [in·bits/32, out]");
    p.out = t.shape[1];
    if (p.has_g_idx) {
      if ((p.g_idx.dtype != DType::I32 && p.g_idx.dtype != DType::I64) || p.g_idx.shape.size() != 1)
        return bad(p.g_idx, "an I32 vector [in]");
      p.in = p.g_idx.shape[0];
    } else {
      if (t.shape[0] * 32 % p.bits != 0) return bad(t, "[in·bits/32, out] for a whole number of inputs");
      p.in = t.shape[0] * 32 / p.bits;
    }
    if (p.in * p.bits != t.shape[0] * 32)
      return bad(t, "I32 [" + std::to_string(p.in) + "·" + std::to_string(p.bits) + "/32 = " +
                        (p.in * p.bits % 32 ? std::string("not whole") : std::to_string(p.in * p.bits / 32)) + ", " +
                        std::to_string(p.out) + "] for the " + std::to_string(p.in) + " inputs of '" + m + ".g_idx'");
    if (p.out * p.bits % 32 != 0) return bad(t, "an output count whose codes fill whole I32 words of qzeros");
    if (p.qzeros.dtype != DType::I32 || p.qzeros.shape.size() != 2 || p.qzeros.shape[1] * 32 != p.out * p.bits ||
        p.qzeros.shape[0] <= 0)
      return bad(p.qzeros, "I32 [groups, " + std::to_string(p.out * p.bits / 32) + "]");
    p.groups = p.qzeros.shape[0];
    if ((p.scales.dtype != DType::F16 && p.scales.dtype != DType::BF16 && p.scales.dtype != DType::F32) ||
        p.scales.shape != std::vector<int64_t>{p.groups, p.out})
      return bad(p.scales, "F16 [" + std::to_string(p.groups) + ", " + std::to_string(p.out) + "]");
    if (!p.has_g_idx) {
      p.group_size = mc.group_size;
      const int64_t expect = mc.group_size < 0 ? 1 : (p.in % mc.group_size ? -1 : p.in / mc.group_size);
      if (expect != p.groups)
        return bad(p.qzeros, "one row per group of " + std::to_string(mc.group_size) + " of the " +
                                 std::to_string(p.in) + " inputs (the checkpoint has no g_idx)");
    }
    TensorInfo v;
    v.name = m + ".weight";
    v.dtype = DType::F32;
    v.shape = conv1d ? std::vector<int64_t>{p.in, p.out} : std::vector<int64_t>{p.out, p.in};
    v.nbytes = p.qweight.nbytes + p.qzeros.nbytes + p.scales.nbytes + (p.has_g_idx ? p.g_idx.nbytes : 0);
    v.file = t.file;
    v.file_offset = t.file_offset;
    const bool minus_one = c.zeros_minus_one;
    v.decode = [p, minus_one, conv1d, keep_alive](float* out) { return decode_packed(p, minus_one, conv1d, out); };
    for (const char* s : {".qweight", ".qzeros", ".scales", ".g_idx"}) packed_names.insert(m + s);
    virtual_by_qweight.emplace(t.name, std::move(v));
  }
  // Every other tensor keeps its place; each module's weight takes its qweight's.
  std::vector<TensorInfo> result;
  for (const auto& t : stored) {
    if (auto it = virtual_by_qweight.find(t.name); it != virtual_by_qweight.end())
      result.push_back(std::move(it->second));
    else if (!packed_names.count(t.name))
      result.push_back(t);
  }
  return result;
}

}  // namespace lowbit
