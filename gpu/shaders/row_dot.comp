#version 450
// row_dot: out[offset + r] = Σ_c A[r, c] · B[r, c] for each row r of two [rows, cols] matrices (AWQ's
// tr(ΔW H ΔWᵀ) as the row sums of ΔW ∘ (ΔW H)). One workgroup of 64 invocations per row; fp32
// partial sums, reduced in shared memory; the host adds the rows in double.

#define LOCAL 64u
#define REDUCE_SIZE LOCAL
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "common/grid.glsl"
#include "common/reduce.glsl"

layout(std430, set = 0, binding = 0) readonly buffer ABuf { float a[]; };
layout(std430, set = 0, binding = 1) readonly buffer BBuf { float b[]; };
layout(std430, set = 0, binding = 2) buffer OutBuf { float o[]; };

// Mirrored by RowDotPush in gpu/ops/awq_op.cpp.
layout(push_constant) uniform Params {
  uint rows;
  uint cols;
  uint offset;  // the first slot of out written
} p;

void main() {
  const uint row = group_index();
  if (row >= p.rows) return;  // the whole workgroup
  const uint t = gl_LocalInvocationID.x;
  const uint base = row * p.cols;
  float acc = 0.0;
  for (uint i = t; i < p.cols; i += LOCAL) acc += a[base + i] * b[base + i];
  const float total = reduce_sum(acc);
  if (t == 0u) o[p.offset + row] = total;
}
