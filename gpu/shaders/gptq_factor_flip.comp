#version 450
// gptq_factor_flip: the reversals of GPTQ's inverse factor on the GPU (gpu/ops/gptq_factor_op.h).
// With J the reversal permutation, J M J of an n × n row-major matrix is its flat array reversed,
//   dst[i] = src[n² − 1 − i],
// so the factor runs as an ordinary lower Cholesky of J (H + λI) J and U = J L⁻¹ J comes out as one
// more reversal. Modes (push constant): 0 (MODE_H) reverses H into A, taking a zero diagonal element
// (a dead column) as 1 and adding λ on the diagonal in float, as core's factor does, and flags a NaN
// or Inf anywhere in H (bit 1 of status); 1 (MODE_U) reverses L⁻¹ into U and flags a diagonal
// element of U that is not a positive finite number (bit 4); 2 (MODE_IDENTITY) writes I into dst.
// With p.permuted, MODE_H reads H through the sweep's column order (act-order): A = J P H Pᵀ J,
// element (r, c) of P H Pᵀ being H[perm[r]][perm[c]]. One invocation per element; common/grid.glsl
// element_index.

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) writeonly buffer DstBuf { float dst[]; };
layout(std430, set = 0, binding = 1) readonly buffer SrcBuf { float src[]; };
layout(std430, set = 0, binding = 2) buffer StatusBuf { uint status[]; };
layout(std430, set = 0, binding = 3) readonly buffer PermBuf { uint perm[]; };

// Mirrored by FactorFlipPush in gpu/ops/gptq_factor_op.cpp.
layout(push_constant) uniform Params {
  uint n;
  uint mode;
  float lambda;
  uint permuted;
} p;

const uint MODE_H = 0u, MODE_U = 1u, MODE_IDENTITY = 2u;

// Inf or NaN, from the bits (immune to any fast-math folding of isnan/isinf).
bool not_finite(float v) { return (floatBitsToUint(v) & 0x7f800000u) == 0x7f800000u; }

void main() {
  const uint i = element_index();
  const uint nn = p.n * p.n;
  if (i >= nn) return;
  const bool diagonal = i % (p.n + 1u) == 0u;
  if (p.mode == MODE_IDENTITY) {
    dst[i] = diagonal ? 1.0 : 0.0;
    return;
  }
  const uint j = nn - 1u - i;  // the element of P H Pᵀ (or of L⁻¹) that lands at i
  precise float v = p.permuted != 0u ? src[perm[j / p.n] * p.n + perm[j % p.n]] : src[j];
  if (p.mode == MODE_H) {
    if (not_finite(v)) atomicOr(status[0], 1u);
    if (diagonal) v = (v == 0.0 ? 1.0 : v) + p.lambda;
  } else if (diagonal && (not_finite(v) || !(v > 0.0))) {
    atomicOr(status[0], 4u);
  }
  dst[i] = v;
}
