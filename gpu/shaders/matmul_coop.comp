#version 450
// matmul_coop: Y[M,N] = X[M,K] · W[N,K]ᵀ on cooperative matrices (tensor cores on NVIDIA): the same
// product, bindings and push constants as matmul.comp, one variant per weight format likewise
// (matmul_coop_f16 …), with X and the dequantized W rounded to fp16 on their way into shared memory
// and fp32 accumulation (16×16×16 fp16 · fp16 + fp32 subgroup matrices, GL_NV_cooperative_matrix;
// the device must list that shape and have 32-wide subgroups: DeviceInfo::cooperative_matrix).
// Each workgroup (256 invocations: eight subgroups of 32) computes a 128×128 tile of Y; subgroup s
// owns its 64×32 quarter-column (rows 64·(s / 4), columns 32·(s % 4)) as 4×2 accumulators. K is
// walked 32 at a time: the X tile (128 × 32) and the W tile (128 rows × 32) are staged into shared
// memory as fp16, rows padded to 40 halves (80 bytes: every matrix load starts on a 16-byte
// boundary, as the extension requires, and consecutive rows fall in different banks), then each
// subgroup runs two k-steps of 4 + 2 matrix loads and 8 multiply-adds. X's tile is read as a
// row-major 16×16 A (m, k) and W's as a column-major B (k, n) = W[n, k], so neither is transposed.
// The accumulators leave through a per-subgroup 16×16 scratch so that tiles at the edges of Y are
// written element by element with bounds checks. Values of X beyond fp16's range (±65504) become
// ±inf. Group counts: ceil(N / 128) × ceil(M / 128).
//
// EMULATE_COOP (the matmul_coop_emulated_* variants, which only tests use) replaces the four
// cooperative-matrix operations by plain code with the semantics the extension defines, so that
// every device, lavapipe included, checks this shader's tiling, staging, indexing and edges: a
// "subgroup" is 32 consecutive invocations whatever the device's width, lane l holds elements
// l + 32q (q = 0..7, row-major) of each 16×16 accumulator, a multiply-add reads its A (row-major)
// and B (column-major) straight from the staged tiles at the offsets and stride the real loads
// get, the fp16 tiles are fp32 values rounded to fp16 (to_half), and each lane writes the accumulator
// elements it holds to Y directly (through the same Y_WRITE as the scratch's copy).
#extension GL_EXT_control_flow_attributes : require
#ifdef EMULATE_COOP
#define HALF float
#include "common/exact_float.glsl"
// v rounded to fp16 in integer arithmetic: NVIDIA's compiler folds both float(float16_t(v)) and
// unpackHalf2x16(packHalf2x16(v)) to v, which left this variant's products fp32 on that device.
float to_half(float v) { return f16_bits_to_f32(f32_to_f16_bits(v)); }
#else
#extension GL_NV_cooperative_matrix : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#define HALF float16_t
#define to_half(v) float16_t(v)
#endif

#define TILE 128u
#define BK 32u
#define LDS 40u      // halves per staged row: BK + 8
#define SUB_M 64u    // rows of Y per subgroup
#define SUB_N 32u    // columns of Y per subgroup
#define FRAG 16u     // the cooperative matrices' side

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
#define WEIGHT_BINDING 1
#include "common/dequant.glsl"
layout(std430, set = 0, binding = 2) writeonly buffer YBuf { float y[]; };

// Mirrored by MatmulPush in gpu/ops/matmul_op.cpp (the same block as matmul.comp's).
layout(push_constant) uniform Params {
  uint M;
  uint N;
  uint K;
  uint row_stride;
  uint bits;
  uint group;
  uint groups;
  uint grid_offset;
} p;

shared HALF xs[TILE * LDS];  // xs[m · LDS + k] = X[m0 + m, k0 + k]
shared HALF ws[TILE * LDS];  // ws[n · LDS + k] = W[n0 + n, k0 + k]
#ifndef EMULATE_COOP
shared float cs[8u * FRAG * FRAG];  // one 16×16 accumulator per subgroup on its way out
#endif

