#version 450
#extension GL_EXT_control_flow_attributes : require
// hessian_accumulate: H[C,C] = beta·H + alpha·XᵀX for calibration inputs X[T,C] (tokens × channels),
// the GPU side of core/calib's InputStats (alpha = 2/n over all batches gives H = 2/n Σ x xᵀ).
// H is symmetric, so only the TILE×TILE tiles on or above the diagonal are computed (groups numbered
// along the upper triangle of tiles, common/grid.glsl group_index) and each off-diagonal tile is
// written twice, as itself and mirrored. Each invocation holds 8 × 8 values of its 128×128 tile:
// rows 4·ty + a and 64 + 4·ty + a, columns 4·tx + b and 64 + 4·tx + b (a, b < 4), so that per token
// it reads 16 staged values — four runs of four adjacent floats, 16-byte loads — for 64
// multiply-adds (a 4 × 4 layout reads 8 for 16, and shared memory's bandwidth bounds it). The two
// column panels of X the tile needs are staged through shared memory KC tokens at a time, rows
// padded by four floats (16-byte aligned, and consecutive tokens' rows in different banks). Each
// value is summed in token order with fused multiply-adds (fma(x_i, x_j, ·) = fma(x_j, x_i, ·): the
// diagonal tiles are exactly symmetric too). beta = 0 never reads H (it may hold garbage).

#define TILE 128u
#define KC 16u
#define LDX 132u  // floats per staged row: TILE + 4

layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) buffer HBuf { float h[]; };

// Mirrored by HessianPush in gpu/ops/hessian_op.cpp.
layout(push_constant) uniform Params {
  uint T;
  uint C;
  float alpha;
  float beta;
} p;

shared float xi[KC * LDX];  // xi[t · LDX + r] = X[t0 + t, i0 + r]
shared float xj[KC * LDX];  // xj[t · LDX + c] = X[t0 + t, j0 + c]

void store(uint i, uint j, float acc) {
  const uint o = i * p.C + j;
  h[o] = p.beta == 0.0 ? p.alpha * acc : p.beta * h[o] + p.alpha * acc;
}

void main() {
  // Tile (ti, tj), ti ≤ tj, from g = tj (tj + 1) / 2 + ti.
  const uint g = group_index();
  uint tj = uint((sqrt(8.0 * float(g) + 1.0) - 1.0) * 0.5);
  while ((tj + 1u) * (tj + 2u) / 2u <= g) ++tj;
  while (tj * (tj + 1u) / 2u > g) --tj;
  const uint ti = g - tj * (tj + 1u) / 2u;
  const uint i0 = ti * TILE, j0 = tj * TILE;
  if (j0 >= p.C) return;  // uniform per workgroup
  const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y, t = ty * 16u + tx;

  // The offset in the tile of this invocation's row (column) a (b), a < 8.
#define ROW(a) (((a) >> 2) * 64u + 4u * ty + ((a) & 3u))
#define COL(b) (((b) >> 2) * 64u + 4u * tx + ((b) & 3u))
  float acc[8][8];
  [[unroll]] for (uint a = 0u; a < 8u; ++a)
    [[unroll]] for (uint b = 0u; b < 8u; ++b) acc[a][b] = 0.0;
  // One pass of this loop per KC tokens: lavapipe ends any one loop after 65535 iterations over an
  // invocation's life (gpu/ops/op_support.h), so batches up to about a million tokens.
  for (uint t0 = 0u; t0 < p.T; t0 += KC) {
    [[unroll]] for (uint q = 0u; q < TILE * KC / 256u; ++q) {
      const uint e = t + 256u * q, tt = e / TILE, c = e % TILE;
      const bool tok = t0 + tt < p.T;
      xi[tt * LDX + c] = (tok && i0 + c < p.C) ? x[(t0 + tt) * p.C + i0 + c] : 0.0;
      xj[tt * LDX + c] = (tok && j0 + c < p.C) ? x[(t0 + tt) * p.C + j0 + c] : 0.0;
    }
    barrier();
    [[unroll]] for (uint tt = 0u; tt < KC; ++tt) {
      float vi[8], vj[8];
      [[unroll]] for (uint a = 0u; a < 8u; ++a) vi[a] = xi[tt * LDX + ROW(a)];
      [[unroll]] for (uint b = 0u; b < 8u; ++b) vj[b] = xj[tt * LDX + COL(b)];
      [[unroll]] for (uint a = 0u; a < 8u; ++a)
        [[unroll]] for (uint b = 0u; b < 8u; ++b) acc[a][b] = fma(vi[a], vj[b], acc[a][b]);
    }
    barrier();
  }
  [[unroll]] for (uint a = 0u; a < 8u; ++a)
    [[unroll]] for (uint b = 0u; b < 8u; ++b) {
      const uint i = i0 + ROW(a), j = j0 + COL(b);
      if (i >= p.C || j >= p.C) continue;
      store(i, j, acc[a][b]);
      if (ti != tj) store(j, i, acc[a][b]);
    }
}
