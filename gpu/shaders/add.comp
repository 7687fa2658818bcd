#version 450
// add: Y += X in place, for the residual connections (ADD_SAME: X has Y's n elements) and the biases
// of linear layers (ADD_BIAS: X is a row of `cols` values added to every row of Y[n / cols, cols]).
// Variants add_same and add_bias. One invocation per element; common/grid.glsl element_index.

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) buffer YBuf { float y[]; };
layout(std430, set = 0, binding = 1) readonly buffer XBuf { float x[]; };

// Mirrored by AddPush in gpu/ops/add_op.cpp.
layout(push_constant) uniform Params {
  uint n;
  uint cols;
} p;

void main() {
  const uint i = element_index();
  if (i >= p.n) return;
#if defined(ADD_BIAS)
  y[i] += x[i % p.cols];
#elif defined(ADD_SAME)
  y[i] += x[i];
#else
#error "define ADD_SAME or ADD_BIAS"
#endif
}
