// The integer family int{b}g{g}{a|s} on the GPU: the layout the matmul op's int variant reads
// (gpu/shaders/common/dequant_int.glsl) and the host-side packer from core's IntTensor. A tensor of
// `rows` × `cols` is one run of 32-bit words:
//   codes  row r at word r·row_words, row_words = ceil(cols·b / 32): code c at bit c·b of the row's
//          little-endian, LSB-first bit stream, crossing word boundaries where b does not divide 32
//          (for b = 2, 4, 8 this is GPTQ's qweight packing along the input dimension);
//   grids  from word grid_offset = rows·row_words: one (scale, zero) pair of fp32 bit patterns per
//          row and group, row-major [rows, groups], as IntTensor holds them (zero is integer valued,
//          ŵ = scale·(q − zero) exactly as core's dequantize_int).
// Scales stay fp32 so the GPU product uses the very weights the CPU evaluates; symmetric formats
// store their constant zero like any other. Packing is exact: nothing is rounded.
#pragma once

#include <cstdint>
#include <vector>

#include "core/quant/format.h"
#include "core/quant/int_quant.h"
#include "core/util/expected.h"

namespace lowbit::gpu {

struct IntWeightLayout {
  uint32_t bits = 0;
  uint64_t group = 0;        // columns per group (cols for g0)
  uint64_t groups = 0;       // groups per row
  uint64_t row_words = 0;    // words of codes per row
  uint64_t grid_offset = 0;  // word index of the first (scale, zero) pair
  uint64_t words = 0;        // the whole tensor

  uint64_t bytes() const { return words * 4; }
};

// The layout of an int-family `format` for rows × cols: InvalidArgument when the format is not of
// the int family, its bits are outside 2..8, or its group does not divide cols.
Expected<IntWeightLayout> int_weight_layout(const Format& format, int64_t rows, int64_t cols);

// Packs `t` into that layout (IntWeightLayout::words words). InvalidArgument when t's shape, codes
// or grids do not agree with its format, or a code exceeds 2^b − 1.
Expected<std::vector<uint32_t>> pack_int_weights(const IntTensor& t);

}  // namespace lowbit::gpu
