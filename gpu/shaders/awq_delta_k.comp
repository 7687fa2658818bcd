#version 450
// awq_delta_k: one point of AWQ's α grid (core/quant/awq.h, awq_scaled_error) for a layer W
// [rows, cols] quantized to one of ggml's K-quant types (the variant's Q2_K … Q6_K):
// ΔW = Q(W·diag(s))·diag(s)⁻¹ − W, with Q ggml's reference quantizer of each 256-weight super-block
// and its dequantizer (common/ggml_k.glsl; the CPU's codes and stored scales). s and s⁻¹ are rows
// `alpha` of S and S⁻¹ [alphas, cols]. One invocation per (row, super-block); D [rows, cols] out.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "common/exact_float.glsl"
#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) readonly buffer WBuf { float w[]; };
layout(std430, set = 0, binding = 1) readonly buffer SBuf { float s[]; };
layout(std430, set = 0, binding = 2) readonly buffer InvBuf { float inv[]; };
layout(std430, set = 0, binding = 3) writeonly buffer DBuf { float d[]; };

// Mirrored by AwqBlockPush in gpu/ops/awq_op.cpp.
layout(push_constant) uniform Params {
  uint rows;
  uint cols;   // a multiple of 256
  uint alpha;  // the row of S and S⁻¹
} p;

uint k_base, k_sbase;  // the super-block's first weight in W and its first scale in S
float k_x(uint i) {
  precise float t = w[k_base + i] * s[k_sbase + i];
  return t;
}

#include "common/ggml_k.glsl"

void main() {
  const uint index = element_index();
  const uint per_row = p.cols / 256u;
  if (index >= p.rows * per_row) return;
  const uint row = index / per_row, b = index % per_row;
  k_base = row * p.cols + b * 256u;
  k_sbase = p.alpha * p.cols + b * 256u;
  for (uint i = 0u; i < K_PAIR_WORDS; ++i) k_out[i] = 0u;
  k_quantize(0u);
  for (uint i = 0u; i < 256u; ++i) {
    precise float back = k_value(i) * inv[k_sbase + i];
    d[k_base + i] = back - w[k_base + i];
  }
}
