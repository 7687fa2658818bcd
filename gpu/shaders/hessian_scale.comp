#version 450
#extension GL_EXT_control_flow_attributes : require
// hessian_scale: the per-channel powers of two with which hessian_coop.comp brings a batch X[T,C]
// into fp16's range before splitting it: s[c] = 2^(14 − E) with max_t |X[t, c]| < 2^E, so that the
// scaled channel stays below 2^14 (exact: a power of two), clamped to 2^±120; 1 for a channel that is
// all zeros or holds an Inf or NaN (which then reach H as the fp32 path would carry them). One
// invocation per channel, tokens in unrolled chunks of 16 (lavapipe's loop limit,
// gpu/ops/op_support.h); common/grid.glsl element_index.

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer SBuf { float s[]; };

// Mirrored by HessianScalePush in gpu/ops/hessian_op.cpp.
layout(push_constant) uniform Params {
  uint T;
  uint C;
} p;

void main() {
  const uint c = element_index();
  if (c >= p.C) return;
  float m = 0.0;
  for (uint t0 = 0u; t0 < p.T; t0 += 16u)
    [[unroll]] for (uint tt = 0u; tt < 16u; ++tt)
      if (t0 + tt < p.T) m = max(m, abs(x[(t0 + tt) * p.C + c]));
  const bool finite = (floatBitsToUint(m) & 0x7f800000u) != 0x7f800000u;
  if (m == 0.0 || !finite) {
    s[c] = 1.0;
    return;
  }
  int e;
  frexp(m, e);  // m = f · 2^e, f in [0.5, 1): m < 2^e
  s[c] = ldexp(1.0, clamp(14 - e, -120, 120));
}
