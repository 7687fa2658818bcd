#version 450
#extension GL_EXT_control_flow_attributes : require
// column_abs_stats: for calibration inputs X[T, C] (tokens × channels), per channel c
//   sums[c] += Σ_t |X[t, c]|   and   maxes[c] = max(maxes[c], max_t |X[t, c]|),
// the GPU side of InputStats' mean |x| and max |x| (core/calib/calibration.h). One invocation per
// channel walking the tokens in order (neighbouring invocations read neighbouring addresses); the
// sum is fp32 over the batch, the caller adds batches.
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) buffer SumBuf { float sums[]; };
layout(std430, set = 0, binding = 2) buffer MaxBuf { float maxes[]; };

// Mirrored by ColumnStatsPush in gpu/ops/column_stats_op.cpp.
layout(push_constant) uniform Params {
  uint T;
  uint C;
} p;

void main() {
  const uint c = element_index();
  if (c >= p.C) return;
  float s = 0.0, m = 0.0;
  // Sixteen tokens per iteration (unrolled, masked): lavapipe ends any one loop after 65535
  // iterations over an invocation's life (gpu/ops/op_support.h), fewer than a calibration's tokens.
  for (uint t0 = 0u; t0 < p.T; t0 += 16u) {
    [[unroll]] for (uint tt = 0u; tt < 16u; ++tt) {
      const uint t = t0 + tt;
      if (t < p.T) {
        const float a = abs(x[t * p.C + c]);
        s += a;
        m = max(m, a);
      }
    }
  }
  sums[c] += s;
  maxes[c] = max(maxes[c], m);
}
