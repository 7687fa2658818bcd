#version 450
// awq_clip: AWQ's clip search for the integer family (core's awq_clip_int, core/quant/awq.h, is the
// oracle), one workgroup per row of W [rows, cols] with Hessian H [cols, cols]:
//   1. min-max RTN of every group (rtn_int's grids and codes, common/int_grid.glsl) and the residual
//      d = w − scale·(q − zero), rounded as written (float, as the CPU forms it);
//   2. c = H d in double (H is symmetric: c_i = Σ_j H[j, i] d_j, so neighbouring invocations read
//      neighbouring floats of a row of H), before = d·c;
//   3. for each group in turn (coordinate descent): its coupling to the others e = c_g − H_gg d_g,
//      the row's error as a function of the group's residual x, xᵀ H_gg x + 2 xᵀ e, for the current
//      residual and for the min-max grid of every shrink ratio (ratios[k], k = 1 … steps: the CPU's
//      floats, awq_clip_ratio); the first strictly smaller one wins and, where one does, d, the
//      group's codes and grid change and c += H[:, g] (d_new − d_old);
//   4. after = d·c (the CPU forms d·(H d) afresh: equal up to rounding).
// Sums are in double in this shader's order, so an error agrees with the CPU's to rounding and a
// choice between two ratios whose errors tie to ~1e-16 may differ. The group's candidate residual
// is shared for the products with H_gg (groups of up to MAX_GROUP weights; the op sends larger ones
// to the CPU); the coupling e is per-row scratch like d and c. d, c and e are per-row scratch
// [batch rows, cols]; rows are p.row0 + workgroup. Needs shaderFloat64 and subgroup arithmetic.
// The search is a long chain of small steps, so the workgroup is small and its reductions go
// through subgroup sums: a candidate costs three barriers (lavapipe runs a barrier as a switch
// between all of the workgroup's invocations: this took the demo's AWQ from 80 s to 6 s there).
// Loops: lavapipe (llvmpipe) stops any one loop of a shader after 65535 iterations in all, counted
// over the invocation's life, not per entry, and then goes on as if it had ended: a silent wrong
// answer. So every loop here has a trip count the same in every invocation, the dot products walk
// CHUNK elements per iteration (an unrolled, masked inner block),
// the reductions' loops are unrolled, and the op (awq_clip_op.cpp: loop_budget) refuses shapes
// whose counts would pass the limit there.
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define LOCAL 64u
#define MAX_GROUP 1024u
#define CHUNK 16u
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "common/exact_float.glsl"
#include "common/grid.glsl"
#include "common/int_grid.glsl"

// d, c and e carry values from one invocation of a workgroup to another (memoryBarrierBuffer, then
// barrier): GLSL makes such writes visible only for coherent buffers.
layout(std430, set = 0, binding = 0) readonly buffer WBuf { float w[]; };           // [rows, cols]
layout(std430, set = 0, binding = 1) readonly buffer HBuf { float h[]; };           // [cols, cols]
layout(std430, set = 0, binding = 2) readonly buffer RatioBuf { float ratios[]; };  // [steps + 1], ratios[0] = 1
layout(std430, set = 0, binding = 3) coherent buffer DBuf { float d[]; };           // [batch, cols]
layout(std430, set = 0, binding = 4) coherent buffer CBuf { double c[]; };          // [batch, cols]
layout(std430, set = 0, binding = 5) writeonly buffer CodeBuf { uint codes[]; };    // [rows, cols]
layout(std430, set = 0, binding = 6) writeonly buffer GridBuf { float grids[]; };   // [rows, groups] × (scale, zero)
layout(std430, set = 0, binding = 7) writeonly buffer StatBuf { double stats[]; };  // [rows] × (before, after, Σ ratio)
layout(std430, set = 0, binding = 8) coherent buffer EBuf { double e[]; };          // [batch, cols]

// Mirrored by AwqClipPush in gpu/ops/awq_clip_op.cpp.
layout(push_constant) uniform Params {
  uint rows;  // in this batch
  uint row0;  // the batch's first row
  uint cols;
  uint group;   // columns per group
  uint groups;  // groups per row
  uint bits;
  uint symmetric;
  uint fp16_scales;
  uint steps;
} p;

// The group's residual under the current candidate (float-exact, as the CPU's), and before its
// change for the update of c (the change is formed in double, as the CPU's best_d − dold).
shared float sh[MAX_GROUP];
shared float sh_old[MAX_GROUP];
shared dvec2 partial[LOCAL];  // one per subgroup
shared vec2 range_partial[LOCAL];

