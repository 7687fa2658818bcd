#include "core/io/onebit_format.h"

#include <cstring>
#include <map>
#include <set>

#include "core/tensor/half.h"

namespace lowbit {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct Packed {
  TensorInfo signs, g, h;
  int64_t rows = 0, cols = 0;
};

Expected<void> decode_packed(const Packed& p, bool conv1d, float* out) {
  std::vector<float> g(static_cast<size_t>(p.cols)), h(static_cast<size_t>(p.rows));
  f16_to_f32(reinterpret_cast<const uint16_t*>(p.g.data), g.data(), g.size());
  f16_to_f32(reinterpret_cast<const uint16_t*>(p.h.data), h.data(), h.size());
  onebit_dequantize(p.signs.data, g.data(), h.data(), p.rows, p.cols, out, conv1d);
  return {};
}

}  // namespace

bool is_onebit_config(const nlohmann::json& config) {
  if (!config.is_object()) return false;
  auto qc = config.find("quantization_config");
  if (qc == config.end() || !qc->is_object()) return false;
  auto m = qc->find("quant_method");
  return m != qc->end() && m->is_string() && m->get<std::string>() == kOneBitQuantMethod;
}

Expected<void> check_onebit_config(const nlohmann::json& config, const std::string& where) {
  auto qc = config.find("quantization_config");
  if (qc == config.end() || !qc->is_object())
    return make_error(ErrorCode::Format, where + ": quantization_config is not an object");
  auto v = qc->find("version");
  if (v == qc->end() || !v->is_number_integer() || v->get<int64_t>() != kOneBitVersion)
    return make_error(ErrorCode::Unsupported, where + ": quantization_config.version of a " + kOneBitQuantMethod +
                                                  " checkpoint must be " + std::to_string(kOneBitVersion));
  return {};
}

void onebit_pack_signs(const float* values, int64_t rows, int64_t cols, uint8_t* packed) {
  const int64_t rb = onebit_row_bytes(cols);
  for (int64_t i = 0; i < rows; ++i) {
    uint8_t* row = packed + i * rb;
    std::memset(row, 0, static_cast<size_t>(rb));
    const float* v = values + i * cols;
    for (int64_t j = 0; j < cols; ++j)
      if (v[j] >= 0.0f) row[j / 8] = static_cast<uint8_t>(row[j / 8] | (1u << (j % 8)));
  }
}

void onebit_dequantize(const uint8_t* packed, const float* g, const float* h, int64_t rows, int64_t cols, float* out,
                       bool transposed) {
  const int64_t rb = onebit_row_bytes(cols);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < rows; ++i) {
    const uint8_t* row = packed + i * rb;
    for (int64_t j = 0; j < cols; ++j) {
      const float m = h[i] * g[j];
      const float w = (row[j / 8] >> (j % 8)) & 1 ? m : -m;
      out[transposed ? j * rows + i : i * cols + j] = w;
    }
  }
}

Expected<std::vector<TensorInfo>> onebit_resolve_tensors(const std::vector<TensorInfo>& stored, bool conv1d,
                                                         std::shared_ptr<const void> keep_alive, const std::string& where) {
  std::map<std::string, const TensorInfo*> by_name;
  for (const auto& t : stored) by_name[t.name] = &t;
  std::set<std::string> packed_names;
  std::map<std::string, TensorInfo> virtual_by_signs;
  const std::string signs_suffix = kOneBitSignsSuffix;
  for (const auto& t : stored) {
    if (!ends_with(t.name, signs_suffix)) continue;
    const std::string name = t.name.substr(0, t.name.size() - signs_suffix.size());
    auto need = [&](const char* suffix) -> Expected<const TensorInfo*> {
      auto it = by_name.find(name + suffix);
      if (it == by_name.end())
        return make_error(ErrorCode::Format, t.file + ": onebit tensor '" + name + "' has signs but no '" + name + suffix + "'");
      return it->second;
    };
    Packed p;
    p.signs = t;
    LB_TRY_ASSIGN(const TensorInfo* g, need(kOneBitGSuffix));
    LB_TRY_ASSIGN(const TensorInfo* h, need(kOneBitHSuffix));
    p.g = *g;
    p.h = *h;
    if (by_name.count(name))
      return make_error(ErrorCode::Format, t.file + ": '" + name + "' is stored both as a plain tensor and as onebit signs");
    auto bad = [&](const TensorInfo& x, const std::string& expected) {
      return make_error(ErrorCode::Format, x.file + ": tensor '" + x.name + "' is " + dtype_name(x.dtype) + " " +
                                               x.shape_string() + ", expected " + expected + " (onebit)");
    };
    if (p.g.dtype != DType::F16 || p.g.shape.size() != 1 || p.g.shape[0] <= 0) return bad(p.g, "a non-empty F16 vector [cols]");
    if (p.h.dtype != DType::F16 || p.h.shape.size() != 1 || p.h.shape[0] <= 0) return bad(p.h, "a non-empty F16 vector [rows]");
    p.rows = p.h.shape[0];
    p.cols = p.g.shape[0];
    const std::vector<int64_t> want{p.rows, onebit_row_bytes(p.cols)};
    if (t.dtype != DType::U8 || t.shape != want)
      return bad(t, "U8 [" + std::to_string(want[0]) + ", " + std::to_string(want[1]) + "] for the " + std::to_string(p.rows) +
                        " rows of '" + p.h.name + "' and the " + std::to_string(p.cols) + " columns of '" + p.g.name + "'");
    TensorInfo v;
    v.name = name;
    v.dtype = DType::F32;
    v.shape = conv1d ? std::vector<int64_t>{p.cols, p.rows} : std::vector<int64_t>{p.rows, p.cols};
    v.nbytes = p.signs.nbytes + p.g.nbytes + p.h.nbytes;
    v.file = t.file;
    v.file_offset = t.file_offset;
    v.decode = [p, conv1d, keep_alive](float* out) { return decode_packed(p, conv1d, out); };
    for (const char* s : {kOneBitSignsSuffix, kOneBitGSuffix, kOneBitHSuffix}) packed_names.insert(name + s);
    virtual_by_signs.emplace(t.name, std::move(v));
  }
  for (const auto& t : stored)
    if ((ends_with(t.name, kOneBitGSuffix) || ends_with(t.name, kOneBitHSuffix)) && !packed_names.count(t.name))
      return make_error(ErrorCode::Format, t.file + ": onebit tensor '" + t.name + "' has no matching '" +
                                               t.name.substr(0, t.name.rfind('.')) + kOneBitSignsSuffix + "'");
  if (virtual_by_signs.empty()) return make_error(ErrorCode::Format, where + ": a " + std::string(kOneBitQuantMethod) +
                                                                          " checkpoint without any '*" + kOneBitSignsSuffix + "' tensor");
  std::vector<TensorInfo> result;
  for (const auto& t : stored) {
    if (auto it = virtual_by_signs.find(t.name); it != virtual_by_signs.end())
      result.push_back(std::move(it->second));
    else if (!packed_names.count(t.name))
      result.push_back(t);
  }
  return result;
}

}  // namespace lowbit
