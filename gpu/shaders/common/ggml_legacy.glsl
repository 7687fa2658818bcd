// ggml's reference quantizers of the legacy 32-weight block types (quantize_row_*_ref of
// ggml-quants.c; core/quant/ggml_q_legacy.cpp is the oracle), for the shaders that quantize
// (ggml_quantize_legacy.comp: the packed bytes) or need the values the codes stand for
// (awq_delta_legacy.comp). The including shader defines one of Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and
// includes common/exact_float.glsl first:
//   q4_0 / q5_0: d = max / −8 (−16), max the signed weight of largest magnitude (the first on ties),
//                q = min(15 (31), trunc(x·(1/d) + 8.5 (16.5)));
//   q4_1 / q5_1: d = (max − min) / 15 (31), m = min, q = trunc((x − min)·(1/d) + 0.5) (q4_1: ≤ 15);
//   q8_0:        d = max |x| / 127, q = roundf(x·(1/d)) (halves away from zero);
// the unrounded d gives the codes, the stored d (and m) is its fp16 rounding. Every product and sum
// is rounded on its own (precise), divisions are exact, so codes and scales equal the CPU's.
#ifndef LOWBIT_COMMON_GGML_LEGACY_GLSL
#define LOWBIT_COMMON_GGML_LEGACY_GLSL

#if defined(Q4_0)
#define LEGACY_BLOCK_BYTES 18u
#elif defined(Q4_1)
#define LEGACY_BLOCK_BYTES 20u
#elif defined(Q5_0)
#define LEGACY_BLOCK_BYTES 22u
#elif defined(Q5_1)
#define LEGACY_BLOCK_BYTES 24u
#elif defined(Q8_0)
#define LEGACY_BLOCK_BYTES 34u
#endif

// One block's codes L (q8_0: two's complement in 8 bits) and the fp16 bits of d and m (m: 0 for the
// type-0 kinds).
void legacy_quantize(in float x[32], out uint L[32], out uint d_bits, out uint m_bits) {
  m_bits = 0u;
#if defined(Q4_0) || defined(Q5_0) || defined(Q8_0)
  float amax = 0.0;
  for (uint j = 0u; j < 32u; ++j) amax = max(amax, abs(x[j]));
#endif
#if defined(Q4_0) || defined(Q5_0)
#if defined(Q4_0)
  const float half_ = 8.0, top = 15.0, to_d = -0.125;
#else
  const float half_ = 16.0, top = 31.0, to_d = -0.0625;
#endif
  float mx = 0.0;
  if (amax > 0.0)
    for (uint j = 0u; j < 32u; ++j)
      if (abs(x[j]) == amax) {
        mx = x[j];
        break;
      }
  precise float d = mx * to_d;  // max / −2^k, exactly
  const float id = d != 0.0 ? div_rn(1.0, d) : 0.0;
  for (uint j = 0u; j < 32u; ++j) {
    precise float t = x[j] * id;
    precise float s = t + (half_ + 0.5);
    L[j] = uint(min(int(s), int(top)));  // int(): truncation, as the C cast
  }
  d_bits = f32_to_f16_bits(d);
#elif defined(Q4_1) || defined(Q5_1)
  float lo = 3.402823466e38, hi = -3.402823466e38;
  for (uint j = 0u; j < 32u; ++j) {
    if (x[j] < lo) lo = x[j];
    if (x[j] > hi) hi = x[j];
  }
#if defined(Q4_1)
  const float steps = 15.0;
#else
  const float steps = 31.0;
#endif
  precise float range = hi - lo;
  const float d = div_rn(range, steps);
  const float id = d != 0.0 ? div_rn(1.0, d) : 0.0;
  for (uint j = 0u; j < 32u; ++j) {
    precise float c = x[j] - lo;
    precise float t = c * id;
    precise float s = t + 0.5;
    L[j] = uint(int(s));
#if defined(Q4_1)
    L[j] = min(L[j], 15u);
#endif
  }
  d_bits = f32_to_f16_bits(d);
  m_bits = f32_to_f16_bits(lo);
#elif defined(Q8_0)
  const float d = div_rn(amax, 127.0);
  const float id = d != 0.0 ? div_rn(1.0, d) : 0.0;
  for (uint j = 0u; j < 32u; ++j) {
    precise float v = x[j] * id;
    const int t = int(v);  // truncation, then a step by the exact remainder (roundf)
    precise float frac = v - float(t);
    L[j] = uint(t + (frac >= 0.5 ? 1 : 0) - (frac <= -0.5 ? 1 : 0)) & 0xFFu;
  }
  d_bits = f32_to_f16_bits(d);
#endif
}

// ---- the importance-weighted paths (quantize_row_*_impl with quant_weights; ggml_q_legacy.cpp's
// *_weighted): element weights wt (qw · sqrt(σ² + x²), made by the caller), then ggml's scalar
// searches with its arithmetic — make_qx_quants(32, nmax, x, L, 1, wt) for the type-0 kinds,
// make_qkx3_quants(32, nmax, x, wt, L, &min, Laux, −0.9, 0.05, 36, false) for the type-1 ones;
// q8_0 has none (llama.cpp ignores the importance there) and takes the reference quantizer.
#if defined(Q4_0) || defined(Q5_0)
#include "common/ggml_qx.glsl"
#endif

#if defined(Q4_1) || defined(Q5_1)
#include "common/ggml_qkx3.glsl"
#endif

// One block through the weighted path: codes L and the fp16 bits of d and m, as legacy_quantize.
void legacy_quantize_weighted(in float x[32], in float wt[32], out uint L[32], out uint d_bits, out uint m_bits) {
#if defined(Q4_0) || defined(Q5_0)
#if defined(Q4_0)
  const float d = make_qx_w(x, wt, 32u, 8, L);
#else
  const float d = make_qx_w(x, wt, 32u, 16, L);
#endif
  d_bits = f32_to_f16_bits(d);
  m_bits = 0u;
#elif defined(Q4_1) || defined(Q5_1)
  float the_min;
#if defined(Q4_1)
  const float d = make_qkx3(x, wt, 32u, 15, L, the_min);
#else
  const float d = make_qkx3(x, wt, 32u, 31, L, the_min);
#endif
  d_bits = f32_to_f16_bits(d);
  m_bits = f32_to_f16_bits(-the_min);
#else
  legacy_quantize(x, L, d_bits, m_bits);
#endif
}

// The value code q stands for, as ggml's dequantizer computes it from the stored d and m.
float legacy_value(uint q, float d, float m) {
#if defined(Q4_0)
  return float(int(q) - 8) * d;
#elif defined(Q5_0)
  return float(int(q) - 16) * d;
#elif defined(Q4_1) || defined(Q5_1)
  precise float v = float(q) * d;
  precise float y = v + m;
  return y;
#elif defined(Q8_0)
  return float(int(q << 24) >> 24) * d;
#endif
}

#endif  // LOWBIT_COMMON_GGML_LEGACY_GLSL
