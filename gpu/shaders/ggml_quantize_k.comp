#version 450
// ggml_quantize_k: ggml's reference quantizers of the K-quant types — q2_K, q3_K, q4_K, q5_K, q6_K
// (common/ggml_k.glsl) — packed into their 256-weight super-blocks as ggml lays them out, bit for
// bit the CPU's bytes (core/quant/ggml_k_quants.cpp). The weights are one flat run of super-blocks
// (rows are whole super-blocks). One invocation quantizes a pair of super-blocks, whose bytes are a
// whole number of 32-bit words for every type; the last block of an odd count is written alone (the
// buffer is padded to a word). K_WEIGHTED (ggml_quantize_weighted_q4_k, _q5_k): ggml's
// importance-weighted paths of q4_K and q5_K instead (`--mse`, and the importances of GPTQ's
// weighted grids), one importance per column (rows are whole super-blocks of `cols` columns).

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "common/exact_float.glsl"
#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) readonly buffer WBuf { float w[]; };
layout(std430, set = 0, binding = 1) buffer OutBuf { uint words[]; };

#if defined(K_WEIGHTED)
layout(std430, set = 0, binding = 2) readonly buffer QwBuf { float qw[]; };

// Mirrored by GgmlKWeightedPush in gpu/ops/ggml_quantize_op.cpp.
layout(push_constant) uniform Params {
  uint blocks;  // 256-weight super-blocks in all
  uint cols;    // of a row
} p;
#else
// Mirrored by GgmlQuantizePush in gpu/ops/ggml_quantize_op.cpp.
layout(push_constant) uniform Params {
  uint blocks;  // 256-weight super-blocks in all
} p;
#endif

uint k_base;  // the first weight of the super-block being quantized
float k_x(uint i) { return w[k_base + i]; }
#if defined(K_WEIGHTED)
float k_qw(uint i) { return qw[(k_base + i) % p.cols]; }
#endif

#include "common/ggml_k.glsl"

void main() {
  const uint pair = element_index();
  const uint b0 = 2u * pair;
  if (b0 >= p.blocks) return;
  for (uint i = 0u; i < K_PAIR_WORDS; ++i) k_out[i] = 0u;
  k_base = 256u * b0;
  k_quantize(0u);
  const bool both = b0 + 1u < p.blocks;
  if (both) {
    k_base += 256u;
    k_quantize(K_BLOCK_BYTES);
  }
  const uint n = both ? K_PAIR_WORDS : (K_BLOCK_BYTES + 3u) / 4u;
  for (uint i = 0u; i < n; ++i) words[pair * K_PAIR_WORDS + i] = k_out[i];
}
