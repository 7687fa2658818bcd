#version 450
// hessian_coop: H[C,C] = beta·H + alpha·XᵀX (hessian_accumulate.comp's contract) on cooperative
// matrices (tensor cores on NVIDIA; 16×16×16 fp16 · fp16 + fp32, GL_NV_cooperative_matrix, as
// matmul_coop.comp) at close to fp32 accuracy: each value, first scaled by its channel's power of
// two s[c] (hessian_scale.comp, so that no channel leaves fp16's range), is split into
// hi = fp16(v) and lo = fp16(v − hi) — v = hi + lo to about 2⁻²² relative — and a tile's sum is
// hiᵀhi + hiᵀlo + loᵀhi (the loᵀlo term, 2⁻²² of the rest, dropped), each fp16 product exact
// in the fp32 accumulator; the result is scaled back by 1 / (s_i s_j). Three products per tile,
// only the tiles on or above the diagonal (mirrored when written): 1.5 × one product's work.
// Each workgroup (eight subgroups of 32) computes a 128×128 tile of H, subgroup s its 64×32
// part (rows 64·(s / 4), columns 32·(s % 4)) as 4×2 accumulators. Tokens are walked BK at a time:
// the two channel panels of X, split, are staged in shared memory as fp16 [channel][token], rows
// padded to LDS halves (48 bytes: 16-byte aligned loads); the i panel loads as a row-major A
// (i, t), the j panel as a column-major B (t, j). Groups along the upper triangle of tiles
// (common/grid.glsl group_index).
//
// EMULATE_COOP (hessian_coop_emulated; tests) writes the matrix operations out as
// matmul_coop.comp's variant does — lane l of a "subgroup" of 32 consecutive invocations holds
// elements l + 32q of each accumulator, a multiply-add reads A and B straight from the staged
// tiles at the offsets and strides the real loads get (the three products of one k in turn, where
// the real variant adds each product over all k), with the fp16 values as fp32 — so every device
// checks the staging, splitting, scaling, tiling and mirroring.
#extension GL_EXT_control_flow_attributes : require
#ifdef EMULATE_COOP
#define HALF float
#else
#extension GL_NV_cooperative_matrix : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#define HALF float16_t
#endif
#include "common/exact_float.glsl"
// v rounded to fp16, as an fp32 value, in integer arithmetic: NVIDIA's compiler folds
// float(float16_t(v)) (and unpackHalf2x16(packHalf2x16(v))) to v, which made every lo part zero there.
float to_half(float v) { return f16_bits_to_f32(f32_to_f16_bits(v)); }

#define TILE 128u
#define BK 16u
#define LDS 24u    // halves per staged row: BK + 8
#define SUB_M 64u  // rows of the tile per subgroup
#define SUB_N 32u  // columns of the tile per subgroup
#define FRAG 16u   // the cooperative matrices' side

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) buffer HBuf { float h[]; };
layout(std430, set = 0, binding = 2) readonly buffer SBuf { float s[]; };

// Mirrored by HessianPush in gpu/ops/hessian_op.cpp (hessian_accumulate.comp's block).
layout(push_constant) uniform Params {
  uint T;
  uint C;
  float alpha;
  float beta;
} p;

#ifdef EMULATE_COOP
// The (hi, lo) pairs packed in one word each (fp32 copies of the four fp16 tiles would pass the
// 32 KiB of shared memory lavapipe offers), at the same offsets as the real variant's tiles.
shared uint ap[TILE * LDS];
shared uint bp[TILE * LDS];
#else
shared HALF ah[TILE * LDS];  // ah[r · LDS + k] = hi(s · X[t0 + k, i0 + r]); al: the lo parts
shared HALF al[TILE * LDS];
shared HALF bh[TILE * LDS];  // bh[c · LDS + k] = hi(s · X[t0 + k, j0 + c]); bl: the lo parts
shared HALF bl[TILE * LDS];
shared float cs[8u * FRAG * FRAG];  // one 16×16 accumulator per subgroup on its way out
#endif

void store(uint i, uint j, float acc) {
  const uint o = i * p.C + j;
  h[o] = p.beta == 0.0 ? p.alpha * acc : p.beta * h[o] + p.alpha * acc;
}

