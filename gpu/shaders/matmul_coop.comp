#version 450
// matmul_coop: Y[M,N] = X[M,K] · W[N,K]ᵀ on cooperative matrices (tensor cores on NVIDIA): the same
// product, bindings and push constants as matmul.comp, one variant per weight format likewise
// (matmul_coop_f16 …), but X comes in fp16 (XH [M, Kp], Kp = K rounded up to 8, zero-padded:
// matmul_coop_x.comp, recorded before this shader by gpu/ops/matmul_op.cpp), the dequantized W is
// rounded to fp16 on its way into shared memory, and the sums are fp32 (16×16×16 fp16 · fp16 + fp32 subgroup matrices, GL_NV_cooperative_matrix;
// the device must list that shape and have 32-wide subgroups: DeviceInfo::cooperative_matrix).
// Each workgroup (128 invocations: four subgroups of 32) computes a 128×128 tile of Y; subgroup s
// owns the 64×64 quarter at rows 64·(s / 2), columns 64·(s % 2), as 4×4 accumulators, so each
// k-step of 16 takes 4 + 4 matrix loads for 16 multiply-adds. K is walked 32 at a time: the X tile
// (128 × 32) and the W tile (128 rows × 32) are staged into shared memory as fp16, held as uvec4
// (eight halves, as NVIDIA's cooperative-matrix samples stage them: one 16-byte store per eight
// values, matrix loads addressed in uvec4), rows padded to 40 halves (80 bytes: every matrix load
// starts on a 16-byte boundary, as the extension requires, and consecutive rows fall in different
// banks). The next step's tiles are read from memory into registers (as packed fp16 pairs) while
// the tensor cores work on this one, so one shared buffer per operand hides the memory latency. X
// is read as one aligned 16-byte run of eight halves per row and step (what it is staged as, with
// nothing to convert); W through dequant8 (common/dequant.glsl), eight weights per call — fp16
// weights, where K % 8 = 0, as their stored 16-byte runs. X's tile is read as a row-major 16×16 A
// (m, k) and W's as a column-major B (k, n) = W[n, k], so neither is transposed. A workgroup whose
// tile lies inside Y (and N % 4 = 0, for the 16-byte alignment of the rows) stores its accumulators
// straight to Y; one on an edge passes each through a per-subgroup 16×16 scratch and writes element
// by element with bounds checks. Values of X beyond fp16's range (±65504) are ±inf in XH. Group counts:
// ceil(N / 128) × ceil(M / 128).
//
// EMULATE_COOP (the matmul_coop_emulated_* variants, which only tests use) replaces the four
// cooperative-matrix operations by plain code with the semantics the extension defines, so that
// every device, lavapipe included, checks this shader's tiling, staging, prefetch, indexing and
// edges: a "subgroup" is 32 consecutive invocations whatever the device's width, lane l holds
// elements l + 32q (q = 0..7, row-major) of each 16×16 accumulator, a multiply-add reads its A
// (row-major) and B (column-major) straight from the staged tiles (the same uvec4 tiles as the real
// variant's, element by element) at the offsets and stride the real loads get, the fp16 values are
// fp32 values rounded to fp16 in integer arithmetic (NVIDIA's compiler folds float(float16_t(v)) to
// v), and each lane writes the accumulator elements it holds to Y directly (through the same
// Y_WRITE as the scratch's copy).
//
// PROBE_MMA and PROBE_LOADS (matmul_coop_probe_*_f16, for matmul_bench: record_matmul_coop_probe)
// cut the k loop to one half of its work to time it alone: PROBE_MMA keeps the matrix loads from
// shared memory and the products on the first tiles, staged once (no memory reads or staging in
// the loop; its barriers stay), PROBE_LOADS the memory reads, fp16 conversion, staging and barriers
// without the products (a read of the staged tiles at the end keeps the staging alive). Y's values
// mean nothing there.
#extension GL_EXT_control_flow_attributes : require
#ifdef EMULATE_COOP
#include "common/exact_float.glsl"
uint pack_halves(float a, float b) { return f32_to_f16_bits(a) | (f32_to_f16_bits(b) << 16); }
// Half e of a staged tile (eight to a uvec4, the lower half of each word first), as an fp32 value.
#define HALF_AT(tile, e) f16_bits_to_f32(((tile)[(e) >> 3u][((e) >> 1u) & 3u] >> (((e) & 1u) << 4u)) & 0xFFFFu)
#else
#extension GL_NV_cooperative_matrix : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
uint pack_halves(float a, float b) { return packFloat2x16(f16vec2(float16_t(a), float16_t(b))); }
#endif

