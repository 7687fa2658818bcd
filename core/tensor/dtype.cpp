#include "core/tensor/dtype.h"

#include <array>

#include "core/util/check.h"

namespace lowbit {
namespace {

constexpr std::array<DTypeTraits, 20> kTraits{{
    {DType::F32, "f32", 1, 4, 0},
    {DType::F16, "f16", 1, 2, 1},
    {DType::BF16, "bf16", 1, 2, 30},
    {DType::F64, "f64", 1, 8, 28},
    {DType::I8, "i8", 1, 1, 24},
    {DType::I16, "i16", 1, 2, 25},
    {DType::I32, "i32", 1, 4, 26},
    {DType::I64, "i64", 1, 8, 27},
    {DType::U8, "u8", 1, 1, -1},
    {DType::BOOL, "bool", 1, 1, -1},
    {DType::Q4_0, "q4_0", 32, 18, 2},
    {DType::Q4_1, "q4_1", 32, 20, 3},
    {DType::Q5_0, "q5_0", 32, 22, 6},
    {DType::Q5_1, "q5_1", 32, 24, 7},
    {DType::Q8_0, "q8_0", 32, 34, 8},
    {DType::Q2_K, "q2_k", 256, 84, 10},
    {DType::Q3_K, "q3_k", 256, 110, 11},
    {DType::Q4_K, "q4_k", 256, 144, 12},
    {DType::Q5_K, "q5_k", 256, 176, 13},
    {DType::Q6_K, "q6_k", 256, 210, 14},
}};

}  // namespace

const DTypeTraits& traits(DType t) {
  const auto i = static_cast<size_t>(t);
  LB_CHECK(i < kTraits.size() && kTraits[i].dtype == t, "dtype table out of order");
  return kTraits[i];
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& tr : kTraits)
    if (name == tr.name) return tr.dtype;
  return std::nullopt;
}

std::optional<DType> dtype_from_safetensors(std::string_view name) {
  if (name == "F32") return DType::F32;
  if (name == "F16") return DType::F16;
  if (name == "BF16") return DType::BF16;
  if (name == "F64") return DType::F64;
  if (name == "I8") return DType::I8;
  if (name == "I16") return DType::I16;
  if (name == "I32") return DType::I32;
  if (name == "I64") return DType::I64;
  if (name == "U8") return DType::U8;
  if (name == "BOOL") return DType::BOOL;
  return std::nullopt;
}

std::optional<DType> dtype_from_ggml(uint32_t ggml_id) {
  for (const auto& tr : kTraits)
    if (tr.ggml_id >= 0 && static_cast<uint32_t>(tr.ggml_id) == ggml_id) return tr.dtype;
  return std::nullopt;
}

}  // namespace lowbit
