#version 450
// hessian_coop: H[C,C] = beta·H + alpha·XᵀX (hessian_accumulate.comp's contract) on cooperative
// matrices (tensor cores on NVIDIA; 16×16×16 fp16 · fp16 + fp32, GL_NV_cooperative_matrix, as
// matmul_coop.comp) at close to fp32 accuracy. hessian_split.comp has scaled each channel by its
// power of two s[c] (hessian_scale.comp, so that no channel leaves fp16's range) and split each value
// into hi = fp16(v) and lo = fp16(v − hi), HI and LO [Tp, Cp] (channels contiguous, zero-padded to
// whole steps and tiles); a tile's sum is hiᵀhi + hiᵀlo + loᵀhi (the loᵀlo term, 2⁻²² of the rest,
// dropped), each fp16 product exact in the fp32 accumulator, and the result is scaled back by
// 1 / (s_i s_j). Three products per tile, only the tiles on or above the diagonal (mirrored when
// written): 1.5 × one product's work.
// Each workgroup (128 invocations: four subgroups of 32) computes a 128×128 tile of H at channels
// (i0, j0); subgroup s its 64×64 quarter at rows 64·(s / 2), columns 64·(s % 2), as 4×4
// accumulators (in a diagonal tile the quarter below the diagonal is skipped). Tokens are walked BK
// at a time: the four panels of the step (HI and LO of channels i0.. and j0.., 16 tokens × 128
// channels each) are staged in shared memory as X lies, [token][channel], held as uvec4 (eight
// halves: one 16-byte store per load, matrix loads addressed in uvec4, as NVIDIA's samples do), rows
// padded to LDC halves (272 bytes: every matrix load starts on a 16-byte boundary, consecutive
// rows in other banks); the i
// panel loads as a column-major A (i, t), the j panel as a row-major B (t, j), so nothing is
// transposed. The next step's panels are read from memory (16 bytes a load) into registers while the
// tensor cores work on this one. Groups along the upper triangle of tiles (common/grid.glsl
// group_index).
//
// EMULATE_COOP (hessian_coop_emulated; tests) writes the matrix operations out as
// matmul_coop.comp's variant does — lane l of a "subgroup" of 32 consecutive invocations holds
// elements l + 32q of each accumulator, a multiply-add reads A and B straight from the staged
// panels (the real variant's, element by element) at the offsets and strides the real loads get
// (the three products of one token in turn, where the real variant adds each product over the
// step) — so every device checks the staging, prefetch, tiling, skipping and mirroring.
#extension GL_EXT_control_flow_attributes : require
#ifdef EMULATE_COOP
#include "common/exact_float.glsl"
// Half e of a staged panel (eight to a uvec4, the lower half of each word first), as an fp32 value.
#define HALF_AT(panel, e) f16_bits_to_f32(((panel)[(e) >> 3u][((e) >> 1u) & 3u] >> (((e) & 1u) << 4u)) & 0xFFFFu)
#else
#extension GL_NV_cooperative_matrix : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#endif

#define TILE 128u
#define BK 16u
#define LDC 136u  // halves per staged token row: TILE + 8
#define LDC4 17u  // the same in uvec4
#define SUB 64u   // rows and columns of the tile per subgroup
#define FRAG 16u  // the cooperative matrices' side

layout(local_size_x = 128, local_size_y = 1, local_size_z = 1) in;

#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) readonly buffer PBuf { uvec4 pq[]; };  // HI then LO, 8 halves a load
layout(std430, set = 0, binding = 1) buffer HBuf { float h[]; };
layout(std430, set = 0, binding = 2) readonly buffer SBuf { float s[]; };

// Mirrored by HessianCoopPush in gpu/ops/hessian_op.cpp.
layout(push_constant) uniform Params {
  uint T;
  uint C;
  float alpha;
  float beta;
  uint cp_quads;  // Cp / 8: a padded token row in loads
  uint lo_quads;  // Tp · Cp / 8: where LO starts
} p;

