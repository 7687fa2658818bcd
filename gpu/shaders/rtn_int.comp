#version 450
// rtn_int: round-to-nearest quantization into the integer family int{b}g{g}{a|s} with min-max grids
// (common/int_grid.glsl), bit-identical to core's rtn_int (core/quant/int_quant.h), per group of
// `group` consecutive weights of a row; q = clamp(round(w / scale) + zero).
// Divisions and the fp16 rounding go through common/exact_float.glsl, rounding is roundEven
// (torch.round, nearbyint), so codes and grids equal the CPU's exactly.
// One workgroup of 64 invocations per (row, group); W [rows, cols] fp32, codes one uint per weight,
// grids (scale, zero) float pairs [rows, groups].

#define LOCAL 64u
#define REDUCE_SIZE LOCAL
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "common/exact_float.glsl"
#include "common/grid.glsl"
#include "common/int_grid.glsl"
#include "common/reduce.glsl"

layout(std430, set = 0, binding = 0) readonly buffer WBuf { float w[]; };
layout(std430, set = 0, binding = 1) writeonly buffer CodeBuf { uint codes[]; };
layout(std430, set = 0, binding = 2) writeonly buffer GridBuf { float grids[]; };

// Mirrored by RtnIntPush in gpu/ops/rtn_int_op.cpp.
layout(push_constant) uniform Params {
  uint rows;
  uint cols;
  uint group;   // columns per group
  uint groups;  // groups per row
  uint bits;
  uint symmetric;
  uint fp16_scales;
  float shrink;
} p;

void main() {
  const uint index = group_index();
  if (index >= p.rows * p.groups) return;  // the whole workgroup
  const uint t = gl_LocalInvocationID.x;
  const uint row = index / p.groups, g = index % p.groups;
  const uint base = row * p.cols + g * p.group;

  float lo = 0.0, hi = 0.0;
  for (uint i = t; i < p.group; i += LOCAL) {
    lo = min(lo, w[base + i]);
    hi = max(hi, w[base + i]);
  }
  const vec2 grid = int_minmax_grid(reduce_min(lo), reduce_max(hi), p.bits, p.symmetric != 0u, p.shrink, p.fp16_scales != 0u);
  const float scale = grid.x, zero = grid.y;
  if (t == 0u) {
    grids[2u * index] = scale;
    grids[2u * index + 1u] = zero;
  }
  for (uint i = t; i < p.group; i += LOCAL) codes[base + i] = uint(int_code(w[base + i], grid, p.bits));
}
