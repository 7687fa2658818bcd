// DType: how the elements of a stored tensor are encoded. Covers the plain floating types of
// safetensors and the ggml types a GGUF file can hold. The numeric ids of the ggml types are
// ggml's own (ggml_type), so a GGUF tensor info's type field maps with ggml_type_to_dtype().
// Block types store `block_size` elements in `block_bytes` bytes; plain types have block_size 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lowbit {

enum class DType : uint8_t {
  F32, F16, BF16, F64, I8, I16, I32, I64, U8, BOOL,
  Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K,
};

struct DTypeTraits {
  DType dtype;
  const char* name;       // as the user sees it: "f32", "bf16", "q4_k"
  uint32_t block_size;    // elements per block (1 for plain types)
  uint32_t block_bytes;   // bytes per block
  int ggml_id;            // ggml_type value, -1 where ggml has none
};

const DTypeTraits& traits(DType t);
inline const char* dtype_name(DType t) { return traits(t).name; }
std::optional<DType> dtype_from_name(std::string_view name);         // "q4_k", "f16", ...
std::optional<DType> dtype_from_safetensors(std::string_view name);  // "F32", "BF16", ...
std::optional<DType> dtype_from_ggml(uint32_t ggml_id);

// Bytes of `n` elements; n must be a multiple of the block size (callers check and report).
inline uint64_t dtype_bytes(DType t, uint64_t n) {
  const auto& tr = traits(t);
  return n / tr.block_size * tr.block_bytes;
}
inline bool is_block_type(DType t) { return traits(t).block_size > 1; }

}  // namespace lowbit
