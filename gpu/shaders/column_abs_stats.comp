#version 450
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
  for (uint t = 0u; t < p.T; ++t) {
    const float a = abs(x[t * p.C + c]);
    s += a;
    m = max(m, a);
  }
  sums[c] += s;
  maxes[c] = max(maxes[c], m);
}