shared uvec4 ah[BK * LDC4];  // half k · LDC + r: hi of token t0 + k, channel i0 + r; al: the lo parts
shared uvec4 al[BK * LDC4];
shared uvec4 bh[BK * LDC4];  // the same for channel j0 + r
shared uvec4 bl[BK * LDC4];
#ifndef EMULATE_COOP
shared float cs[4u * FRAG * FRAG];  // one 16×16 accumulator per subgroup on its way out
#endif

// Staging: invocation t carries channels 8·(t % 16) .. +7 of tokens t / 16 + 8r (r = 0, 1) of each
// panel, so a subgroup reads two tokens' 256 consecutive bytes. pr[r] / pr[2 + r]: the i panel's HI /
// LO; pr[4 + r] / pr[6 + r]: the j panel's.
uvec4 pr[8];

void load_step(uint t, uint i0, uint j0, uint t0) {
  const uint cq = t & 15u;
  [[unroll]] for (uint r = 0u; r < 2u; ++r) {
    const uint row = (t0 + (t >> 4) + 8u * r) * p.cp_quads;
    pr[r] = pq[row + i0 / 8u + cq];
    pr[2u + r] = pq[p.lo_quads + row + i0 / 8u + cq];
    pr[4u + r] = pq[row + j0 / 8u + cq];
    pr[6u + r] = pq[p.lo_quads + row + j0 / 8u + cq];
  }
}

void store_step(uint t) {
  [[unroll]] for (uint r = 0u; r < 2u; ++r) {
    const uint at = ((t >> 4) + 8u * r) * LDC4 + (t & 15u);
    ah[at] = pr[r];
    al[at] = pr[2u + r];
    bh[at] = pr[4u + r];
    bl[at] = pr[6u + r];
  }
}

void store(uint i, uint j, float acc) {
  const uint o = i * p.C + j;
  h[o] = p.beta == 0.0 ? p.alpha * acc : p.beta * h[o] + p.alpha * acc;
}