// The workgroup's sum, in every invocation, through subgroup sums: two barriers, the last after
// every invocation has read the partial sums (and so after all of them are done with whatever they
// read before calling). The loop over the subgroups is unrolled to LOCAL, a bound on their number.
dvec2 reduce_dsum2(dvec2 v) {
  v = subgroupAdd(v);
  if (subgroupElect()) partial[gl_SubgroupID] = v;
  barrier();
  dvec2 r = dvec2(0.0);
  [[unroll]] for (uint s = 0u; s < LOCAL; ++s)
    if (s < gl_NumSubgroups) r += partial[s];
  barrier();
  return r;
}

// (min(lo), max(hi)) over the workgroup, likewise.
vec2 reduce_range(float lo, float hi) {
  lo = subgroupMin(lo);
  hi = subgroupMax(hi);
  if (subgroupElect()) range_partial[gl_SubgroupID] = vec2(lo, hi);
  barrier();
  vec2 r = vec2(0.0);
  [[unroll]] for (uint s = 0u; s < LOCAL; ++s)
    if (s < gl_NumSubgroups) r = vec2(min(r.x, range_partial[s].x), max(r.y, range_partial[s].y));
  barrier();
  return r;
}

// Σ_{j < n} H[(r0 + j), col] · x_j for x in sh (delta = false) or sh − sh_old (delta = true):
// H read down a column, which for the symmetric H is the row of the CPU's product.
double h_column_dot(uint r0, uint col, uint n, bool delta) {
  double acc = 0.0;
  for (uint j0 = 0u; j0 < n; j0 += CHUNK) {
    [[unroll]] for (uint jj = 0u; jj < CHUNK; ++jj) {
      const uint j = j0 + jj;
      if (j < n) {
        const double x = delta ? double(sh[j]) - double(sh_old[j]) : double(sh[j]);
        acc += double(h[(r0 + j) * p.cols + col]) * x;
      }
    }
  }
  return acc;
}

// w − scale·(q − zero), each operation rounded as written (core's dequantize_code).
float residual(float v, float q, vec2 grid) {
  precise float back = grid.x * (q - grid.y);
  precise float r = v - back;
  return r;
}

// (min(w, 0), max(w, 0)) over the group at c0 of the row at wbase.
vec2 group_range(uint wbase, uint c0, uint gs) {
  const uint t = gl_LocalInvocationID.x;
  float lo = 0.0, hi = 0.0;
  for (uint i0 = 0u; i0 < gs; i0 += LOCAL) {
    const uint i = i0 + t;
    if (i < gs) {
      lo = min(lo, w[wbase + c0 + i]);
      hi = max(hi, w[wbase + c0 + i]);
    }
  }
  return reduce_range(lo, hi);
}

