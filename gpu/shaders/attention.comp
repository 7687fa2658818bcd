#version 450
#extension GL_EXT_control_flow_attributes : require
// attention: causal softmax attention of B windows of T tokens, every head, as core's forward pass
// computes it: out[b·T + i, h] = Σ_j softmax_j(q_i · k_j · scale) v_j over j in [lo, i], where
// lo = max(0, i − window + 1) with a sliding window and 0 without (window = 0), and head h reads
// key/value head h / (heads / kv_heads) (grouped-query attention). q and out are [B·T, heads·hd],
// k and v [B·T, kv_heads·hd], row-major.
// One invocation per query row: it walks its keys CHUNK at a time with the online softmax (running
// maximum and normalizer, its output accumulator rescaled when the maximum grows), so memory does
// not grow with T and no invocation waits for another (no barriers, no shared memory). A workgroup
// holds 64 consecutive queries of one (window, head): they read the same key and value rows at
// nearly the same time, which the caches serve. fp32 throughout. The query and the accumulator live
// in registers sized by MAX_HEAD_DIM, one variant per bound (64, 128, 256); head_dim ≤ MAX_HEAD_DIM.
// Group counts: ceil(T / 64) × heads × B.

#define LOCAL 64u
// Keys per step of the online softmax. The loops over the head dimension run once per chunk, for all
// of its keys (unrolled): lavapipe ends any one loop after 65535 iterations over an invocation's
// life, not per entry (gpu/ops/op_support.h), and a walk over d per key gave wrong outputs there
// from T · head_dim ≥ 65536 on (T = 1200 at head_dim 64 in the test); now the bound is
// ceil(T / CHUNK) · head_dim, which the op checks.
#define CHUNK 16u
#ifndef MAX_HEAD_DIM
#error "define MAX_HEAD_DIM (variants attention_64, attention_128, attention_256)"
#endif
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) readonly buffer QBuf { float q[]; };
layout(std430, set = 0, binding = 1) readonly buffer KBuf { float k[]; };
layout(std430, set = 0, binding = 2) readonly buffer VBuf { float v[]; };
layout(std430, set = 0, binding = 3) writeonly buffer OutBuf { float o[]; };

// Mirrored by AttentionPush in gpu/ops/attention_op.cpp.
layout(push_constant) uniform Params {
  uint T;
  uint heads;
  uint kv_heads;
  uint head_dim;
  uint window;  // 0: full causal attention
  float scale;  // 1 / sqrt(head_dim)
} p;

void main() {
  const uint i = gl_WorkGroupID.x * LOCAL + gl_LocalInvocationID.x;
  if (i >= p.T) return;
  const uint h = gl_WorkGroupID.y;
  const uint b = gl_WorkGroupID.z;
  const uint hd = p.head_dim;
  const uint q_stride = p.heads * hd;
  const uint kv_stride = p.kv_heads * hd;
  const uint q_at = (b * p.T + i) * q_stride + h * hd;
  const uint kv0 = b * p.T * kv_stride + (h / (p.heads / p.kv_heads)) * hd;  // key/value row 0 of the window

  float qv[MAX_HEAD_DIM];
  float acc[MAX_HEAD_DIM];
  for (uint d = 0u; d < hd; ++d) {
    qv[d] = q[q_at + d];
    acc[d] = 0.0;
  }
  const uint lo = (p.window > 0u && i + 1u > p.window) ? i + 1u - p.window : 0u;
  float m = -3.402823466e38;  // running maximum
  float l = 0.0;              // running normalizer
  for (uint j0 = lo; j0 <= i; j0 += CHUNK) {
    const uint n = min(CHUNK, i + 1u - j0);
    // The chunk's scores: one walk over d for all of its keys, each summed in d order.
    float s[CHUNK];
    [[unroll]] for (uint c = 0u; c < CHUNK; ++c) s[c] = 0.0;
    for (uint d = 0u; d < hd; ++d) {
      const float qd = qv[d];
      [[unroll]] for (uint c = 0u; c < CHUNK; ++c)
        if (c < n) s[c] += qd * k[kv0 + (j0 + c) * kv_stride + d];
    }
    float chunk_max = -3.402823466e38;
    [[unroll]] for (uint c = 0u; c < CHUNK; ++c) {
      s[c] *= p.scale;
      if (c < n) chunk_max = max(chunk_max, s[c]);
    }
    const float m_new = max(m, chunk_max);
    const float correction = exp(m - m_new);
    m = m_new;
    l *= correction;
    float e[CHUNK];
    [[unroll]] for (uint c = 0u; c < CHUNK; ++c) {
      e[c] = c < n ? exp(s[c] - m) : 0.0;
      l += e[c];
    }
    // acc·correction, then each key's e·v in key order: one walk over d.
    for (uint d = 0u; d < hd; ++d) {
      float a = acc[d] * correction;
      [[unroll]] for (uint c = 0u; c < CHUNK; ++c)
        if (c < n) a += e[c] * v[kv0 + (j0 + c) * kv_stride + d];
      acc[d] = a;
    }
  }
  const float inv = 1.0 / l;
  for (uint d = 0u; d < hd; ++d) o[q_at + d] = acc[d] * inv;
}