// Element (k, r) of a panel, the value at token t0 + k and channel c0 + r, scaled and split: (hi, lo).
vec2 split(uint t0, uint c0, uint k, uint r) {
  const uint c = c0 + r;
  const float v = (t0 + k < p.T && c < p.C) ? x[(t0 + k) * p.C + c] * s[c] : 0.0;
  const float hi = to_half(v);
  return vec2(hi, to_half(v - hi));
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
  const uint sm = (sub >> 2) * SUB_M;
  const uint sn = (sub & 3u) * SUB_N;

  // Staging: invocation t copies channel t % 128 of tokens t / 128 + 2q (q = 0..7), so a subgroup
  // reads 32 consecutive floats of one token.
  const uint st_r = t & (TILE - 1u);
  const uint st_k = t / TILE;

#ifdef EMULATE_COOP
  // acc[(2i + j) · 8 + q]: element lane + 32q of accumulator (i, j); the loops' bounds are offset by
  // `rolled`, a zero the compiler cannot fold (C > 0 is validated), so that they stay loops.
  const uint rolled = p.C == 0u ? 1u : 0u;
  float acc[64];
  for (uint f = rolled; f < 64u + rolled; ++f) acc[f] = 0.0;
#else
  fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> acc[4][2];
  [[unroll]] for (uint i = 0u; i < 4u; ++i)
    [[unroll]] for (uint j = 0u; j < 2u; ++j) acc[i][j] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>(0.0);
#endif

  // One pass per BK tokens: lavapipe's loop limit (gpu/ops/op_support.h) allows about a million.
  for (uint t0 = 0u; t0 < p.T; t0 += BK) {
    [[unroll]] for (uint q = 0u; q < BK / 2u; ++q) {
      const uint k = st_k + 2u * q, o = st_r * LDS + k;
      const vec2 a = split(t0, i0, k, st_r), b = split(t0, j0, k, st_r);
#ifdef EMULATE_COOP
      ap[o] = packHalf2x16(a);
      bp[o] = packHalf2x16(b);
#else
      ah[o] = HALF(a.x);
      al[o] = HALF(a.y);
      bh[o] = HALF(b.x);
      bl[o] = HALF(b.y);
#endif
    }
    barrier();
#ifdef EMULATE_COOP
    // acc[i][j] += Aᵢ·Bⱼ over the three (hi, lo) pairs, A row-major from the i panel, B
    // column-major from the j panel: what the loads below read.
    for (uint f = rolled; f < 64u + rolled; ++f) {
      const uint i = f >> 4, j = (f >> 3) & 1u, e = lane + 32u * (f & 7u);
      const uint a_row = (sm + FRAG * i + e / FRAG) * LDS;
      const uint b_col = (sn + FRAG * j + (e & (FRAG - 1u))) * LDS;
      float sum = acc[f];
      for (uint c = rolled; c < FRAG + rolled; ++c) {
        const vec2 a = unpackHalf2x16(ap[a_row + c]), b = unpackHalf2x16(bp[b_col + c]);
        sum = fma(a.x, b.x, sum);
        sum = fma(a.x, b.y, sum);
        sum = fma(a.y, b.x, sum);
      }
      acc[f] = sum;
    }
#else
    fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a_hi[4], a_lo[4];
    fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> b_hi[2], b_lo[2];
    [[unroll]] for (uint i = 0u; i < 4u; ++i) {
      coopMatLoadNV(a_hi[i], ah, (sm + FRAG * i) * LDS, LDS, false);
      coopMatLoadNV(a_lo[i], al, (sm + FRAG * i) * LDS, LDS, false);
    }
    [[unroll]] for (uint j = 0u; j < 2u; ++j) {
      coopMatLoadNV(b_hi[j], bh, (sn + FRAG * j) * LDS, LDS, true);
      coopMatLoadNV(b_lo[j], bl, (sn + FRAG * j) * LDS, LDS, true);
    }
    [[unroll]] for (uint i = 0u; i < 4u; ++i)
      [[unroll]] for (uint j = 0u; j < 2u; ++j) {
        acc[i][j] = coopMatMulAddNV(a_hi[i], b_hi[j], acc[i][j]);
        acc[i][j] = coopMatMulAddNV(a_hi[i], b_lo[j], acc[i][j]);
        acc[i][j] = coopMatMulAddNV(a_lo[i], b_hi[j], acc[i][j]);
      }
#endif
    barrier();
  }

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
  for (uint f = rolled; f < 64u + rolled; ++f) H_WRITE(f >> 4, (f >> 3) & 1u, lane + 32u * (f & 7u), acc[f])
#else
  const uint scratch = sub * FRAG * FRAG;
  [[unroll]] for (uint i = 0u; i < 4u; ++i) {
    [[unroll]] for (uint j = 0u; j < 2u; ++j) {
      coopMatStoreNV(acc[i][j], cs, scratch, FRAG, false);
      subgroupMemoryBarrierShared();
      subgroupBarrier();
      for (uint e = lane; e < FRAG * FRAG; e += 32u) H_WRITE(i, j, e, cs[scratch + e])
      subgroupBarrier();  // every lane has read the scratch before the next accumulator overwrites it
    }
  }
#endif
}
