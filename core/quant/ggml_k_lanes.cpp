// The K-quant quantizers, reference and importance-weighted, with the sub-blocks of a super-block
// in SIMD lanes (ggml_lane_search.h): ggml's scale searches are chains of dependent float additions
// over one sub-block's elements, so they are latency-bound; lane j runs sub-block j's chain in
// ggml's order, so each lane rounds exactly as the scalar loop does while eight sub-blocks advance
// at once. The grids of sub-block scales and the requantize-and-pack steps are the scalar ones of
// ggml_k_quants.cpp. The plain scalar transcriptions (quantize_q*_K_scalar and
// quantize_q*_K_weighted_scalar) are the oracle the tests compare these kernels with.
#include <cmath>
#include <cstring>

#include "core/quant/ggml_blocks.h"
#include "core/quant/ggml_lane_search.h"

namespace lowbit::ggml {
namespace {

template <int kMaxCode, class Block>
void quantize_k4_lanes(const float* x, Block& b, uint8_t* L, float rmin, float rdelta, int nstep) {
  F8 xt[32], wt[32];
  I8 Lt[32];
  transpose_in<32>(x, 0, xt);
  F8 sum_x2 = splat(0);
  for (int l = 0; l < 32; ++l) sum_x2 += xt[l] * xt[l];
  const F8 av_x = sqrt8(sum_x2 / splat(32));
  for (int l = 0; l < 32; ++l) wt[l] = av_x + abs8(xt[l]);
  F8 scales_v, mins_v;
  make_qkx_lanes<32, false, false>(xt, wt, kMaxCode, Lt, &scales_v, &mins_v, rmin, rdelta, nstep);
  transpose_out<32>(Lt, 0, L);
  float scales[kLanes], mins[kLanes];
  for (int j = 0; j < kLanes; ++j) scales[j] = scales_v[j], mins[j] = mins_v[j];
  set_k4_scales(scales, mins, b.scales, &b.d, &b.dmin);
}

}  // namespace

void quantize_q2_K(const float* x, uint8_t* y, int64_t nb) {
  uint8_t L[kQK_K];
  float scales[kQK_K / 16], mins[kQK_K / 16];
  F8 xt[16], wt[16];
  I8 Lt[16];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K, y += sizeof(BlockQ2_K)) {
    for (int g = 0; g < 2; ++g) {
      transpose_in<16>(x, g * kLanes, xt);
      for (int l = 0; l < 16; ++l) wt[l] = abs8(xt[l]);
      F8 s, m;
      make_qkx_lanes<16, true, false>(xt, wt, 3, Lt, &s, &m, -0.5f, 0.1f, 15);
      transpose_out<16>(Lt, g * kLanes, L);
      for (int j = 0; j < kLanes; ++j) scales[g * kLanes + j] = s[j], mins[g * kLanes + j] = m[j];
    }
    BlockQ2_K b;
    set_q2_K_scales(scales, mins, b);
    finish_q2_K(x, L, b);
    store_block(y, b);
  }
}

void quantize_q3_K(const float* x, uint8_t* y, int64_t nb) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  F8 xt[16];
  I8 Lt[16];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K, y += sizeof(BlockQ3_K)) {
    for (int g = 0; g < 2; ++g) {
      transpose_in<16>(x, g * kLanes, xt);
      const F8 s = make_q3_lanes<16>(xt, 4, Lt);
      transpose_out<16>(Lt, g * kLanes, L);
      for (int j = 0; j < kLanes; ++j) scales[g * kLanes + j] = s[j];
    }
    BlockQ3_K b;
    set_q3_K_scales(scales, b);
    finish_q3_K(x, L, b);
    store_block(y, b);
  }
}

void quantize_q4_K(const float* x, uint8_t* y, int64_t nb) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K, y += sizeof(BlockQ4_K)) {
    BlockQ4_K b;
    quantize_k4_lanes<15>(x, b, L, -1.f, 0.1f, 20);
    finish_q4_K(x, L, b);
    store_block(y, b);
  }
}

