// The importance-weighted K-quant paths of llama.cpp (quantize_row_*_impl with quant_weights), one
// row at a time. Element weights are qw · sqrt(σ² + x²) with σ² from the super-block (q2_K: Σx²/256;
// q3_K, q4_K, q5_K: 2·Σx²/256); q6_K uses qw alone. Sub-block scales (and mins) are then fitted
// with the per-sub-block weight sums (make_qp_quants / make_qx_quants) instead of the reference's
// max-based grid. The requantize-and-pack steps are the reference's (ggml_k_quants.cpp). These are
// plain transcriptions, one sub-block at a time: the oracle of the lane-parallel kernels that
// ggml_quantize_weighted runs (ggml_k_lanes.cpp).
#include <cmath>
#include <cstring>

#include "core/quant/ggml_blocks.h"

namespace lowbit::ggml {

namespace {

template <int n>
inline float weights_and_sum(const float* x, const float* qw, float sigma2, float* weight) {
  for (int l = 0; l < n; ++l) weight[l] = qw[l] * std::sqrt(sigma2 + x[l] * x[l]);
  float sumw = 0;
  for (int l = 0; l < n; ++l) sumw += weight[l];
  return sumw;
}

// q4_K / q5_K: scales and mins of the 8 sub-blocks by make_qkx3_quants, their 6-bit codes by
// make_qp_quants weighted with the sub-block weight sums.
template <int kMaxCode, class Block>
void quantize_k4_weighted(const float* x, const float* qw, Block& b, uint8_t* L) {
  uint8_t Laux[32], Ls[kQK_K / 32], Lm[kQK_K / 32];
  float weights[32], sw[kQK_K / 32], mins[kQK_K / 32], scales[kQK_K / 32];
  const float sigma2 = 2 * super_block_sum_x2(x) / kQK_K;
  for (int j = 0; j < kQK_K / 32; ++j) {
    sw[j] = weights_and_sum<32>(x + 32 * j, qw + 32 * j, sigma2, weights);
    scales[j] = make_qkx3_quants(32, kMaxCode, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -0.9f, 0.05f, 36, false);
  }
  const float d_block = make_qp_quants(kQK_K / 32, 63, scales, Ls, sw);
  const float m_block = make_qp_quants(kQK_K / 32, 63, mins, Lm, sw);
  for (int j = 0; j < kQK_K / 32; ++j) {
    // q5_K clamps the codes to 6 bits (q4_K's path does not; make_qp_quants keeps them <= 63).
    const uint8_t ls = kMaxCode == 31 && Ls[j] > 63 ? 63 : Ls[j];
    const uint8_t lm = kMaxCode == 31 && Lm[j] > 63 ? 63 : Lm[j];
    put_scale_min_k4(j, ls, lm, b.scales);
  }
  b.d = to_fp16(d_block);
  b.dmin = to_fp16(m_block);
}

}  // namespace

void quantize_q2_K_weighted_scalar(const float* x, uint8_t* y, int64_t n_per_row, const float* qw) {
  uint8_t L[kQK_K], Laux[16], Ls[kQK_K / 16], Lm[kQK_K / 16];
  float mins[kQK_K / 16], scales[kQK_K / 16], sw[kQK_K / 16], weight[16];
  for (int64_t i = 0; i < n_per_row / kQK_K; ++i, x += kQK_K, y += sizeof(BlockQ2_K), qw += kQK_K) {
    const float sigma2 = super_block_sum_x2(x) / kQK_K;
    for (int j = 0; j < kQK_K / 16; ++j) {
      sw[j] = weights_and_sum<16>(x + 16 * j, qw + 16 * j, sigma2, weight);
      scales[j] = make_qkx3_quants(16, 3, x + 16 * j, weight, L + 16 * j, &mins[j], Laux, -0.9f, 0.05f, 36, false);
    }
    const float dm = make_qp_quants(kQK_K / 16, 15, scales, Ls, sw);
    const float mm = make_qp_quants(kQK_K / 16, 15, mins, Lm, sw);
    BlockQ2_K b;
    b.d = to_fp16(dm);
    b.dmin = to_fp16(mm);
    for (int j = 0; j < kQK_K / 16; ++j) b.scales[j] = static_cast<uint8_t>(Ls[j] | (Lm[j] << 4));
    finish_q2_K(x, L, b);
    store_block(y, b);
  }
}

void quantize_q3_K_weighted_scalar(const float* x, uint8_t* y, int64_t n_per_row, const float* qw) {
  int8_t L[kQK_K], Ls[kQK_K / 16];
  float scales[kQK_K / 16], weight[16], sw[kQK_K / 16];
  for (int64_t i = 0; i < n_per_row / kQK_K; ++i, x += kQK_K, y += sizeof(BlockQ3_K), qw += kQK_K) {
    const float sigma2 = 2 * super_block_sum_x2(x) / kQK_K;
    for (int j = 0; j < kQK_K / 16; ++j) {
      sw[j] = weights_and_sum<16>(x + 16 * j, qw + 16 * j, sigma2, weight);
      scales[j] = make_qx_quants(16, 4, x + 16 * j, L + 16 * j, 1, weight);
    }
    const float d_block = make_qx_quants(kQK_K / 16, 32, scales, Ls, 1, sw);
    int codes[kQK_K / 16];
    for (int j = 0; j < kQK_K / 16; ++j) codes[j] = Ls[j];
    BlockQ3_K b;
    pack_q3_K_scales(codes, b.scales);
    b.d = to_fp16(d_block);
    finish_q3_K(x, L, b);
    store_block(y, b);
  }
}

void quantize_q4_K_weighted_scalar(const float* x, uint8_t* y, int64_t n_per_row, const float* qw) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n_per_row / kQK_K; ++i, x += kQK_K, y += sizeof(BlockQ4_K), qw += kQK_K) {
    BlockQ4_K b;
    quantize_k4_weighted<15>(x, qw, b, L);
    finish_q4_K(x, L, b);
    store_block(y, b);
  }
}

void quantize_q5_K_weighted_scalar(const float* x, uint8_t* y, int64_t n_per_row, const float* qw) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n_per_row / kQK_K; ++i, x += kQK_K, y += sizeof(BlockQ5_K), qw += kQK_K) {
    BlockQ5_K b;
    quantize_k4_weighted<31>(x, qw, b, L);
    finish_q5_K(x, L, b);
    store_block(y, b);
  }
}

void quantize_q6_K_weighted_scalar(const float* x, uint8_t* y, int64_t n_per_row, const float* qw) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < n_per_row / kQK_K; ++i, x += kQK_K, y += sizeof(BlockQ6_K), qw += kQK_K) {
    for (int ib = 0; ib < kQK_K / 16; ++ib) scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, 1, qw + 16 * ib);
    BlockQ6_K b;
    if (set_q6_K_scales(scales, b)) finish_q6_K(x, L, b);
    store_block(y, b);
  }
}

}  // namespace lowbit::ggml
