#version 450
// matmul_coop_x: the cooperative product's X in fp16 (gpu/ops/matmul_op.cpp records it before
// matmul_coop.comp): X [M, K] fp32 row-major → XH [M, Kp] binary16, Kp = K rounded up to 8 (zeros
// past K), two halves a word, the lower first. Each value rounds to the nearest binary16 (ties to
// even, overflow to ±inf) in integer arithmetic (common/exact_float.glsl), the same on every device,
// so the cooperative shader reads whole 16-byte runs of eight halves, aligned, with nothing to
// convert per workgroup. One invocation per output word; common/grid.glsl element_index.

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

#include "common/exact_float.glsl"
#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer XhBuf { uint xh[]; };

// Mirrored by CoopXPush in gpu/ops/matmul_op.cpp.
layout(push_constant) uniform Params {
  uint M;
  uint K;
} p;

void main() {
  const uint i = element_index();
  const uint half_row = ((p.K + 7u) & ~7u) / 2u;  // words per row of XH
  if (i >= p.M * half_row) return;
  const uint m = i / half_row, k = 2u * (i % half_row);
  const float a = k < p.K ? x[m * p.K + k] : 0.0;
  const float b = k + 1u < p.K ? x[m * p.K + k + 1u] : 0.0;
  xh[i] = f32_to_f16_bits(a) | (f32_to_f16_bits(b) << 16);
}
