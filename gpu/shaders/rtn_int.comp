#version 450
#extension GL_EXT_control_flow_attributes : require
// rtn_int: round-to-nearest quantization into the integer family int{b}g{g}{a|s} with min-max grids
// (common/int_grid.glsl), bit-identical to core's rtn_int (core/quant/int_quant.h), per group of
// `group` consecutive weights of a row; q = clamp(round(w / scale) + zero).
// Divisions and the fp16 rounding go through common/exact_float.glsl, rounding is roundEven
// (torch.round, nearbyint), so codes and grids equal the CPU's exactly.
// One workgroup of 64 invocations per (row, group); W [rows, cols] fp32, codes one uint per weight,
// grids (scale, zero) float pairs [rows, groups].
// RTN_MSE (variant rtn_int_mse; core's rtn_int_mse, `--mse`): the group's grid is the min-max grid
// of the shrink ratio 1 − (1 − shrink) · s / steps, s = 0 … steps − 1 (each the CPU's float), whose
// Σ |w − Q(w)|^2.4 is least, the first on a tie. The residuals are the CPU's floats; each term is
// d² (exact in double) times |d|^0.4 in float, summed in double, so an error agrees with the CPU's
// std::pow to ~1e-7 relative and two ratios within that of each other may be chosen differently.

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
  float shrink;  // RTN_MSE: the smallest ratio tried
#ifdef RTN_MSE
  uint steps;
#endif
} p;

#ifdef RTN_MSE
shared double err_buf[LOCAL];

double reduce_dsum(double v) {
  const uint t = gl_LocalInvocationID.x;
  err_buf[t] = v;
  barrier();
  [[unroll]] for (uint s = LOCAL / 2u; s > 0u; s >>= 1u) {
    if (t < s) err_buf[t] += err_buf[t + s];
    barrier();
  }
  const double r = err_buf[0];
  barrier();
  return r;
}
#endif

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
#ifdef RTN_MSE
  lo = reduce_min(lo);
  hi = reduce_max(hi);
  vec2 grid = vec2(0.0);
  double best = 0.0;
  for (uint s = 0u; s < p.steps; ++s) {
    precise float span = 1.0 - p.shrink;
    precise float scaled = span * float(s);
    precise float ratio = 1.0 - div_rn(scaled, float(p.steps));
    const vec2 cand = int_minmax_grid(lo, hi, p.bits, p.symmetric != 0u, ratio, p.fp16_scales != 0u);
    double err = 0.0;
    for (uint i = t; i < p.group; i += LOCAL) {
      const float v = w[base + i];
      precise float back = cand.x * (int_code(v, cand, p.bits) - cand.y);
      precise float d = v - back;
      err += double(d) * double(d) * double(pow(abs(d), 0.4));
    }
    err = reduce_dsum(err);
    if (s == 0u || err < best) {  // the same in every invocation
      best = err;
      grid = cand;
    }
  }
#else
  const vec2 grid = int_minmax_grid(reduce_min(lo), reduce_max(hi), p.bits, p.symmetric != 0u, p.shrink, p.fp16_scales != 0u);
#endif
  const float scale = grid.x, zero = grid.y;
  if (t == 0u) {
    grids[2u * index] = scale;
    grids[2u * index + 1u] = zero;
  }
  for (uint i = t; i < p.group; i += LOCAL) codes[base + i] = uint(int_code(w[base + i], grid, p.bits));
}