#define TILE 128u
#define BK 32u
#define LDS 40u      // halves per staged row: BK + 8
#define LDS4 5u      // the same in uvec4
#define SUB 64u      // rows and columns of Y per subgroup
#define FRAG 16u     // the cooperative matrices' side

layout(local_size_x = 128, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer XhBuf { uvec4 xh8[]; };  // XH, eight halves at a time
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

shared uvec4 xs[TILE * LDS4];  // half m · LDS + k: X[m0 + m, k0 + k]
shared uvec4 ws[TILE * LDS4];  // half n · LDS + k: W[n0 + n, k0 + k]
#ifndef EMULATE_COOP
shared float cs[4u * FRAG * FRAG];  // one 16×16 accumulator per subgroup on its way out of an edge tile
#endif

// Staging roles, both operands alike: invocation t holds columns 8·(t % 4) .. +7 of rows t / 4 + 32r
// (r = 0..3) as fp16 pairs, xr[4r .. 4r + 3] and wr[4r .. 4r + 3] — one uvec4 of a staged tile
// each; a subgroup reads eight rows' 128 (X) or 64 (W) consecutive bytes.
uint xr[16];
uint wr[16];

// The tiles at k0 from memory into xr and wr (zeros outside X and W).
void load_tile(uint t, uint m0, uint n0, uint k0, WeightParams wp) {
  const uint xc = (t & 3u) * 8u, xm = t >> 2;
  const uint kp = (p.K + 7u) & ~7u;  // XH's row: a whole number of runs, zeros past K
  [[unroll]] for (uint r = 0u; r < 4u; ++r) {
    const uint m = m0 + xm + 32u * r, k = k0 + xc;
    const uvec4 v = (m < p.M && k < kp) ? xh8[(m * kp + k) >> 3] : uvec4(0u);
    xr[4u * r] = v.x;
    xr[4u * r + 1u] = v.y;
    xr[4u * r + 2u] = v.z;
    xr[4u * r + 3u] = v.w;
  }
  const uint wk = (t & 3u) * 8u, wn = t >> 2;
  [[unroll]] for (uint r = 0u; r < 4u; ++r) {
    const uint n = n0 + wn + 32u * r;
#if defined(WEIGHT_F16)
    if (n < p.N && (p.K & 7u) == 0u && k0 + wk + 8u <= p.K) {  // the stored halves are the staged ones
      const uvec4 q = weight_quads[(n * p.K + k0 + wk) >> 3];
      wr[4u * r] = q.x;
      wr[4u * r + 1u] = q.y;
      wr[4u * r + 2u] = q.z;
      wr[4u * r + 3u] = q.w;
      continue;
    }
#endif
    float v[8];
    if (n < p.N) {
      dequant8(wp, n, k0 + wk, v);
    } else {
      [[unroll]] for (uint i = 0u; i < 8u; ++i) v[i] = 0.0;
    }
    [[unroll]] for (uint i = 0u; i < 4u; ++i) wr[4u * r + i] = pack_halves(v[2u * i], v[2u * i + 1u]);
  }
}

// xr and wr into the shared tiles: one 16-byte store per row and operand.
void store_tile(uint t) {
  [[unroll]] for (uint r = 0u; r < 4u; ++r) {
    const uint at = ((t >> 2) + 32u * r) * LDS4 + (t & 3u);
    xs[at] = uvec4(xr[4u * r], xr[4u * r + 1u], xr[4u * r + 2u], xr[4u * r + 3u]);
    ws[at] = uvec4(wr[4u * r], wr[4u * r + 1u], wr[4u * r + 2u], wr[4u * r + 3u]);
  }
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
  const uint n0 = gl_WorkGroupID.x * TILE;
  const uint m0 = gl_WorkGroupID.y * TILE;
  const uint sm = (sub >> 1) * SUB;
  const uint sn = (sub & 1u) * SUB;
  const WeightParams wp = WeightParams(p.K, p.row_stride, p.bits, p.group, p.groups, p.grid_offset);

#ifdef EMULATE_COOP
  // acc[(4i + j) · 8 + q]: element lane + 32q of accumulator (i, j). The loops over it run to
  // bounds offset by `rolled`, a zero the compiler cannot fold (M > 0 is validated), so that they
  // stay loops: fully unrolled, lavapipe takes many seconds to compile this variant.
  const uint rolled = p.M == 0u ? 1u : 0u;
  float acc[128];
  for (uint f = rolled; f < 128u + rolled; ++f) acc[f] = 0.0;
#else
  fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> acc[4][4];
  [[unroll]] for (uint i = 0u; i < 4u; ++i)
    [[unroll]] for (uint j = 0u; j < 4u; ++j) acc[i][j] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>(0.0);
#endif

  load_tile(t, m0, n0, 0u, wp);
  store_tile(t);
  barrier();
  for (uint k0 = 0u; k0 < p.K; k0 += BK) {
    const bool more = k0 + BK < p.K;  // uniform
#ifndef PROBE_MMA
    if (more) load_tile(t, m0, n0, k0 + BK, wp);  // in flight while the tensor cores work below
#endif
#ifndef PROBE_LOADS

    [[unroll]] for (uint kk = 0u; kk < BK; kk += FRAG) {
#ifdef EMULATE_COOP
      // acc[i][j] += A_i · B_j with A_i = half (sm + 16i + r) · LDS + kk + c of xs (row-major, r,
      // c < 16) and B_j = half (sn + 16j + c) · LDS + kk + r of ws (column-major): what the loads
      // below read.
      for (uint f = rolled; f < 128u + rolled; ++f) {
        const uint i = f >> 5, j = (f >> 3) & 3u, e = lane + 32u * (f & 7u);
        const uint a_row = (sm + FRAG * i + e / FRAG) * LDS + kk;
        const uint b_col = (sn + FRAG * j + (e & (FRAG - 1u))) * LDS + kk;
        float sum = acc[f];
        for (uint c = rolled; c < FRAG + rolled; ++c) sum = fma(HALF_AT(xs, a_row + c), HALF_AT(ws, b_col + c), sum);
        acc[f] = sum;
      }
#else
      fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a[4];
      [[unroll]] for (uint i = 0u; i < 4u; ++i) coopMatLoadNV(a[i], xs, (sm + FRAG * i) * LDS4 + kk / 8u, LDS4, false);
      [[unroll]] for (uint j = 0u; j < 4u; ++j) {
        fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> b;
        coopMatLoadNV(b, ws, (sn + FRAG * j) * LDS4 + kk / 8u, LDS4, true);
        [[unroll]] for (uint i = 0u; i < 4u; ++i) acc[i][j] = coopMatMulAddNV(a[i], b, acc[i][j]);
      }
#endif
    }
#endif  // PROBE_LOADS
    barrier();
    if (more) {
#ifndef PROBE_MMA
      store_tile(t);
#endif
      barrier();
    }
  }
#ifdef PROBE_LOADS
  if (xs[t].x == 0x7fc00001u && ws[t].w == 0x7fc00001u) y[0] = 1.0;  // the staged tiles are read
#endif

  // Accumulator (i, j)'s element e (row-major in its 16×16) goes to Y here, where inside Y.
#define Y_WRITE(i, j, e, value)                                  \
  {                                                              \
    const uint m = m0 + sm + FRAG * (i) + (e) / FRAG;            \
    const uint n = n0 + sn + FRAG * (j) + ((e) & (FRAG - 1u));   \
    if (m < p.M && n < p.N) y[m * p.N + n] = (value);            \
  }
#ifdef EMULATE_COOP
  // Each lane writes the elements it holds.
  for (uint f = rolled; f < 128u + rolled; ++f) Y_WRITE(f >> 5, (f >> 3) & 3u, lane + 32u * (f & 7u), acc[f])
#else
  if (m0 + TILE <= p.M && n0 + TILE <= p.N && (p.N & 3u) == 0u) {  // uniform: the whole tile, rows on 16 bytes
    [[unroll]] for (uint i = 0u; i < 4u; ++i)
      [[unroll]] for (uint j = 0u; j < 4u; ++j)
        coopMatStoreNV(acc[i][j], y, (m0 + sm + FRAG * i) * p.N + n0 + sn + FRAG * j, p.N, false);
    return;
  }
  const uint scratch = sub * FRAG * FRAG;
  [[unroll]] for (uint i = 0u; i < 4u; ++i) {
    [[unroll]] for (uint j = 0u; j < 4u; ++j) {
      coopMatStoreNV(acc[i][j], cs, scratch, FRAG, false);
      subgroupMemoryBarrierShared();
      subgroupBarrier();
      for (uint e = lane; e < FRAG * FRAG; e += 32u) Y_WRITE(i, j, e, cs[scratch + e])
      subgroupBarrier();  // every lane has read the scratch before the next accumulator overwrites it
    }
  }
#endif
}
