// The ggml block types seen as a grid plus integer codes (DESIGN.md "Grid and codes"), so that a
// method can fix a block's scales and then choose its codes (GPTQ onto q4_k). A block's grid is one
// affine map per sub-block — the 32-element block of q8_0 … q5_1, the 16- or 32-element sub-blocks
// of the K-quants — with value = scale · code + offset, computed with the very float products of
// ggml's dequantizer, so that dequantizing a packed block gives scale · code + offset bit for bit.
// Codes are signed where ggml subtracts a bias (q4_0: −8…7, q3_k: −4…3, q6_k: −32…31, q8_0:
// −128…127) and unsigned where a min is subtracted (q4_1, q5_1, q2_k, q4_k, q5_k); the symmetric
// types carry offset −0.0f, which adds nothing to any value (signed zeros included).
//
// Rounding: nearest on the stored grid, clamped to the code range. For the K-quants this is exactly
// ggml's final requantization step, so nearest codes on the original weights are ggml's codes
// (except in a sub-block whose stored scale is 0, where any code gives the same value and ggml keeps
// its search's codes). The 32-element types are different: ggml rounds with its unrounded fp32 scale
// (and rounds halves up), while the stored scale is fp16, so a fraction of ggml's codes (about 0.5 %
// for q4_0, a few % for q8_0) is one step away from nearest on the stored grid; nearest is then
// never further from the weight than ggml's code.
#pragma once

#include <cstdint>

#include "core/tensor/dtype.h"

namespace lowbit {

struct GgmlSubGrid {
  float scale = 0;
  float offset = -0.0f;
};

struct GgmlGridLayout {
  int block = 0;  // elements per block (32 or 256)
  int sub = 0;    // elements per sub-block (32, 16)
  int qmin = 0, qmax = 0;
  int subs() const { return block / sub; }
};

// The layout of a ggml block type; aborts (LB_CHECK) on a type that is not one.
GgmlGridLayout ggml_grid_layout(DType type);

// The sub-block grids of one block (layout.subs() entries).
void ggml_block_grids(DType type, const uint8_t* block, GgmlSubGrid* grids);
// The codes of one block (layout.block entries, in element order).
void ggml_block_codes(DType type, const uint8_t* block, int8_t* codes);
// Rewrites the code bits of `block` from `codes` (clamped to the code range), keeping its scales
// and mins: the block then holds the grid it held before and the new codes.
void ggml_pack_codes(DType type, const int8_t* codes, uint8_t* block);

// scale · code + offset (out of line: a caller built with FMA contraction would round differently).
float ggml_value(const GgmlSubGrid& g, int code);
// The nearest code of w on g, clamped to [qmin, qmax] (ggml's nearest_int, halves to even); a zero
// scale gives code 0.
int ggml_nearest_code(const GgmlSubGrid& g, float w, int qmin, int qmax);

// GPTQ's choice of codes for one column of n rows (grid g[r], current weight w[r]): nearest on the
// grid, except that a weight still equal to w_fix[r] (the weight the block's grid was fixed from)
// or lying in a sub-block of zero scale keeps code[r] (ggml's code for it). Writes code[r] and the
// value q[r] = scale · code + offset. Built without FMA contraction, as the dequantizers are.
void ggml_choose_codes(const GgmlGridLayout& layout, const GgmlSubGrid* g, const float* w, const float* w_fix,
                       int8_t* code, float* q, int64_t n);

}  // namespace lowbit
