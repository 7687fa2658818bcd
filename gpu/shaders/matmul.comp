#version 450
// matmul: Y[M,N] = X[M,K] · W[N,K]ᵀ, W row-major [out, in] as the core's Linear stores it, X and Y
// fp32, W in any weight format, dequantized on the fly (common/dequant.glsl; one variant per format,
// gpu/CMakeLists.txt: matmul_f32, matmul_f16, matmul_bf16, matmul_q4_0 … matmul_q6_k, matmul_int).
// Each workgroup (16×16 invocations) computes a 128×128 tile of Y, each invocation an 8×8 block of
// it (rows ty + 16i, columns tx + 16j, so neighbouring invocations write neighbouring columns): per
// k, 16 staged reads for 64 multiply-adds. K is walked 16 at a time: the X tile (128 rows × 16) is
// copied to shared memory and the W tile (128 rows × 16) is dequantized into shared memory once,
// eight consecutive weights per invocation, then every invocation accumulates its 64 outputs in fp32
// (each over k in order, with fused multiply-adds). Both tiles are stored k-major with a skew
// (column c of row k at k·128 + (c + k) mod 128) so that neither the stores nor the loads of a warp
// hit the same bank twice, without padding: the two tiles take exactly 16 KiB, the least any
// Vulkan device offers. Group counts: ceil(N / 128) × ceil(M / 128).

#define LOCAL 16u
#define TILE 128u  // LOCAL × 8 outputs per invocation along each of M and N
#define BK 16u
#define OUT 8u     // outputs per invocation along each of M and N

layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
#define WEIGHT_BINDING 1
#include "common/dequant.glsl"
layout(std430, set = 0, binding = 2) writeonly buffer YBuf { float y[]; };

// Mirrored by MatmulPush in gpu/ops/matmul_op.cpp; the last five fields are WeightParams'.
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

shared float xs[BK * TILE];  // xs[at(k, m)] = X[m0 + m, k0 + k]
shared float ws[BK * TILE];  // ws[at(k, n)] = W[n0 + n, k0 + k]

uint at(uint k, uint c) { return k * TILE + ((c + k) & (TILE - 1u)); }

void main() {
  const uint tx = gl_LocalInvocationID.x;
  const uint ty = gl_LocalInvocationID.y;
  const uint t = ty * LOCAL + tx;
  const uint n0 = gl_WorkGroupID.x * TILE;
  const uint m0 = gl_WorkGroupID.y * TILE;
  const WeightParams wp = WeightParams(p.K, p.row_stride, p.bits, p.group, p.groups, p.grid_offset);

  // Staging roles. X: invocation t copies column t % 16 of rows t / 16 + 16r (r = 0..7), so a warp
  // reads 16 consecutive floats of each of two rows. W: two invocations per row, eight weights each.
  const uint x_k = t & (BK - 1u);
  const uint x_m = t / BK;
  const uint w_n = t >> 1;
  const uint w_k = (t & 1u) << 3;
  const bool w_row_ok = n0 + w_n < p.N;

  float acc[OUT][OUT];
  for (uint i = 0u; i < OUT; ++i)
    for (uint j = 0u; j < OUT; ++j) acc[i][j] = 0.0;

  for (uint k0 = 0u; k0 < p.K; k0 += BK) {
    const uint k = k0 + x_k;
    for (uint r = 0u; r < 8u; ++r) {
      const uint m = x_m + 16u * r;
      xs[at(x_k, m)] = (m0 + m < p.M && k < p.K) ? x[(m0 + m) * p.K + k] : 0.0;
    }
    float v[8];
    if (w_row_ok) {
      dequant8(wp, n0 + w_n, k0 + w_k, v);
    } else {
      for (uint i = 0u; i < 8u; ++i) v[i] = 0.0;
    }
    for (uint i = 0u; i < 8u; ++i) ws[at(w_k + i, w_n)] = v[i];
    barrier();

    for (uint kk = 0u; kk < BK; ++kk) {
      float a[OUT], b[OUT];
      for (uint i = 0u; i < OUT; ++i) a[i] = xs[at(kk, ty + LOCAL * i)];
      for (uint j = 0u; j < OUT; ++j) b[j] = ws[at(kk, tx + LOCAL * j)];
      for (uint i = 0u; i < OUT; ++i)
        for (uint j = 0u; j < OUT; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
    }
    barrier();
  }

  for (uint i = 0u; i < OUT; ++i) {
    const uint m = m0 + ty + LOCAL * i;
    if (m >= p.M) continue;
    for (uint j = 0u; j < OUT; ++j) {
      const uint n = n0 + tx + LOCAL * j;
      if (n < p.N) y[m * p.N + n] = acc[i][j];
    }
  }
}