void main() {
  const uint t = gl_LocalInvocationID.x;
#ifdef EMULATE_COOP
  const uint sub = t / 32u;
  const uint lane = t & 31u;
#else
  const uint sub = gl_SubgroupID;
  const uint lane = gl_SubgroupInvocationID;
#endif
  const uint n0 = gl_WorkGroupID.x * TILE;
  const uint m0 = gl_WorkGroupID.y * TILE;
  const uint sm = (sub >> 2) * SUB_M;
  const uint sn = (sub & 3u) * SUB_N;
  const WeightParams wp = WeightParams(p.K, p.row_stride, p.bits, p.group, p.groups, p.grid_offset);

  // Staging roles. X: invocation t copies column t % 32 of rows t / 32 + 8r (r = 0..15), so a
  // subgroup reads 32 consecutive floats of one row. W: two invocations per row, sixteen weights each.
  const uint x_k = t & (BK - 1u);
  const uint x_m = t / BK;
  const uint w_n = t >> 1;
  const uint w_k = (t & 1u) << 4;
  const bool w_row_ok = n0 + w_n < p.N;

#ifdef EMULATE_COOP
  // acc[(2i + j) · 8 + q]: element lane + 32q of accumulator (i, j). The loops over it run to
  // bounds offset by `rolled`, a zero the compiler cannot fold (M > 0 is validated), so that they
  // stay loops: fully unrolled, lavapipe takes 15 s to compile this variant.
  const uint rolled = p.M == 0u ? 1u : 0u;
  float acc[64];
  for (uint f = rolled; f < 64u + rolled; ++f) acc[f] = 0.0;
#else
  fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> acc[4][2];
  [[unroll]] for (uint i = 0u; i < 4u; ++i)
    [[unroll]] for (uint j = 0u; j < 2u; ++j) acc[i][j] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>(0.0);
#endif

  for (uint k0 = 0u; k0 < p.K; k0 += BK) {
    const uint k = k0 + x_k;
    [[unroll]] for (uint r = 0u; r < TILE / 8u; ++r) {
      const uint m = x_m + 8u * r;
      xs[m * LDS + x_k] = to_half((m0 + m < p.M && k < p.K) ? x[(m0 + m) * p.K + k] : 0.0);
    }
    [[unroll]] for (uint h = 0u; h < 2u; ++h) {
      float v[8];
      if (w_row_ok) {
        dequant8(wp, n0 + w_n, k0 + w_k + 8u * h, v);
      } else {
        [[unroll]] for (uint i = 0u; i < 8u; ++i) v[i] = 0.0;
      }
      [[unroll]] for (uint i = 0u; i < 8u; ++i) ws[w_n * LDS + w_k + 8u * h + i] = to_half(v[i]);
    }
    barrier();

    [[unroll]] for (uint kk = 0u; kk < BK; kk += FRAG) {
#ifdef EMULATE_COOP
      // acc[i][j] += A_i · B_j with A_i = xs[(sm + 16i + r) · LDS + kk + c] (row-major, r, c < 16)
      // and B_j = ws[(sn + 16j + c) · LDS + kk + r] (column-major): what the loads below read.
      for (uint f = rolled; f < 64u + rolled; ++f) {
        const uint i = f >> 4, j = (f >> 3) & 1u, e = lane + 32u * (f & 7u);
        const uint a_row = (sm + FRAG * i + e / FRAG) * LDS + kk;
        const uint b_col = (sn + FRAG * j + (e & (FRAG - 1u))) * LDS + kk;
        float sum = acc[f];
        for (uint c = rolled; c < FRAG + rolled; ++c) sum = fma(xs[a_row + c], ws[b_col + c], sum);
        acc[f] = sum;
      }
#else
      fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a[4];
      fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> b[2];
      [[unroll]] for (uint i = 0u; i < 4u; ++i) coopMatLoadNV(a[i], xs, (sm + FRAG * i) * LDS + kk, LDS, false);
      [[unroll]] for (uint j = 0u; j < 2u; ++j) coopMatLoadNV(b[j], ws, (sn + FRAG * j) * LDS + kk, LDS, true);
      [[unroll]] for (uint i = 0u; i < 4u; ++i)
        [[unroll]] for (uint j = 0u; j < 2u; ++j) acc[i][j] = coopMatMulAddNV(a[i], b[j], acc[i][j]);
#endif
    }
    barrier();
  }

  // Accumulator (i, j)'s element e (row-major in its 16×16) goes to Y here, where inside Y.
#define Y_WRITE(i, j, e, value)                                  \
  {                                                              \
    const uint m = m0 + sm + FRAG * (i) + (e) / FRAG;            \
    const uint n = n0 + sn + FRAG * (j) + ((e) & (FRAG - 1u));   \
    if (m < p.M && n < p.N) y[m * p.N + n] = (value);            \
  }
#ifdef EMULATE_COOP
  // Each lane writes the elements it holds.
  for (uint f = rolled; f < 64u + rolled; ++f) Y_WRITE(f >> 4, (f >> 3) & 1u, lane + 32u * (f & 7u), acc[f])
#else
  const uint scratch = sub * FRAG * FRAG;
  [[unroll]] for (uint i = 0u; i < 4u; ++i) {
    [[unroll]] for (uint j = 0u; j < 2u; ++j) {
      coopMatStoreNV(acc[i][j], cs, scratch, FRAG, false);
      subgroupMemoryBarrierShared();
      subgroupBarrier();
      for (uint e = lane; e < FRAG * FRAG; e += 32u) Y_WRITE(i, j, e, cs[scratch + e])
      subgroupBarrier();  // every lane has read the scratch before the next accumulator overwrites it
    }
  }
#endif
}
