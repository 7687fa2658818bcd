#version 450
// ggml_row_sigma2: σ² = Σ x² / n of each row of W [rows, n], summed in order with every product and
// sum rounded (as ggml_q_legacy.cpp's row_sigma2), for the importance weights of the legacy block
// types' weighted paths (ggml_quantize_legacy.comp WEIGHTED). One invocation per row; the loop runs
// n times (lavapipe's loop limit, gpu/ops/op_support.h: checked by the caller); common/grid.glsl
// element_index.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "common/exact_float.glsl"
#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) readonly buffer WBuf { float w[]; };
layout(std430, set = 0, binding = 1) writeonly buffer SigmaBuf { float sigma2[]; };

// Mirrored by GgmlSigmaPush in gpu/ops/ggml_quantize_op.cpp.
layout(push_constant) uniform Params {
  uint rows;
  uint n;
} p;

void main() {
  const uint row = element_index();
  if (row >= p.rows) return;
  precise float sum = 0.0;
  for (uint j = 0u; j < p.n; ++j) {
    const float x = w[row * p.n + j];
    sum += x * x;
  }
  sigma2[row] = div_rn(sum, float(p.n));
}