void quantize_q5_K(const float* x, uint8_t* y, int64_t nb) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K, y += sizeof(BlockQ5_K)) {
    BlockQ5_K b;
    quantize_k4_lanes<31>(x, b, L, -0.5f, 0.1f, 15);
    finish_q5_K(x, L, b);
    store_block(y, b);
  }
}

void quantize_q6_K(const float* x, uint8_t* y, int64_t nb) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  F8 xt[16], wt[16];
  I8 Lt[16];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K, y += sizeof(BlockQ6_K)) {
    for (int g = 0; g < 2; ++g) {
      transpose_in<16>(x, g * kLanes, xt);
      for (int l = 0; l < 16; ++l) wt[l] = xt[l] * xt[l];
      const F8 s = make_qx_lanes<16>(xt, wt, 32, Lt);
      transpose_out<16>(Lt, g * kLanes, L);
      for (int j = 0; j < kLanes; ++j) scales[g * kLanes + j] = s[j];
    }
    BlockQ6_K b;
    if (set_q6_K_scales(scales, b)) finish_q6_K(x, L, b);
    store_block(y, b);
  }
}

// ---- importance-weighted paths (quantize_row_*_impl with quant_weights) ----

namespace {

// Element weights qw · sqrt(σ² + x²) of one super-block, in row order.
inline void impl_weights(const float* x, const float* qw, float sigma2, float* weight) {
  for (int l = 0; l < kQK_K; ++l) weight[l] = qw[l] * std::sqrt(sigma2 + x[l] * x[l]);
}

// Sub-block weight sums, summed in ggml's order (element 0 first) in each lane.
template <int n>
inline F8 lane_sums(const F8* wt) {
  F8 s = splat(0);
  for (int l = 0; l < n; ++l) s += wt[l];
  return s;
}

template <int kMaxCode, class Block>
void quantize_k4_weighted_lanes(const float* x, const float* qw, Block& b, uint8_t* L) {
  float weight[kQK_K], scales[kLanes], mins[kLanes], sw[kLanes];
  uint8_t Ls[kLanes], Lm[kLanes];
  F8 xt[32], wt[32];
  I8 Lt[32];
  impl_weights(x, qw, 2 * super_block_sum_x2(x) / kQK_K, weight);
  transpose_in<32>(x, 0, xt);
  transpose_in<32>(weight, 0, wt);
  const F8 swv = lane_sums<32>(wt);
  F8 s, m;
  make_qkx_lanes<32, false, true>(xt, wt, kMaxCode, Lt, &s, &m, -0.9f, 0.05f, 36);
  transpose_out<32>(Lt, 0, L);
  for (int j = 0; j < kLanes; ++j) scales[j] = s[j], mins[j] = m[j], sw[j] = swv[j];
  const float d_block = make_qp_quants(kLanes, 63, scales, Ls, sw);
  const float m_block = make_qp_quants(kLanes, 63, mins, Lm, sw);
  for (int j = 0; j < kLanes; ++j) {
    // q5_K clamps the codes to 6 bits (q4_K's path does not; make_qp_quants keeps them <= 63).
    const uint8_t ls = kMaxCode == 31 && Ls[j] > 63 ? 63 : Ls[j];
    const uint8_t lm = kMaxCode == 31 && Lm[j] > 63 ? 63 : Lm[j];
    put_scale_min_k4(j, ls, lm, b.scales);
  }
  b.d = to_fp16(d_block);
  b.dmin = to_fp16(m_block);
}

}  // namespace

