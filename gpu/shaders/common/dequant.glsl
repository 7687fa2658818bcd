// On-the-fly dequantization of a weight matrix W[N,K] (row-major [out, in]) for the ops that read
// one: the format is chosen by exactly one define of the variant (gpu/CMakeLists.txt), and every
// format provides the same function,
//   void dequant8(WeightParams wp, uint row, uint k, out float v[8])
// the weights W[row, k .. k+7] as fp32, for k a multiple of 8 and row < N; elements at k+i >= K are
// 0 (only the float and int formats can have such K; the ggml block types need K % 32 == 0). Eight
// aligned consecutive weights of a ggml type always share one (sub-)block scale, so each call reads
// its scales once. WEIGHT_BINDING must be defined before including (common/weight_words.glsl).
//   WEIGHT_F32, WEIGHT_F16, WEIGHT_BF16                 common/dequant_float.glsl
//   WEIGHT_Q4_0, WEIGHT_Q4_1, WEIGHT_Q5_0, WEIGHT_Q5_1, WEIGHT_Q8_0   common/dequant_q.glsl
//   WEIGHT_Q2_K, WEIGHT_Q3_K, WEIGHT_Q4_K, WEIGHT_Q5_K, WEIGHT_Q6_K   common/dequant_k.glsl
//   WEIGHT_INT (int{b}g{g}{a|s}, the layout of gpu/ops/int_weights.h) common/dequant_int.glsl
#ifndef LOWBIT_COMMON_DEQUANT_GLSL
#define LOWBIT_COMMON_DEQUANT_GLSL

// What the dequantizers need to know of W beyond the format; filled from the op's push constants.
struct WeightParams {
  uint K;            // columns of W
  uint row_stride;   // ggml types: bytes per row; int family: 32-bit words of codes per row
  uint bits;         // int family: bits per code (2..8)
  uint group;        // int family: columns per (scale, zero) group
  uint groups;       // int family: groups per row
  uint grid_offset;  // int family: word index of the first (scale, zero) pair
};

#include "common/weight_words.glsl"

#if defined(WEIGHT_F32) || defined(WEIGHT_F16) || defined(WEIGHT_BF16)
#include "common/dequant_float.glsl"
#elif defined(WEIGHT_Q4_0) || defined(WEIGHT_Q4_1) || defined(WEIGHT_Q5_0) || defined(WEIGHT_Q5_1) || \
    defined(WEIGHT_Q8_0)
#include "common/dequant_q.glsl"
#elif defined(WEIGHT_Q2_K) || defined(WEIGHT_Q3_K) || defined(WEIGHT_Q4_K) || defined(WEIGHT_Q5_K) || \
    defined(WEIGHT_Q6_K)
#include "common/dequant_k.glsl"
#elif defined(WEIGHT_INT)
#include "common/dequant_int.glsl"
#else
#error "define one WEIGHT_<format> (common/dequant.glsl)"
#endif

#endif  // LOWBIT_COMMON_DEQUANT_GLSL
