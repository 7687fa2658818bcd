#version 450
// log_softmax_nll: for each row r of logits L[rows, vocab], the negative log-likelihood of its
// target, nll[first + r] = logsumexp(L[r, :]) − L[r, targets[first + r]], or 0 where the target is
// negative (a position nothing follows). The maximum is exact; the sum of exp(l − max) is
// compensated (Kahan) within each invocation, then reduced over the workgroup, so the result stays
// within a few fp32 ulps of core's double log-softmax (core/eval/forward_backend.h token_nll).
// `first` lets a chunk of rows of the logits write its slice of the targets and results.
// One workgroup of 256 invocations per row; common/grid.glsl group_index.

#define LOCAL 256u
#define REDUCE_SIZE LOCAL
layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

#include "common/grid.glsl"
#include "common/reduce.glsl"

layout(std430, set = 0, binding = 0) readonly buffer LogitBuf { float logits[]; };
layout(std430, set = 0, binding = 1) readonly buffer TargetBuf { int targets[]; };
layout(std430, set = 0, binding = 2) writeonly buffer NllBuf { float nll[]; };

// Mirrored by LogSoftmaxNllPush in gpu/ops/log_softmax_nll_op.cpp.
layout(push_constant) uniform Params {
  uint rows;
  uint vocab;
  uint first;
} p;

void main() {
  const uint r = group_index();
  if (r >= p.rows) return;  // the whole workgroup
  const uint t = gl_LocalInvocationID.x;
  const uint base = r * p.vocab;
  float m = -3.402823466e38;
  for (uint c = t; c < p.vocab; c += LOCAL) m = max(m, logits[base + c]);
  m = reduce_max(m);
  // `precise` keeps the compiler from simplifying the compensation away.
  precise float sum = 0.0, comp = 0.0;
  for (uint c = t; c < p.vocab; c += LOCAL) {
    precise const float v = exp(logits[base + c] - m) - comp;
    precise const float next = sum + v;
    comp = (next - sum) - v;
    sum = next;
  }
  sum = reduce_sum(sum);
  if (t == 0u) {
    const int target = targets[p.first + r];
    nll[p.first + r] = target < 0 ? 0.0 : (m + log(sum)) - logits[base + uint(target)];
  }
}