void quantize_q2_K_weighted(const float* x, uint8_t* y, int64_t n_per_row, const float* qw) {
  uint8_t L[kQK_K], Ls[kQK_K / 16], Lm[kQK_K / 16];
  float weight[kQK_K], scales[kQK_K / 16], mins[kQK_K / 16], sw[kQK_K / 16];
  F8 xt[16], wt[16];
  I8 Lt[16];
  for (int64_t i = 0; i < n_per_row / kQK_K; ++i, x += kQK_K, y += sizeof(BlockQ2_K), qw += kQK_K) {
    impl_weights(x, qw, super_block_sum_x2(x) / kQK_K, weight);
    for (int g = 0; g < 2; ++g) {
      transpose_in<16>(x, g * kLanes, xt);
      transpose_in<16>(weight, g * kLanes, wt);
      const F8 swv = lane_sums<16>(wt);
      F8 s, m;
      make_qkx_lanes<16, false, true>(xt, wt, 3, Lt, &s, &m, -0.9f, 0.05f, 36);
      transpose_out<16>(Lt, g * kLanes, L);
      for (int j = 0; j < kLanes; ++j)
        scales[g * kLanes + j] = s[j], mins[g * kLanes + j] = m[j], sw[g * kLanes + j] = swv[j];
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

void quantize_q3_K_weighted(const float* x, uint8_t* y, int64_t n_per_row, const float* qw) {
  int8_t L[kQK_K], Ls[kQK_K / 16];
  float weight[kQK_K], scales[kQK_K / 16], sw[kQK_K / 16];
  F8 xt[16], wt[16];
  I8 Lt[16];
  for (int64_t i = 0; i < n_per_row / kQK_K; ++i, x += kQK_K, y += sizeof(BlockQ3_K), qw += kQK_K) {
    impl_weights(x, qw, 2 * super_block_sum_x2(x) / kQK_K, weight);
    for (int g = 0; g < 2; ++g) {
      transpose_in<16>(x, g * kLanes, xt);
      transpose_in<16>(weight, g * kLanes, wt);
      const F8 swv = lane_sums<16>(wt);
      const F8 s = make_qx_lanes<16>(xt, wt, 4, Lt);
      transpose_out<16>(Lt, g * kLanes, L);
      for (int j = 0; j < kLanes; ++j) scales[g * kLanes + j] = s[j], sw[g * kLanes + j] = swv[j];
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

void quantize_q4_K_weighted(const float* x, uint8_t* y, int64_t n_per_row, const float* qw) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n_per_row / kQK_K; ++i, x += kQK_K, y += sizeof(BlockQ4_K), qw += kQK_K) {
    BlockQ4_K b;
    quantize_k4_weighted_lanes<15>(x, qw, b, L);
    finish_q4_K(x, L, b);
    store_block(y, b);
  }
}

void quantize_q5_K_weighted(const float* x, uint8_t* y, int64_t n_per_row, const float* qw) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n_per_row / kQK_K; ++i, x += kQK_K, y += sizeof(BlockQ5_K), qw += kQK_K) {
    BlockQ5_K b;
    quantize_k4_weighted_lanes<31>(x, qw, b, L);
    finish_q5_K(x, L, b);
    store_block(y, b);
  }
}

// q6_K's weighted path fits the sub-block scales with the importances alone (no σ² term).
void quantize_q6_K_weighted(const float* x, uint8_t* y, int64_t n_per_row, const float* qw) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  F8 xt[16], wt[16];
  I8 Lt[16];
  for (int64_t i = 0; i < n_per_row / kQK_K; ++i, x += kQK_K, y += sizeof(BlockQ6_K), qw += kQK_K) {
    for (int g = 0; g < 2; ++g) {
      transpose_in<16>(x, g * kLanes, xt);
      transpose_in<16>(qw, g * kLanes, wt);
      const F8 s = make_qx_lanes<16>(xt, wt, 32, Lt);
      transpose_out<16>(Lt, g * kLanes, L);
      for (int j = 0; j < kLanes; ++j) scales[g * kLanes + j] = s[j];
    }
    BlockQ6_K b;
    if (set_q6_K_scales(scales, b)) finish_q6_K(x, L, b);
    store_block(y, b);
  }
}

}  // namespace lowbit::ggml
