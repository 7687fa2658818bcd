#version 450
// awq_delta_legacy: one point of AWQ's α grid (core/quant/awq.h, awq_scaled_error) for a layer W
// [rows, cols] quantized to one of ggml's legacy block types (the variant's Q4_0, Q4_1, Q5_0, Q5_1 or
// Q8_0): ΔW = Q(W·diag(s))·diag(s)⁻¹ − W, with Q ggml's reference quantizer of each 32-weight block
// and its dequantizer (common/ggml_legacy.glsl; the CPU's codes and stored scales). s and s⁻¹ are rows
// `alpha` of S and S⁻¹ [alphas, cols]. One invocation per (row, block); D [rows, cols] out.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "common/exact_float.glsl"
#include "common/ggml_legacy.glsl"
#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) readonly buffer WBuf { float w[]; };
layout(std430, set = 0, binding = 1) readonly buffer SBuf { float s[]; };
layout(std430, set = 0, binding = 2) readonly buffer InvBuf { float inv[]; };
layout(std430, set = 0, binding = 3) writeonly buffer DBuf { float d[]; };

// Mirrored by AwqLegacyPush in gpu/ops/awq_op.cpp.
layout(push_constant) uniform Params {
  uint rows;
  uint cols;   // a multiple of 32
  uint alpha;  // the row of S and S⁻¹
} p;

void main() {
  const uint index = element_index();
  const uint per_row = p.cols / 32u;
  if (index >= p.rows * per_row) return;
  const uint row = index / per_row, b = index % per_row;
  const uint base = row * p.cols + b * 32u, sbase = p.alpha * p.cols + b * 32u;
  float v[32];
  for (uint j = 0u; j < 32u; ++j) {
    precise float t = w[base + j] * s[sbase + j];
    v[j] = t;
  }
  uint L[32];
  uint d_bits, m_bits;
  legacy_quantize(v, L, d_bits, m_bits);
  const float dd = f16_bits_to_f32(d_bits), mm = f16_bits_to_f32(m_bits);
  for (uint j = 0u; j < 32u; ++j) {
    const float x = w[base + j];
    precise float back = legacy_value(L[j], dd, mm) * inv[sbase + j];
    d[base + j] = back - x;
  }
}
