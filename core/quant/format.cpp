#include "core/quant/format.h"

#include <charconv>
#include <cmath>

namespace lowbit {

std::optional<Format> Format::parse(std::string_view s) {
  if (s == "onebit") return Format{Kind::OneBit, DType::F32, 1, 0, true};
  if (auto d = dtype_from_name(s)) {
    if (*d == DType::F32 || *d == DType::F16 || *d == DType::BF16) return float_type(*d);
    if (is_block_type(*d)) return ggml(*d);
    return std::nullopt;
  }
  // int{b}g{g}{a|s}
  if (s.size() < 6 || s.substr(0, 3) != "int") return std::nullopt;
  const char last = s.back();
  if (last != 'a' && last != 's') return std::nullopt;
  const auto gpos = s.find('g', 3);
  if (gpos == std::string_view::npos) return std::nullopt;
  int bits = 0;
  int64_t group = 0;
  auto b = std::from_chars(s.data() + 3, s.data() + gpos, bits);
  auto g = std::from_chars(s.data() + gpos + 1, s.data() + s.size() - 1, group);
  if (b.ec != std::errc() || b.ptr != s.data() + gpos || g.ec != std::errc() || g.ptr != s.data() + s.size() - 1) return std::nullopt;
  if (bits < 2 || bits > 8 || group < 0 || (group > 0 && group < 8)) return std::nullopt;
  return integer(bits, group, last == 's');
}

std::string Format::name() const {
  switch (kind) {
    case Kind::Float:
    case Kind::Ggml: return dtype_name(dtype);
    case Kind::Int: return "int" + std::to_string(bits) + "g" + std::to_string(group) + (symmetric ? "s" : "a");
    case Kind::OneBit: return "onebit";
  }
  return "?";
}

bool Format::fits(int64_t cols) const {
  switch (kind) {
    case Kind::Float: return true;
    case Kind::Ggml: return cols % traits(dtype).block_size == 0;
    case Kind::Int: return group == 0 || cols % group == 0;
    case Kind::OneBit: return true;
  }
  return false;
}

uint64_t Format::bytes(int64_t rows, int64_t cols) const {
  const auto r = static_cast<uint64_t>(rows), c = static_cast<uint64_t>(cols);
  switch (kind) {
    case Kind::Float:
    case Kind::Ggml: return r * dtype_bytes(dtype, c);
    case Kind::Int: {
      // GPTQ layout: codes packed into int32 words along the input dimension, one fp16 scale and one
      // b-bit zero point (packed along outputs) per group and row; g_idx (int32 per column).
      const uint64_t groups = c / static_cast<uint64_t>(group_size(cols));
      const uint64_t qweight = (c * static_cast<uint64_t>(bits) + 31) / 32 * 4 * r;
      const uint64_t qzeros = groups * ((r * static_cast<uint64_t>(bits) + 31) / 32 * 4);
      const uint64_t scales = groups * r * 2;
      return qweight + qzeros + scales + c * 4;
    }
    // The onebit checkpoint (core/io/onebit_format.h): rows of packed signs, fp16 g [cols] and h [rows].
    case Kind::OneBit: return r * ((c + 7) / 8) + 2 * (r + c);
  }
  return 0;
}

double Format::bits_per_weight(int64_t rows, int64_t cols) const {
  if (kind == Kind::Int) {
    // The information content: codes, fp16 scales, and zero points where asymmetric.
    const double g = static_cast<double>(group_size(cols));
    return bits + 16.0 / g + (symmetric ? 0.0 : bits / g);
  }
  if (kind == Kind::OneBit) {
    // One sign per weight and one fp16 value per row and per column: 1 + 16·(rows+cols)/(rows·cols).
    const double r = static_cast<double>(rows), c = static_cast<double>(cols);
    return 1.0 + 16.0 * (r + c) / (r * c);
  }
  return 8.0 * static_cast<double>(bytes(rows, cols)) / (static_cast<double>(rows) * static_cast<double>(cols));
}

}  // namespace lowbit
