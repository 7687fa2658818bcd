#version 450
// norm: Y[r, :] = normalize(X[r, :]) · w (+ b) for every row of X[rows, cols], as core's forward
// pass computes it (core/model/forward.cpp), in fp32 with workgroup reductions. Variants:
//   NORM_RMS    (norm_rms)    RMSNorm: x / sqrt(mean(x²) + eps) · w; also qwen3's per-head q/k norm,
//                             which is this on the [tokens·heads, head_dim] view of q or k;
//   NORM_LAYER  (norm_layer)  LayerNorm: (x − mean) / sqrt(mean((x − mean)²) + eps) · w + b.
// One workgroup of 128 invocations per row (common/grid.glsl group_index); X and Y must not alias.

#define LOCAL 128u
#define REDUCE_SIZE LOCAL
layout(local_size_x = 128, local_size_y = 1, local_size_z = 1) in;

#include "common/grid.glsl"
#include "common/reduce.glsl"

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer YBuf { float y[]; };
layout(std430, set = 0, binding = 2) readonly buffer WBuf { float w[]; };
#if defined(NORM_LAYER)
layout(std430, set = 0, binding = 3) readonly buffer BBuf { float bias[]; };
#elif !defined(NORM_RMS)
#error "define NORM_RMS or NORM_LAYER"
#endif

// Mirrored by NormPush in gpu/ops/norm_op.cpp.
layout(push_constant) uniform Params {
  uint rows;
  uint cols;
  float eps;
} p;

void main() {
  const uint row = group_index();
  if (row >= p.rows) return;  // the whole workgroup
  const uint t = gl_LocalInvocationID.x;
  const uint base = row * p.cols;
  const float inv_cols = 1.0 / float(p.cols);
#if defined(NORM_LAYER)
  float s = 0.0;
  for (uint c = t; c < p.cols; c += LOCAL) s += x[base + c];
  const float mean = reduce_sum(s) * inv_cols;
  float q = 0.0;
  for (uint c = t; c < p.cols; c += LOCAL) {
    const float d = x[base + c] - mean;
    q += d * d;
  }
  const float inv = 1.0 / sqrt(reduce_sum(q) * inv_cols + p.eps);
  for (uint c = t; c < p.cols; c += LOCAL) y[base + c] = (x[base + c] - mean) * inv * w[c] + bias[c];
#else
  float q = 0.0;
  for (uint c = t; c < p.cols; c += LOCAL) q += x[base + c] * x[base + c];
  const float inv = 1.0 / sqrt(reduce_sum(q) / float(p.cols) + p.eps);
  for (uint c = t; c < p.cols; c += LOCAL) y[base + c] = x[base + c] * inv * w[c];
#endif
}
