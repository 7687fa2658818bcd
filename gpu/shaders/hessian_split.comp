#version 450
#extension GL_EXT_control_flow_attributes : require
// hessian_split: a batch X[T,C] scaled by its channels' powers of two (hessian_scale.comp) and split
// for hessian_coop.comp — v = s[c] · X[t, c] (exact), hi = fp16(v), lo = fp16(v − hi) (v = hi + lo to
// about 2⁻²² relative) — into two fp16 matrices HI, LO [Tp, Cp] laid out as X (channels contiguous),
// padded with zeros to Tp = T rounded up to 16 tokens and Cp = C rounded up to 128 channels, so that
// the product's loads need no bounds checks: words [0, Tp·Cp / 2) hold HI, the next as many LO, two
// channels per word (the lower one in the low half). Rounding in integer arithmetic
// (common/exact_float.glsl): NVIDIA's compiler folds fp32 → fp16 → fp32 round trips to nothing.
// One invocation per word of HI; common/grid.glsl element_index.

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

#include "common/exact_float.glsl"
#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer SBuf { float s[]; };
layout(std430, set = 0, binding = 2) writeonly buffer PBuf { uint pw[]; };

// Mirrored by HessianSplitPush in gpu/ops/hessian_op.cpp.
layout(push_constant) uniform Params {
  uint T;
  uint C;
  uint Cp;     // padded channels (a multiple of 128)
  uint words;  // Tp · Cp / 2: HI's words, and LO's offset
} p;

void main() {
  const uint i = element_index();
  if (i >= p.words) return;
  const uint t = (2u * i) / p.Cp, c = (2u * i) % p.Cp;
  uint hi = 0u, lo = 0u;
  [[unroll]] for (uint q = 0u; q < 2u; ++q) {
    if (t < p.T && c + q < p.C) {
      const float v = x[t * p.C + c + q] * s[c + q];
      const uint h = f32_to_f16_bits(v);
      hi |= h << (16u * q);
      lo |= f32_to_f16_bits(v - f16_bits_to_f32(h)) << (16u * q);
    }
  }
  pw[i] = hi;
  pw[p.words + i] = lo;
}
