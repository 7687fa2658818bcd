// Internal to the ggml format sources (core/quant/ggml_*.cpp): the block layouts of ggml-common.h
// as plain structs, ggml's scalar helpers (nearest_int, fp16 round trips), the scale searches that
// several types share (ggml_scale_search.cpp) and the per-type kernels. Blocks are assembled in a
// local struct and copied to the destination with memcpy, so destinations need no alignment.
// Every float expression here keeps ggml's order and association; the sources that include this
// header build with -ffp-contract=off so that no FMA changes a rounding.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "core/tensor/half.h"

namespace lowbit::ggml {

constexpr int kQK = 32;    // elements of a q4_0 … q8_0 block
constexpr int kQK_K = 256;  // elements of a K-quant super-block
constexpr float kGroupMaxEps = 1e-15f;  // GROUP_MAX_EPS: a group below this max is all zero

struct BlockQ4_0 { uint16_t d; uint8_t qs[16]; };
struct BlockQ4_1 { uint16_t d, m; uint8_t qs[16]; };
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };
struct BlockQ5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; };
struct BlockQ8_0 { uint16_t d; int8_t qs[32]; };
struct BlockQ2_K { uint8_t scales[16]; uint8_t qs[64]; uint16_t d, dmin; };
struct BlockQ3_K { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; };
struct BlockQ4_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; };
struct BlockQ5_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; };
struct BlockQ6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; };

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 &&
              sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144 &&
              sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210);

template <class Block>
inline void store_block(uint8_t* dst, const Block& b) {
  static_assert(std::is_trivially_copyable_v<Block>);
  std::memcpy(dst, &b, sizeof b);
}
template <class Block>
inline Block load_block(const uint8_t* src) {
  Block b;
  std::memcpy(&b, src, sizeof b);
  return b;
}

// ggml's nearest_int: adding 1.5·2^23 puts the rounded integer (half to even) in the low mantissa
// bits. Valid for |f| <= 2^22 - 1; outside that range it returns what ggml returns.
inline int nearest_int(float f) {
  const float v = f + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, sizeof i);
  return (i & 0x007fffff) - 0x00400000;
}

inline uint16_t to_fp16(float f) { return f32_to_f16(f); }
inline float from_fp16(uint16_t h) { return f16_to_f32(h); }

// Scale searches of ggml-quants.c (ggml_scale_search.cpp). Names and arguments follow ggml's.
float make_qx_quants(int n, int nmax, const float* x, int8_t* L, int rmse_type, const float* qw);
float make_q3_quants(int n, int nmax, const float* x, int8_t* L, bool do_rmse);
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                       uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad);
float make_qkx3_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                       uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad);
float make_qp_quants(int n, int nmax, const float* x, uint8_t* L, const float* quant_weights);

// Σ x² over a super-block, in order (σ² of the weighted K-quant paths).
inline float super_block_sum_x2(const float* x) {
  float sum_x2 = 0;
  for (int j = 0; j < kQK_K; ++j) sum_x2 += x[j] * x[j];
  return sum_x2;
}

