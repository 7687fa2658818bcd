// Format: how one quantizable tensor is stored — a plain float type (f32, f16, bf16), a ggml block
// type (q8_0 … q6_k, byte layouts of ggml), the integer family int{b}g{g}{a|s} (b = 2..8 bits,
// groups of g consecutive input columns, g0 = one group per row, asymmetric with a b-bit zero point
// or symmetric, fp16 scales; exported in the GPTQ checkpoint format), or onebit (sign matrix and two
// fp16 vectors). Every format knows its name and its bits per weight for a given shape.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/tensor/dtype.h"

namespace lowbit {

struct Format {
  enum class Kind { Float, Ggml, Int, OneBit };
  Kind kind = Kind::Float;
  DType dtype = DType::F32;  // Float and Ggml kinds
  int bits = 0;              // Int kind
  int64_t group = 0;         // Int kind: 0 = per row
  bool symmetric = false;    // Int kind

  static std::optional<Format> parse(std::string_view name);
  static Format float_type(DType t) { return {Kind::Float, t, 0, 0, false}; }
  static Format ggml(DType t) { return {Kind::Ggml, t, 0, 0, false}; }
  static Format integer(int bits, int64_t group, bool symmetric) { return {Kind::Int, DType::F32, bits, group, symmetric}; }

  std::string name() const;
  // Bits per weight of a rows × cols tensor in this format (scales and zeros included; onebit:
  // 1 + 16·(rows+cols)/(rows·cols), shape-dependent).
  double bits_per_weight(int64_t rows, int64_t cols) const;
  // Bytes of a rows × cols tensor in this format.
  uint64_t bytes(int64_t rows, int64_t cols) const;
  // Whether a tensor with rows of `cols` elements can be stored (block and group divisibility).
  bool fits(int64_t cols) const;
  // Group length along a row of `cols` columns (Int kind).
  int64_t group_size(int64_t cols) const { return group == 0 ? cols : group; }

  bool operator==(const Format&) const = default;
};

}  // namespace lowbit
