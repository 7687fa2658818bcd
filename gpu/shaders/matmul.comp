#version 450
// matmul: Y[M,N] = X[M,K] · W[N,K]ᵀ, W row-major [out, in] as the core's Linear stores it.
// Variants (gpu/CMakeLists.txt): matmul_f32 (fp32 weights), matmul_f16 (WEIGHT_F16=1, fp16 weights).
// Each workgroup computes a TILE×TILE block of Y, one element per invocation (x → column n, y → row
// m); X and W tiles are staged through shared memory, padded by one column against bank conflicts.
// Group counts: ceil(N / TILE) × ceil(M / TILE). Accumulation is fp32 in K order.

#ifndef TILE
#define TILE 16
#endif

layout(local_size_x = TILE, local_size_y = TILE, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
#define WEIGHT_BINDING 1
#include "common/weights.glsl"
layout(std430, set = 0, binding = 2) writeonly buffer YBuf { float y[]; };

// Mirrored by MatmulPush in gpu/ops/matmul_op.cpp.
layout(push_constant) uniform Params {
  uint M;
  uint N;
  uint K;
} p;

shared float xs[TILE][TILE + 1];
shared float ws[TILE][TILE + 1];

void main() {
  const uint tx = gl_LocalInvocationID.x;
  const uint ty = gl_LocalInvocationID.y;
  const uint n0 = gl_WorkGroupID.x * TILE;
  const uint m0 = gl_WorkGroupID.y * TILE;
  const uint m = m0 + ty;
  const uint n = n0 + tx;
  const uint w_row = n0 + ty;  // the W row this invocation stages

  float acc = 0.0;
  for (uint k0 = 0; k0 < p.K; k0 += TILE) {
    const uint k = k0 + tx;
    xs[ty][tx] = (m < p.M && k < p.K) ? x[m * p.K + k] : 0.0;
    ws[ty][tx] = (w_row < p.N && k < p.K) ? load_weight(w_row * p.K + k) : 0.0;
    barrier();
    for (uint kk = 0; kk < TILE; ++kk) acc += xs[ty][kk] * ws[tx][kk];
    barrier();
  }
  if (m < p.M && n < p.N) y[m * p.N + n] = acc;
}
