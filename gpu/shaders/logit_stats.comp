#version 450
// logit_stats: per-row statistics of the output head's logits from which the host computes, in
// double, the reference log-softmax and a candidate's KL divergence from it (the KLD sensitivity of
// core/plan/sensitivity.h on the Vulkan backend, gpu/model/vulkan_kld.h). For row r of the chunk
// L[rows, vocab] (row first + r of the batch; targets[first + r] < 0: nothing to score):
//   reference (default): m = max L, S = Σ exp(L − m), L[target]  → stats[3·(first + r) + 0…2];
//                        the host takes lse = m + log S;
//   KL_STATS:           with a = the reference's logits (row first + r of A [N, vocab]), its lse
//                        (float, from the host) and d = a − L: A = Σ P·d, C = Σ P·expm1(−d), SP = Σ P,
//                        P = exp(a − lse), and L[target] → stats[4·(first + r) + 0…3]. Then
//                        KL(P ‖ softmax L) = A / SP + log1p(C / SP) and logsumexp L = lse + log1p(C / SP),
//                        free of the offsets that rounding the two logsumexps to fp32 would add.
// Sums are compensated (Kahan) within each invocation, then reduced over the workgroup; expm1 by its
// series near 0, so a small divergence keeps its relative precision. One workgroup of 256 per row.

#define LOCAL 256u
#define REDUCE_SIZE LOCAL
layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

#include "common/grid.glsl"
#include "common/reduce.glsl"

layout(std430, set = 0, binding = 0) readonly buffer LogitBuf { float logits[]; };
layout(std430, set = 0, binding = 1) readonly buffer TargetBuf { int targets[]; };
layout(std430, set = 0, binding = 2) writeonly buffer StatBuf { float stats[]; };
#if defined(KL_STATS)
layout(std430, set = 0, binding = 3) readonly buffer RefBuf { float ref_logits[]; };
layout(std430, set = 0, binding = 4) readonly buffer LseBuf { float ref_lse[]; };
#endif

// Mirrored by LogitStatsPush in gpu/ops/logit_stats_op.cpp.
layout(push_constant) uniform Params {
  uint rows;
  uint vocab;
  uint first;
} p;

// A compensated running sum.
struct Kahan {
  float sum;
  float comp;
};
void kahan_add(inout Kahan k, float v) {
  precise const float y = v - k.comp;
  precise const float next = k.sum + y;
  precise const float lost = (next - k.sum) - y;
  k.comp = lost;
  k.sum = next;
}

// e^x − 1: the series (Horner, to x^10) where |x| < 0.5, exp(x) − 1 elsewhere.
float expm1_(float x) {
  if (abs(x) >= 0.5) return exp(x) - 1.0;
  precise float t = 1.0 + x / 10.0;
  for (int k = 9; k >= 2; --k) t = 1.0 + x / float(k) * t;
  precise float r = x * t;
  return r;
}

void main() {
  const uint r = group_index();
  if (r >= p.rows) return;  // the whole workgroup
  const uint t = gl_LocalInvocationID.x;
  const uint base = r * p.vocab;
  const uint row = p.first + r;
  const int target = targets[row];
  const float lt = target < 0 ? 0.0 : logits[base + uint(target)];
#if defined(KL_STATS)
  const uint abase = row * p.vocab;
  const float lse = ref_lse[row];
  Kahan a = Kahan(0.0, 0.0), c = Kahan(0.0, 0.0), sp = Kahan(0.0, 0.0);
  for (uint k = t; k < p.vocab; k += LOCAL) {
    const float ak = ref_logits[abase + k];
    precise const float P = exp(ak - lse);
    precise const float d = ak - logits[base + k];
    kahan_add(a, P * d);
    kahan_add(c, P * expm1_(-d));
    kahan_add(sp, P);
  }
  const float A = reduce_sum(a.sum), C = reduce_sum(c.sum), SP = reduce_sum(sp.sum);
  if (t == 0u) {
    stats[4u * row] = A;
    stats[4u * row + 1u] = C;
    stats[4u * row + 2u] = SP;
    stats[4u * row + 3u] = lt;
  }
#else
  float m = -3.402823466e38;
  for (uint k = t; k < p.vocab; k += LOCAL) m = max(m, logits[base + k]);
  m = reduce_max(m);
  Kahan s = Kahan(0.0, 0.0);
  for (uint k = t; k < p.vocab; k += LOCAL) kahan_add(s, exp(logits[base + k] - m));
  const float S = reduce_sum(s.sum);
  if (t == 0u) {
    stats[3u * row] = m;
    stats[3u * row + 1u] = S;
    stats[3u * row + 2u] = lt;
  }
#endif
}
