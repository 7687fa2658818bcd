#version 450
// gptq_factor_tri: multiplies `count` vectors of kb elements by a diagonal block's D = L_kk⁻¹ (from
// gptq_factor_diag), in place: out_e = Σ_{j ≤ e} D[e][j] · in_j. Element e of vector v is
// x[base + v · vstride + e · estride]: the rows of the panel under a diagonal block (vstride n,
// estride 1: L_rk = A_rk · L_kk⁻ᵀ) or the columns of a block row of L⁻¹ (vstride 1, estride n:
// X_k = D_k · B_k). Each workgroup stages D and VECS vectors in shared memory; groups:
// ceil(count / VECS), common/grid.glsl group_index.

#define NB 64u
#define VECS 32u
layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer DinvBuf { float dinv[]; };

// Mirrored by FactorTriPush in gpu/ops/gptq_factor_op.cpp.
layout(push_constant) uniform Params {
  uint base;
  uint vstride;
  uint estride;
  uint count;
  uint kb;
  uint dbase;  // D in dinv
} p;

shared float d[NB][NB + 1u];
shared float s[VECS][NB + 1u];

// The (vector, element) of the i-th staged value, walking along the stride-1 direction so that
// neighbouring invocations touch neighbouring words.
uvec2 staged(uint i) { return p.estride == 1u ? uvec2(i / NB, i % NB) : uvec2(i % VECS, i / VECS); }

void main() {
  const uint t = gl_LocalInvocationID.x;
  const uint v0 = group_index() * VECS;
  if (v0 >= p.count) return;  // uniform per workgroup
  for (uint i = t; i < NB * NB; i += 256u) d[i / NB][i % NB] = dinv[p.dbase + i];
  for (uint i = t; i < VECS * NB; i += 256u) {
    const uvec2 ve = staged(i);
    s[ve.x][ve.y] = (v0 + ve.x < p.count && ve.y < p.kb) ? x[p.base + (v0 + ve.x) * p.vstride + ve.y * p.estride] : 0.0;
  }
  barrier();
  const uint e = t % NB, vq = t / NB;
  float out_e[VECS / 4u];
  for (uint q = 0u; q < VECS / 4u; ++q) {
    const uint v = vq + 4u * q;
    float acc = 0.0;
    for (uint j = 0u; j <= e; ++j) acc += d[e][j] * s[v][j];
    out_e[q] = acc;
  }
  barrier();
  for (uint q = 0u; q < VECS / 4u; ++q) s[vq + 4u * q][e] = out_e[q];
  barrier();
  for (uint i = t; i < VECS * NB; i += 256u) {
    const uvec2 ve = staged(i);
    if (v0 + ve.x < p.count && ve.y < p.kb) x[p.base + (v0 + ve.x) * p.vstride + ve.y * p.estride] = s[ve.x][ve.y];
  }
}
