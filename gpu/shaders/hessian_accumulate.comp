#version 450
#extension GL_EXT_control_flow_attributes : require
// hessian_accumulate: H[C,C] = beta·H + alpha·XᵀX for calibration inputs X[T,C] (tokens × channels),
// the GPU side of core/calib's InputStats (alpha = 2/n over all batches gives H = 2/n Σ x xᵀ).
// Each workgroup computes a TILE×TILE block of H, one element per invocation (x → column j, y → row
// i); the two column panels of X it needs are staged through shared memory TILE tokens at a time,
// padded by one column against bank conflicts. Group counts: ceil(C / TILE) × ceil(C / TILE).
// Accumulation is fp32 in token order; beta = 0 never reads H (it may hold garbage).

#ifndef TILE
#define TILE 16
#endif

layout(local_size_x = TILE, local_size_y = TILE, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) buffer HBuf { float h[]; };

// Mirrored by HessianPush in gpu/ops/hessian_op.cpp.
layout(push_constant) uniform Params {
  uint T;
  uint C;
  float alpha;
  float beta;
} p;

shared float xi[TILE][TILE + 1];  // xi[t][r] = X[t0 + t, i0 + r]
shared float xj[TILE][TILE + 1];  // xj[t][c] = X[t0 + t, j0 + c]

void main() {
  const uint tx = gl_LocalInvocationID.x;
  const uint ty = gl_LocalInvocationID.y;
  const uint j0 = gl_WorkGroupID.x * TILE;
  const uint i0 = gl_WorkGroupID.y * TILE;
  const uint i = i0 + ty;
  const uint j = j0 + tx;

  float acc = 0.0;
  for (uint t0 = 0; t0 < p.T; t0 += TILE) {
    const uint t = t0 + ty;  // the token row this invocation stages
    xi[ty][tx] = (t < p.T && i0 + tx < p.C) ? x[t * p.C + i0 + tx] : 0.0;
    xj[ty][tx] = (t < p.T && j0 + tx < p.C) ? x[t * p.C + j0 + tx] : 0.0;
    barrier();
    // Unrolled: lavapipe ends any one loop after 65535 iterations over an invocation's life
    // (gpu/ops/op_support.h), which a loop over every token would pass.
    [[unroll]] for (uint tt = 0; tt < TILE; ++tt) acc += xi[tt][ty] * xj[tt][tx];
    barrier();
  }
  if (i < p.C && j < p.C) {
    const uint o = i * p.C + j;
    h[o] = p.beta == 0.0 ? p.alpha * acc : p.beta * h[o] + p.alpha * acc;
  }
}
