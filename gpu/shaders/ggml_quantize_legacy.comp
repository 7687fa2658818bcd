#version 450
// ggml_quantize_legacy: ggml's reference quantizers of the 32-weight block types (quantize_row_*_ref
// of ggml-quants.c; core/quant/ggml_q_legacy.cpp is the oracle) on the device, bit for bit:
//   q4_0 / q5_0: d = max / −8 (−16), max the signed weight of largest magnitude (the first on ties),
//                q = min(15 (31), trunc(x·(1/d) + 8.5 (16.5)));
//   q4_1 / q5_1: d = (max − min) / 15 (31), m = min, q = trunc((x − min)·(1/d) + 0.5) (q4_1: ≤ 15);
//   q8_0:        d = max |x| / 127, q = roundf(x·(1/d)) (halves away from zero);
// the unrounded d gives the codes, the stored d (and m) is its fp16 rounding. Every product and sum
// is rounded on its own (precise), divisions through common/exact_float.glsl, so the bytes equal the
// CPU's. The weights are one flat run of blocks (rows are whole blocks). One invocation quantizes a
// pair of blocks, whose bytes are a whole number of 32-bit words for every type; the last block of
// an odd count is written alone (the buffer is padded to a word).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "common/exact_float.glsl"
#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) readonly buffer WBuf { float w[]; };
layout(std430, set = 0, binding = 1) buffer OutBuf { uint words[]; };

// Mirrored by GgmlLegacyPush in gpu/ops/ggml_quantize_op.cpp.
layout(push_constant) uniform Params {
  uint blocks;  // 32-weight blocks in all
} p;

#if defined(Q4_0)
#define BLOCK_BYTES 18u
#elif defined(Q4_1)
#define BLOCK_BYTES 20u
#elif defined(Q5_0)
#define BLOCK_BYTES 22u
#elif defined(Q5_1)
#define BLOCK_BYTES 24u
#elif defined(Q8_0)
#define BLOCK_BYTES 34u
#endif
#define PAIR_WORDS ((2u * BLOCK_BYTES) / 4u)

uint out_words[PAIR_WORDS];

void put_byte(uint pos, uint v) {
  out_words[pos >> 2] |= (v & 0xFFu) << ((pos & 3u) * 8u);
}
void put_u16(uint pos, uint v) {
  put_byte(pos, v);
  put_byte(pos + 1u, v >> 8);
}

// Block b's bytes at byte `at` of the pair.
void quantize_block(uint b, uint at) {
  float x[32];
  for (uint j = 0u; j < 32u; ++j) x[j] = w[b * 32u + j];
  uint L[32];
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
  put_u16(at, f32_to_f16_bits(d));
  uint qs_at = at + 2u;
#if defined(Q5_0)
  uint qh = 0u;
  for (uint j = 0u; j < 16u; ++j) qh |= ((L[j] >> 4) & 1u) << j | ((L[j + 16u] >> 4) & 1u) << (j + 16u);
  for (uint k = 0u; k < 4u; ++k) put_byte(at + 2u + k, qh >> (8u * k));
  qs_at = at + 6u;
#endif
  for (uint j = 0u; j < 16u; ++j) put_byte(qs_at + j, (L[j] & 15u) | ((L[j + 16u] & 15u) << 4));
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
  put_u16(at, f32_to_f16_bits(d));
  put_u16(at + 2u, f32_to_f16_bits(lo));
  uint qs_at = at + 4u;
#if defined(Q5_1)
  uint qh = 0u;
  for (uint j = 0u; j < 16u; ++j) qh |= ((L[j] >> 4) & 1u) << j | ((L[j + 16u] >> 4) & 1u) << (j + 16u);
  for (uint k = 0u; k < 4u; ++k) put_byte(at + 4u + k, qh >> (8u * k));
  qs_at = at + 8u;
#endif
  for (uint j = 0u; j < 16u; ++j) put_byte(qs_at + j, (L[j] & 15u) | ((L[j + 16u] & 15u) << 4));
#elif defined(Q8_0)
  const float d = div_rn(amax, 127.0);
  const float id = d != 0.0 ? div_rn(1.0, d) : 0.0;
  put_u16(at, f32_to_f16_bits(d));
  for (uint j = 0u; j < 32u; ++j) {
    precise float v = x[j] * id;
    const int t = int(v);  // truncation, then a step by the exact remainder (roundf)
    precise float frac = v - float(t);
    const int q = t + (frac >= 0.5 ? 1 : 0) - (frac <= -0.5 ? 1 : 0);
    put_byte(at + 2u + j, uint(q));
  }
#endif
}

void main() {
  const uint pair = element_index();
  const uint b0 = 2u * pair;
  if (b0 >= p.blocks) return;
  for (uint i = 0u; i < PAIR_WORDS; ++i) out_words[i] = 0u;
  quantize_block(b0, 0u);
  const bool both = b0 + 1u < p.blocks;
  if (both) quantize_block(b0 + 1u, BLOCK_BYTES);
  const uint n = both ? PAIR_WORDS : (BLOCK_BYTES + 3u) / 4u;
  for (uint i = 0u; i < n; ++i) words[pair * PAIR_WORDS + i] = out_words[i];
}