void main() {
  const uint index = group_index();
  if (index >= p.rows) return;  // the whole workgroup
  const uint t = gl_LocalInvocationID.x;
  const uint row = p.row0 + index;
  const uint wbase = row * p.cols, sbase = index * p.cols;
  const uint gs = p.group;
  const bool sym = p.symmetric != 0u, fp16 = p.fp16_scales != 0u;

  // 1. Min-max RTN and its residual.
  for (uint g = 0u; g < p.groups; ++g) {
    const uint c0 = g * gs;
    const vec2 range = group_range(wbase, c0, gs);
    const vec2 grid = int_minmax_grid(range.x, range.y, p.bits, sym, 1.0, fp16);
    if (t == 0u) {
      grids[2u * (row * p.groups + g)] = grid.x;
      grids[2u * (row * p.groups + g) + 1u] = grid.y;
    }
    for (uint i0 = 0u; i0 < gs; i0 += LOCAL) {
      const uint i = i0 + t;
      if (i < gs) {
        const float v = w[wbase + c0 + i];
        const float q = int_code(v, grid, p.bits);
        codes[wbase + c0 + i] = uint(q);
        d[sbase + c0 + i] = residual(v, q, grid);
      }
    }
  }
  memoryBarrierBuffer();
  barrier();

  // 2. c = H d and the row's error (the whole row's d goes through sh, a group's worth at a time).
  double own = 0.0;
  for (uint i0 = 0u; i0 < p.cols; i0 += LOCAL) {
    const uint i = i0 + t;
    if (i < p.cols) c[sbase + i] = 0.0;
  }
  for (uint g = 0u; g < p.groups; ++g) {
    const uint c0 = g * gs;
    for (uint i0 = 0u; i0 < gs; i0 += LOCAL) {
      const uint i = i0 + t;
      if (i < gs) sh[i] = d[sbase + c0 + i];
    }
    barrier();
    for (uint i0 = 0u; i0 < p.cols; i0 += LOCAL) {
      const uint i = i0 + t;
      if (i < p.cols) c[sbase + i] += h_column_dot(c0, i, gs, false);
    }
    barrier();
  }
  for (uint i0 = 0u; i0 < p.cols; i0 += LOCAL) {
    const uint i = i0 + t;
    if (i < p.cols) own += double(d[sbase + i]) * c[sbase + i];
  }
  const double before = reduce_dsum2(dvec2(own, 0.0)).x;
  memoryBarrierBuffer();
  barrier();

  // 3. Coordinate descent over the groups.
  double ratio_sum = 0.0;
  for (uint g = 0u; g < p.groups; ++g) {
    const uint c0 = g * gs;
    const vec2 range = group_range(wbase, c0, gs);

    // The current residual d_g into sh; the coupling e = c_g − H_gg d_g into e.
    for (uint i0 = 0u; i0 < gs; i0 += LOCAL) {
      const uint i = i0 + t;
      if (i < gs) sh[i] = d[sbase + c0 + i];
    }
    barrier();
    dvec2 part = dvec2(0.0);
    for (uint i0 = 0u; i0 < gs; i0 += LOCAL) {
      const uint i = i0 + t;
      if (i < gs) {
        const double hx = h_column_dot(c0, c0 + i, gs, false);
        const double ei = c[sbase + c0 + i] - hx;
        e[sbase + c0 + i] = ei;
        part += dvec2(double(sh[i]) * hx, double(sh[i]) * ei);
      }
    }
    dvec2 sums = reduce_dsum2(part);
    double best = sums.x + 2.0 * sums.y;
    uint best_k = 0u;

    for (uint k = 1u; k <= p.steps; ++k) {
      // sh is free: every invocation has passed the last reduction after reading it.
      const vec2 grid = int_minmax_grid(range.x, range.y, p.bits, sym, ratios[k], fp16);
      for (uint i0 = 0u; i0 < gs; i0 += LOCAL) {
        const uint i = i0 + t;
        if (i < gs) {
          const float v = w[wbase + c0 + i];
          sh[i] = residual(v, int_code(v, grid, p.bits), grid);
        }
      }
      barrier();
      part = dvec2(0.0);
      for (uint i0 = 0u; i0 < gs; i0 += LOCAL) {
        const uint i = i0 + t;
        if (i < gs) {
          const double hx = h_column_dot(c0, c0 + i, gs, false);
          part += dvec2(double(sh[i]) * hx, double(sh[i]) * e[sbase + c0 + i]);
        }
      }
      sums = reduce_dsum2(part);
      const double v = sums.x + 2.0 * sums.y;
      if (v < best) {  // the same value in every invocation
        best = v;
        best_k = k;
      }
    }
    ratio_sum += double(ratios[best_k]);
    if (best_k == 0u) continue;

    // The group changes: its codes, grid and residual, and c by H[:, g] times the change of d.
    const vec2 grid = int_minmax_grid(range.x, range.y, p.bits, sym, ratios[best_k], fp16);
    for (uint i0 = 0u; i0 < gs; i0 += LOCAL) {
      const uint i = i0 + t;
      if (i < gs) {
        const float v = w[wbase + c0 + i];
        const float q = int_code(v, grid, p.bits);
        const float r = residual(v, q, grid);
        sh[i] = r;
        sh_old[i] = d[sbase + c0 + i];
        d[sbase + c0 + i] = r;
        codes[wbase + c0 + i] = uint(q);
      }
    }
    if (t == 0u) {
      grids[2u * (row * p.groups + g)] = grid.x;
      grids[2u * (row * p.groups + g) + 1u] = grid.y;
    }
    barrier();
    for (uint j0 = 0u; j0 < p.cols; j0 += LOCAL) {
      const uint j = j0 + t;
      if (j < p.cols) c[sbase + j] += h_column_dot(c0, j, gs, true);
    }
    memoryBarrierBuffer();
    barrier();
  }

  // 4. The row's error after the search.
  own = 0.0;
  for (uint i0 = 0u; i0 < p.cols; i0 += LOCAL) {
    const uint i = i0 + t;
    if (i < p.cols) own += double(d[sbase + i]) * c[sbase + i];
  }
  const double after = reduce_dsum2(dvec2(own, 0.0)).x;
  if (t == 0u) {
    stats[3u * row] = before;
    stats[3u * row + 1u] = after;
    stats[3u * row + 2u] = ratio_sum;
  }
}
