#version 450
// awq_delta: one point of AWQ's α grid (core/quant/awq.h, awq_scaled_error) for a layer W [rows, cols]
// of the integer family: ΔW = Q(W·diag(s))·diag(s)⁻¹ − W, with Q the min-max round-to-nearest of
// rtn_int.comp (common/int_grid.glsl) over groups of `group` consecutive columns, shrunk by a fixed
// clip ratio. s and s⁻¹ are rows `alpha` of S and S⁻¹ [alphas, cols] (every scale vector of the grid
// is uploaded once). One workgroup of 64 invocations per (row, group); D [rows, cols] out.

#define LOCAL 64u
#define REDUCE_SIZE LOCAL
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "common/exact_float.glsl"
#include "common/grid.glsl"
#include "common/int_grid.glsl"
#include "common/reduce.glsl"

layout(std430, set = 0, binding = 0) readonly buffer WBuf { float w[]; };
layout(std430, set = 0, binding = 1) readonly buffer SBuf { float s[]; };
layout(std430, set = 0, binding = 2) readonly buffer InvBuf { float inv[]; };
layout(std430, set = 0, binding = 3) writeonly buffer DBuf { float d[]; };

// Mirrored by AwqDeltaPush in gpu/ops/awq_op.cpp.
layout(push_constant) uniform Params {
  uint rows;
  uint cols;
  uint group;   // columns per group
  uint groups;  // groups per row
  uint bits;
  uint symmetric;
  uint alpha;   // the row of S and S⁻¹
  float shrink;
} p;

void main() {
  const uint index = group_index();
  if (index >= p.rows * p.groups) return;  // the whole workgroup
  const uint t = gl_LocalInvocationID.x;
  const uint row = index / p.groups, g = index % p.groups;
  const uint base = row * p.cols + g * p.group, sbase = p.alpha * p.cols + g * p.group;

  float lo = 0.0, hi = 0.0;
  for (uint i = t; i < p.group; i += LOCAL) {
    precise float v = w[base + i] * s[sbase + i];
    lo = min(lo, v);
    hi = max(hi, v);
  }
  const vec2 grid = int_minmax_grid(reduce_min(lo), reduce_max(hi), p.bits, p.symmetric != 0u, p.shrink, false);
  for (uint i = t; i < p.group; i += LOCAL) {
    const float x = w[base + i];
    precise float v = x * s[sbase + i];
    precise float q = grid.x * (int_code(v, grid, p.bits) - grid.y);
    precise float back = q * inv[sbase + i];
    d[base + i] = back - x;
  }
}
