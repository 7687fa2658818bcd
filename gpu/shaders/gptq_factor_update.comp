#version 450
// gptq_factor_update: the trailing updates of gpu/ops/gptq_factor_op.h as a tiled matrix product,
//   C[r][c] −= Σ_{j < kb} P[r][j] · Q[j][c]   over a rows × cols region,
// P[r][j] = pm[p_off + r · ld + j], Q[j][c] = qm[q_off + c · ld + j] (Q_TRANSPOSED) or
// qm[q_off + j · ld + c], C[r][c] = cm[c_off + r · ld + c]. The Cholesky's update of the trailing
// matrix by the panel below a diagonal block (LOWER: P = Qᵀ = the panel, only tiles on or below the
// diagonal, numbered along the lower triangle of tiles, and only c ≤ r written in the diagonal ones)
// and the inverse's update of the rows below a finished block row (B_m −= L_mk X_k). The buffers may
// alias: the regions read and written do not overlap. TILE × TILE tiles, 8 × 8 values per
// invocation (rows 4·ty + a and 64 + 4·ty + a, columns 4·tx + b and 64 + 4·tx + b, a, b < 4: per j,
// 16 staged reads for 64 multiply-adds, the columns as 16-byte runs); groups: one per tile,
// common/grid.glsl group_index.

#define TILE 128u
#define KC 16u
#define LDQ 132u  // floats per staged row of Q: TILE + 4 (16-byte aligned rows)
layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) buffer CBuf { float cm[]; };
layout(std430, set = 0, binding = 1) readonly buffer PBuf { float pm[]; };
layout(std430, set = 0, binding = 2) readonly buffer QBuf { float qm[]; };

// Mirrored by FactorUpdatePush in gpu/ops/gptq_factor_op.cpp.
layout(push_constant) uniform Params {
  uint ld;
  uint rows;
  uint cols;
  uint kb;
  uint p_off;
  uint q_off;
  uint c_off;
  uint flags;  // 1: Q_TRANSPOSED, 2: LOWER
} p;

const uint Q_TRANSPOSED = 1u, LOWER = 2u;

shared float ps[TILE][KC + 1u];  // ps[r][j] = P[r0 + r][k + j]
shared float qs[KC * LDQ];       // qs[j · LDQ + c] = Q[k + j][c0 + c]

// The offset in the tile of this invocation's row (column) a (b), a < 8.
#define ROW(a) (((a) >> 2) * 64u + 4u * ty + ((a) & 3u))
#define COL(b) (((b) >> 2) * 64u + 4u * tx + ((b) & 3u))

void main() {
  const uint g = group_index();
  uint ti, tj;
  if ((p.flags & LOWER) != 0u) {
    ti = uint((sqrt(8.0 * float(g) + 1.0) - 1.0) * 0.5);  // g = ti (ti + 1) / 2 + tj, tj ≤ ti
    while ((ti + 1u) * (ti + 2u) / 2u <= g) ++ti;
    while (ti * (ti + 1u) / 2u > g) --ti;
    tj = g - ti * (ti + 1u) / 2u;
  } else {
    const uint tiles_x = (p.cols + TILE - 1u) / TILE;
    ti = g / tiles_x;
    tj = g % tiles_x;
  }
  const uint r0 = ti * TILE, c0 = tj * TILE;
  if (r0 >= p.rows || c0 >= p.cols) return;  // uniform per workgroup
  const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y, t = ty * 16u + tx;
  const bool transposed = (p.flags & Q_TRANSPOSED) != 0u;
  float acc[8][8];
  for (uint a = 0u; a < 8u; ++a)
    for (uint b = 0u; b < 8u; ++b) acc[a][b] = 0.0;
  for (uint k = 0u; k < p.kb; k += KC) {
    for (uint i = t; i < TILE * KC; i += 256u) {
      const uint r = i / KC, j = i % KC;
      ps[r][j] = (r0 + r < p.rows && k + j < p.kb) ? pm[p.p_off + (r0 + r) * p.ld + k + j] : 0.0;
      if (transposed) {
        qs[j * LDQ + r] = (c0 + r < p.cols && k + j < p.kb) ? qm[p.q_off + (c0 + r) * p.ld + k + j] : 0.0;
      } else {
        const uint jj = i / TILE, c = i % TILE;
        qs[jj * LDQ + c] = (c0 + c < p.cols && k + jj < p.kb) ? qm[p.q_off + (k + jj) * p.ld + c0 + c] : 0.0;
      }
    }
    barrier();
    for (uint j = 0u; j < KC; ++j) {
      float pv[8], qv[8];
      for (uint a = 0u; a < 8u; ++a) pv[a] = ps[ROW(a)][j];
      for (uint b = 0u; b < 8u; ++b) qv[b] = qs[j * LDQ + COL(b)];
      for (uint a = 0u; a < 8u; ++a)
        for (uint b = 0u; b < 8u; ++b) acc[a][b] = fma(pv[a], qv[b], acc[a][b]);
    }
    barrier();
  }
  const bool lower = (p.flags & LOWER) != 0u;
  for (uint a = 0u; a < 8u; ++a)
    for (uint b = 0u; b < 8u; ++b) {
      const uint r = r0 + ROW(a), c = c0 + COL(b);
      if (r < p.rows && c < p.cols && (!lower || c <= r)) cm[p.c_off + r * p.ld + c] -= acc[a][b];
    }
}