// The 6-bit scale/min packing of q4_K and q5_K (get_scale_min_k4 and its inverse).
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
  }
}
inline void put_scale_min_k4(int j, uint8_t ls, uint8_t lm, uint8_t* q) {
  if (j < 4) {
    q[j] = ls;
    q[j + 4] = lm;
  } else {
    q[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
    q[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
    q[j - 0] |= static_cast<uint8_t>((lm >> 4) << 6);
  }
}

// The 6-bit signed sub-block scale j of q3_K (stored + 32: low 4 bits in bytes 0..7, high 2 bits
// in bytes 8..11).
inline int q3_K_scale(const uint8_t* scales, int j) {
  const int lo = j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4;
  return static_cast<int8_t>(lo | (((scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
}

// Per-type kernels. `quantize_*` process whole blocks (nb of them) with the reference algorithm;
// `quantize_*_weighted` process one row of n_per_row elements with per-column weights qw;
// `dequantize_*` decode nb blocks.
#define LOWBIT_GGML_KERNELS(t)                                                                  \
  void quantize_##t(const float* x, uint8_t* y, int64_t nb);                                    \
  void quantize_##t##_weighted(const float* x, uint8_t* y, int64_t n_per_row, const float* qw); \
  void dequantize_##t(const uint8_t* x, float* y, int64_t nb);
LOWBIT_GGML_KERNELS(q4_0)
LOWBIT_GGML_KERNELS(q4_1)
LOWBIT_GGML_KERNELS(q5_0)
LOWBIT_GGML_KERNELS(q5_1)
LOWBIT_GGML_KERNELS(q8_0)
LOWBIT_GGML_KERNELS(q2_K)
LOWBIT_GGML_KERNELS(q3_K)
LOWBIT_GGML_KERNELS(q4_K)
LOWBIT_GGML_KERNELS(q5_K)
LOWBIT_GGML_KERNELS(q6_K)
#undef LOWBIT_GGML_KERNELS

// The quantizers as plain transcriptions of ggml's loops, one (sub-)block at a time
// (ggml_k_quants.cpp, ggml_k_quants_weighted.cpp, ggml_q_legacy.cpp). The kernels above compute the
// same bytes with eight (sub-)blocks in SIMD lanes (ggml_k_lanes.cpp, ggml_lane_search.h); these are
// kept as the oracle the tests compare those with.
void quantize_q2_K_scalar(const float* x, uint8_t* y, int64_t nb);
void quantize_q3_K_scalar(const float* x, uint8_t* y, int64_t nb);
void quantize_q4_K_scalar(const float* x, uint8_t* y, int64_t nb);
void quantize_q5_K_scalar(const float* x, uint8_t* y, int64_t nb);
void quantize_q6_K_scalar(const float* x, uint8_t* y, int64_t nb);
void quantize_q4_0_weighted_scalar(const float* x, uint8_t* y, int64_t n_per_row, const float* qw);
void quantize_q4_1_weighted_scalar(const float* x, uint8_t* y, int64_t n_per_row, const float* qw);
void quantize_q5_0_weighted_scalar(const float* x, uint8_t* y, int64_t n_per_row, const float* qw);
void quantize_q5_1_weighted_scalar(const float* x, uint8_t* y, int64_t n_per_row, const float* qw);
void quantize_q2_K_weighted_scalar(const float* x, uint8_t* y, int64_t n_per_row, const float* qw);
void quantize_q3_K_weighted_scalar(const float* x, uint8_t* y, int64_t n_per_row, const float* qw);
void quantize_q4_K_weighted_scalar(const float* x, uint8_t* y, int64_t n_per_row, const float* qw);
void quantize_q5_K_weighted_scalar(const float* x, uint8_t* y, int64_t n_per_row, const float* qw);
void quantize_q6_K_weighted_scalar(const float* x, uint8_t* y, int64_t n_per_row, const float* qw);

// Steps shared by the reference and weighted K-quant paths (ggml_k_quants.cpp): requantize every
// element against the stored (fp16-rounded) scales, where a sub-block's scale is non-zero, and
// pack the codes. L holds the codes of the scale search on entry.
void finish_q2_K(const float* x, uint8_t* L, BlockQ2_K& b);
void finish_q3_K(const float* x, int8_t* L, BlockQ3_K& b);
void finish_q4_K(const float* x, uint8_t* L, BlockQ4_K& b);
void finish_q5_K(const float* x, uint8_t* L, BlockQ5_K& b);
void finish_q6_K(const float* x, int8_t* L, BlockQ6_K& b);
// q3_K's 6-bit signed sub-block scales (stored + 32) from 16 codes in 0..63.
void pack_q3_K_scales(const int* codes, uint8_t* scales);
// q6_K's super-block scale and 8-bit sub-block scales; false (and a zero block) when all are ~0.
bool set_q6_K_scales(const float* scales, BlockQ6_K& b);
// q2_K's 4-bit scales and mins against max / 15 (the reference grid).
void set_q2_K_scales(const float* scales, const float* mins, BlockQ2_K& b);
// q3_K's reference grid: 6-bit scales against max_scale / -32.
void set_q3_K_scales(const float* scales, BlockQ3_K& b);
// q4_K / q5_K's reference grid: 6-bit scales and mins against max / 63.
void set_k4_scales(const float* scales, const float* mins, uint8_t* packed, uint16_t* d, uint16_t* dmin);

}  // namespace lowbit::ggml
