#version 450
// rtn_int: round-to-nearest quantization into the integer family int{b}g{g}{a|s} with min-max grids,
// bit-identical to core's rtn_int (core/quant/int_quant.h): per group of `group` consecutive weights
// of a row, xmin = min(w, 0) · shrink, xmax = max(w, 0) · shrink; symmetric: xmax = max(|xmin|,
// xmax), xmin = −xmax where xmin < 0, zero = 2^(b−1); an all-zero range becomes [−1, 1];
// scale = (xmax − xmin) / (2^b − 1) (1 where that underflows), zero = round(−xmin / scale) clamped
// to the codes, the scale rounded to fp16 with fp16_scales; q = clamp(round(w / scale) + zero).
// Divisions and the fp16 rounding go through common/exact_float.glsl, rounding is roundEven
// (torch.round, nearbyint), so codes and grids equal the CPU's exactly.
// One workgroup of 64 invocations per (row, group); W [rows, cols] fp32, codes one uint per weight,
// grids (scale, zero) float pairs [rows, groups].

#define LOCAL 64u
#define REDUCE_SIZE LOCAL
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "common/exact_float.glsl"
#include "common/grid.glsl"
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
  precise float xmin = reduce_min(lo) * p.shrink;
  precise float xmax = reduce_max(hi) * p.shrink;
  const float maxq = float((1u << p.bits) - 1u);
  if (p.symmetric != 0u) {
    xmax = max(abs(xmin), xmax);
    if (xmin < 0.0) xmin = -xmax;
  }
  if (xmin == 0.0 && xmax == 0.0) {
    xmin = -1.0;
    xmax = 1.0;
  }
  precise float range = xmax - xmin;
  float scale = div_rn(range, maxq);
  if (!(scale > 0.0)) scale = 1.0;
  float zero = p.symmetric != 0u ? float(((1u << p.bits)) / 2u) : roundEven(div_rn(-xmin, scale));
  zero = clamp(zero, 0.0, maxq);
  if (p.fp16_scales != 0u) {
    const uint h = f32_to_f16_bits(scale);
    if ((h & 0x7FFFu) == 0u) scale = 5.9604644775390625e-8;  // underflow: fp16's smallest subnormal
    else if ((h & 0x7C00u) == 0x7C00u) scale = 65504.0;     // overflow: fp16's largest value
    else scale = f16_bits_to_f32(h);
  }
  if (t == 0u) {
    grids[2u * index] = scale;
    grids[2u * index + 1u] = zero;
  }
  for (uint i = t; i < p.group; i += LOCAL) {
    precise float q = roundEven(div_rn(w[base + i], scale)) + zero;
    codes[base + i] = uint(clamp(q, 0.0, maxq));
  }
}