void main() {
  const uint t = gl_LocalInvocationID.x;
#ifdef EMULATE_COOP
  const uint sub = t / 32u;
  const uint lane = t & 31u;
#else
  const uint sub = gl_SubgroupID;
  const uint lane = gl_SubgroupInvocationID;
#endif
  // Tile (ti, tj), ti ≤ tj, from g = tj (tj + 1) / 2 + ti.
  const uint g = group_index();
  uint tj = uint((sqrt(8.0 * float(g) + 1.0) - 1.0) * 0.5);
  while ((tj + 1u) * (tj + 2u) / 2u <= g) ++tj;
  while (tj * (tj + 1u) / 2u > g) --tj;
  const uint ti = g - tj * (tj + 1u) / 2u;
  const uint i0 = ti * TILE, j0 = tj * TILE;
  if (j0 >= p.C) return;  // uniform per workgroup
  const uint sm = (sub >> 1) * SUB;
  const uint sn = (sub & 1u) * SUB;
  const bool below = ti == tj && sm > sn;  // uniform per subgroup: this quarter lies under the diagonal

#ifdef EMULATE_COOP
  // acc[(4i + j) · 8 + q]: element lane + 32q of accumulator (i, j); the loops' bounds are offset by
  // `rolled`, a zero the compiler cannot fold (C > 0 is validated), so that they stay loops.
  const uint rolled = p.C == 0u ? 1u : 0u;
  float acc[128];
  for (uint f = rolled; f < 128u + rolled; ++f) acc[f] = 0.0;
#else
  fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> acc[4][4];
  [[unroll]] for (uint i = 0u; i < 4u; ++i)
    [[unroll]] for (uint j = 0u; j < 4u; ++j) acc[i][j] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>(0.0);
#endif

  // One pass per BK tokens: lavapipe's loop limit (gpu/ops/op_support.h) allows about a million.
  load_step(t, i0, j0, 0u);
  store_step(t);
  barrier();
  for (uint t0 = 0u; t0 < p.T; t0 += BK) {
    const bool more = t0 + BK < p.T;  // uniform
    if (more) load_step(t, i0, j0, t0 + BK);  // in flight while the tensor cores work below
    if (!below) {
#ifdef EMULATE_COOP
      // acc[i][j] += Aᵢ·Bⱼ over the three (hi, lo) pairs, A column-major from the i panel
      // (A(r, k) at k · LDC + sm + 16i + r), B row-major from the j panel (B(k, c) at
      // k · LDC + sn + 16j + c): what the loads below read.
      for (uint f = rolled; f < 128u + rolled; ++f) {
        const uint i = f >> 5, j = (f >> 3) & 3u, e = lane + 32u * (f & 7u);
        const uint a_row = sm + FRAG * i + e / FRAG;
        const uint b_col = sn + FRAG * j + (e & (FRAG - 1u));
        float sum = acc[f];
        for (uint k = rolled; k < BK + rolled; ++k) {
          const float a_hi = HALF_AT(ah, k * LDC + a_row), a_lo = HALF_AT(al, k * LDC + a_row);
          const float b_hi = HALF_AT(bh, k * LDC + b_col), b_lo = HALF_AT(bl, k * LDC + b_col);
          sum = fma(a_hi, b_hi, sum);
          sum = fma(a_hi, b_lo, sum);
          sum = fma(a_lo, b_hi, sum);
        }
        acc[f] = sum;
      }
#else
      fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a_hi[4], a_lo[4];
      [[unroll]] for (uint i = 0u; i < 4u; ++i) {
        coopMatLoadNV(a_hi[i], ah, (sm + FRAG * i) / 8u, LDC4, true);
        coopMatLoadNV(a_lo[i], al, (sm + FRAG * i) / 8u, LDC4, true);
      }
      [[unroll]] for (uint j = 0u; j < 4u; ++j) {
        fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> b_hi, b_lo;
        coopMatLoadNV(b_hi, bh, (sn + FRAG * j) / 8u, LDC4, false);
        coopMatLoadNV(b_lo, bl, (sn + FRAG * j) / 8u, LDC4, false);
        [[unroll]] for (uint i = 0u; i < 4u; ++i) {
          acc[i][j] = coopMatMulAddNV(a_hi[i], b_hi, acc[i][j]);
          acc[i][j] = coopMatMulAddNV(a_hi[i], b_lo, acc[i][j]);
          acc[i][j] = coopMatMulAddNV(a_lo[i], b_hi, acc[i][j]);
        }
      }
#endif
    }
    barrier();
    if (more) {
      store_step(t);
      barrier();
    }
  }
  if (below) return;  // after the last barrier

  // Accumulator (i, j)'s element e (row-major in its 16×16) goes to H[r][c] and H[c][r], scaled
  // back; in a diagonal tile only r ≤ c is written, so that H is exactly symmetric (the two
  // halves of a diagonal tile sum their hi·lo and lo·hi products in other orders).
#define H_WRITE(i, j, e, value)                                    \
  {                                                                \
    const uint r = i0 + sm + FRAG * (i) + (e) / FRAG;              \
    const uint c = j0 + sn + FRAG * (j) + ((e) & (FRAG - 1u));     \
    if (r < p.C && c < p.C && (ti != tj || r <= c)) {              \
      const float v = (value) * (1.0 / s[r]) * (1.0 / s[c]);       \
      store(r, c, v);                                              \
      if (r != c) store(c, r, v);                                  \
    }                                                              \
  }
#ifdef EMULATE_COOP
  for (uint f = rolled; f < 128u + rolled; ++f) H_WRITE(f >> 5, (f >> 3) & 3u, lane + 32u * (f & 7u), acc[f])
#else
  const uint scratch = sub * FRAG * FRAG;
  [[unroll]] for (uint i = 0u; i < 4u; ++i) {
    [[unroll]] for (uint j = 0u; j < 4u; ++j) {
      coopMatStoreNV(acc[i][j], cs, scratch, FRAG, false);
      subgroupMemoryBarrierShared();
      subgroupBarrier();
      for (uint e = lane; e < FRAG * FRAG; e += 32u) H_WRITE(i, j, e, cs[scratch + e])
      subgroupBarrier();  // every lane has read the scratch before the next accumulator overwrites it
    }
  }
#endif
}
