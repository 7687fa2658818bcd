#version 450
// ggml_quantize_legacy: ggml's reference quantizers of the legacy 32-weight block types — q4_0,
// q4_1, q5_0, q5_1, q8_0 (common/ggml_legacy.glsl) — packed into their blocks as ggml lays them out,
// bit for bit the CPU's bytes (core/quant/ggml_q_legacy.cpp). The weights are one flat run of blocks
// (rows are whole blocks). One invocation quantizes a pair of blocks, whose bytes are a whole number
// of 32-bit words for every type; the last block of an odd count is written alone (the buffer is
// padded to a word). WEIGHTED (ggml_quantize_weighted_*): ggml's importance-weighted paths instead
// (common/ggml_legacy.glsl legacy_quantize_weighted; `--mse`), with element weights
// qw[column] · sqrt(σ²[row] + x²) — σ² from ggml_row_sigma2.comp, qw one per column (all ones for
// the scale search alone).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "common/exact_float.glsl"
#include "common/ggml_legacy.glsl"
#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) readonly buffer WBuf { float w[]; };
layout(std430, set = 0, binding = 1) buffer OutBuf { uint words[]; };

#if defined(WEIGHTED)
layout(std430, set = 0, binding = 2) readonly buffer SigmaBuf { float sigma2[]; };
layout(std430, set = 0, binding = 3) readonly buffer QwBuf { float qw[]; };

// Mirrored by GgmlWeightedPush in gpu/ops/ggml_quantize_op.cpp.
layout(push_constant) uniform Params {
  uint blocks;          // 32-weight blocks in all
  uint blocks_per_row;  // of a row
} p;
#else
// Mirrored by GgmlQuantizePush in gpu/ops/ggml_quantize_op.cpp.
layout(push_constant) uniform Params {
  uint blocks;  // 32-weight blocks in all
} p;
#endif

#define PAIR_WORDS ((2u * LEGACY_BLOCK_BYTES) / 4u)

uint out_words[PAIR_WORDS];

void put_byte(uint pos, uint v) {
  out_words[pos >> 2] |= (v & 0xFFu) << ((pos & 3u) * 8u);
}
void put_u16(uint pos, uint v) {
  put_byte(pos, v);
  put_byte(pos + 1u, v >> 8);
}

// Block b's bytes at byte `at` of the pair: d (and m), the 5th bits (q5), the codes.
void quantize_block(uint b, uint at) {
  float x[32];
  for (uint j = 0u; j < 32u; ++j) x[j] = w[b * 32u + j];
  uint L[32];
  uint d_bits, m_bits;
#if defined(WEIGHTED)
  const uint row = b / p.blocks_per_row, c0 = (b % p.blocks_per_row) * 32u;
  float wt[32];
  for (uint j = 0u; j < 32u; ++j) {
    precise float x2 = x[j] * x[j];
    precise float v = sigma2[row] + x2;
    precise float wj = qw[c0 + j] * sqrt_rn(v);
    wt[j] = wj;
  }
  legacy_quantize_weighted(x, wt, L, d_bits, m_bits);
#else
  legacy_quantize(x, L, d_bits, m_bits);
#endif
  put_u16(at, d_bits);
#if defined(Q8_0)
  for (uint j = 0u; j < 32u; ++j) put_byte(at + 2u + j, L[j]);
#else
#if defined(Q4_1) || defined(Q5_1)
  put_u16(at + 2u, m_bits);
  uint next = at + 4u;
#else
  uint next = at + 2u;
#endif
#if defined(Q5_0) || defined(Q5_1)
  uint qh = 0u;
  for (uint j = 0u; j < 16u; ++j) qh |= ((L[j] >> 4) & 1u) << j | ((L[j + 16u] >> 4) & 1u) << (j + 16u);
  for (uint k = 0u; k < 4u; ++k) put_byte(next + k, qh >> (8u * k));
  next += 4u;
#endif
  for (uint j = 0u; j < 16u; ++j) put_byte(next + j, (L[j] & 15u) | ((L[j + 16u] & 15u) << 4));
#endif
}

void main() {
  const uint pair = element_index();
  const uint b0 = 2u * pair;
  if (b0 >= p.blocks) return;
  for (uint i = 0u; i < PAIR_WORDS; ++i) out_words[i] = 0u;
  quantize_block(b0, 0u);
  const bool both = b0 + 1u < p.blocks;
  if (both) quantize_block(b0 + 1u, LEGACY_BLOCK_BYTES);
  const uint n = both ? PAIR_WORDS : (LEGACY_BLOCK_BYTES + 3u) / 4u;
  for (uint i = 0u; i < n; ++i) words[pair * PAIR_WORDS + i] = out_words[i];
}
