// The K-quants (q2_K … q6_K, 256-element super-blocks): ggml's reference quantizers
// (quantize_row_*_ref), the steps they share with the weighted paths (requantizing every element
// against the fp16-rounded scales that were stored, then packing the codes) and the dequantizers.
// q2_K, q4_K and q5_K are "type-1" (x = d·sc·q - dmin·m), q3_K and q6_K "type-0" (x = d·sc·q).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/quant/ggml_blocks.h"

namespace lowbit::ggml {
namespace {

// Packs 2-bit codes: byte l of each 32-byte group holds elements l, l+32, l+64, l+96 of a 128-run.
inline void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK_K; j += 128)
    for (int l = 0; l < 32; ++l)
      qs[j / 4 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

}  // namespace

// ---- shared finishing steps (also used by ggml_k_quants_weighted.cpp) ----

void finish_q2_K(const float* x, uint8_t* L, BlockQ2_K& b) {
  const float d_all = from_fp16(b.d), m_all = from_fp16(b.dmin);
  for (int j = 0; j < kQK_K / 16; ++j) {
    const float d = d_all * static_cast<float>(b.scales[j] & 0xF);
    if (d == 0) continue;  // keeps the codes of the scale search, as ggml does
    const float dm = m_all * static_cast<float>(b.scales[j] >> 4);
    for (int ii = 0; ii < 16; ++ii) {
      const int l = nearest_int((x[16 * j + ii] + dm) / d);
      L[16 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(3, l)));
    }
  }
  pack_2bit(L, b.qs);
}

// L holds codes in 0..7 (3-bit value + 4) on return; the high bit goes to hmask: element j sets
// bit j / 32 of hmask[j % 32].
void finish_q3_K(const float* x, int8_t* L, BlockQ3_K& b) {
  const float d_all = from_fp16(b.d);
  for (int j = 0; j < kQK_K / 16; ++j) {
    const float d = d_all * static_cast<float>(q3_K_scale(b.scales, j));
    if (d == 0) continue;
    for (int ii = 0; ii < 16; ++ii) {
      const int l = nearest_int(x[16 * j + ii] / d);
      L[16 * j + ii] = static_cast<int8_t>(std::max(-4, std::min(3, l)) + 4);
    }
  }
  std::memset(b.hmask, 0, sizeof b.hmask);
  uint8_t Lu[kQK_K];
  int m = 0;
  uint8_t hm = 1;
  for (int j = 0; j < kQK_K; ++j) {
    Lu[j] = static_cast<uint8_t>(L[j]);
    if (L[j] > 3) {
      b.hmask[m] |= hm;
      Lu[j] = static_cast<uint8_t>(L[j] - 4);
    }
    if (++m == kQK_K / 8) {
      m = 0;
      hm = static_cast<uint8_t>(hm << 1);
    }
  }
  pack_2bit(Lu, b.qs);
}

template <int kMaxCode, class Block>
inline void requantize_k4(const float* x, uint8_t* L, const Block& b) {
  const float d_all = from_fp16(b.d), m_all = from_fp16(b.dmin);
  for (int j = 0; j < kQK_K / 32; ++j) {
    uint8_t sc, m;
    get_scale_min_k4(j, b.scales, &sc, &m);
    const float d = d_all * static_cast<float>(sc);
    if (d == 0) continue;
    const float dm = m_all * static_cast<float>(m);
    for (int ii = 0; ii < 32; ++ii) {
      const int l = nearest_int((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(kMaxCode, l)));
    }
  }
}

void finish_q4_K(const float* x, uint8_t* L, BlockQ4_K& b) {
  requantize_k4<15>(x, L, b);
  uint8_t* q = b.qs;
  for (int j = 0; j < kQK_K; j += 64, q += 32)
    for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
}

void finish_q5_K(const float* x, uint8_t* L, BlockQ5_K& b) {
  requantize_k4<31>(x, L, b);
  std::memset(b.qh, 0, sizeof b.qh);
  uint8_t* ql = b.qs;
  uint8_t m1 = 1, m2 = 2;
  for (int n = 0; n < kQK_K; n += 64, ql += 32) {
    for (int j = 0; j < 32; ++j) {
      int l1 = L[n + j];
      if (l1 > 15) {
        l1 -= 16;
        b.qh[j] |= m1;
      }
      int l2 = L[n + j + 32];
      if (l2 > 15) {
        l2 -= 16;
        b.qh[j] |= m2;
      }
      ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
    }
    m1 = static_cast<uint8_t>(m1 << 2);
    m2 = static_cast<uint8_t>(m2 << 2);
  }
}

void finish_q6_K(const float* x, int8_t* L, BlockQ6_K& b) {
  const float d_all = from_fp16(b.d);
  for (int j = 0; j < kQK_K / 16; ++j) {
    const float d = d_all * static_cast<float>(b.scales[j]);
    if (d == 0) continue;
    for (int ii = 0; ii < 16; ++ii) {
      const int l = nearest_int(x[16 * j + ii] / d);
      L[16 * j + ii] = static_cast<int8_t>(std::max(-32, std::min(31, l)) + 32);
    }
  }
  uint8_t* ql = b.ql;
  uint8_t* qh = b.qh;
  for (int j = 0; j < kQK_K; j += 128, ql += 64, qh += 32) {
    for (int l = 0; l < 32; ++l) {
      const int q1 = L[j + l + 0], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
      ql[l + 0] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
      ql[l + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
      qh[l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
    }
  }
}

// q6_K's super-block scale and 8-bit sub-block scales from the 16 sub-block scales; false for an
// all-zero super-block (then the block is all zeros).
bool set_q6_K_scales(const float* scales, BlockQ6_K& b) {
  float max_scale = 0, max_abs_scale = 0;
  for (int ib = 0; ib < kQK_K / 16; ++ib) {
    const float abs_scale = std::fabs(scales[ib]);
    if (abs_scale > max_abs_scale) {
      max_abs_scale = abs_scale;
      max_scale = scales[ib];
    }
  }
  if (max_abs_scale < kGroupMaxEps) {
    std::memset(&b, 0, sizeof b);
    b.d = to_fp16(0.f);
    return false;
  }
  const float iscale = -128.f / max_scale;
  b.d = to_fp16(1 / iscale);
  for (int ib = 0; ib < kQK_K / 16; ++ib)
    b.scales[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
  return true;
}

// ---- the reference grids of the sub-block scales ----

void set_q2_K_scales(const float* scales, const float* mins, BlockQ2_K& b) {
  const float q4scale = 15.f;
  float max_scale = 0, max_min = 0;  // scales are positive as the min is deducted
  for (int j = 0; j < kQK_K / 16; ++j) {
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  if (max_scale > 0) {
    const float iscale = q4scale / max_scale;
    for (int j = 0; j < kQK_K / 16; ++j) b.scales[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
    b.d = to_fp16(max_scale / q4scale);
  } else {
    std::memset(b.scales, 0, sizeof b.scales);
    b.d = to_fp16(0.f);
  }
  if (max_min > 0) {
    const float iscale = q4scale / max_min;
    for (int j = 0; j < kQK_K / 16; ++j)
      b.scales[j] = static_cast<uint8_t>(b.scales[j] | (nearest_int(iscale * mins[j]) << 4));
    b.dmin = to_fp16(max_min / q4scale);
  } else {
    b.dmin = to_fp16(0.f);
  }
}

void pack_q3_K_scales(const int* codes, uint8_t* scales) {
  std::memset(scales, 0, 12);
  for (int j = 0; j < kQK_K / 16; ++j) {
    int l = codes[j];
    if (j < 8)
      scales[j] = static_cast<uint8_t>(l & 0xF);
    else
      scales[j - 8] = static_cast<uint8_t>(scales[j - 8] | ((l & 0xF) << 4));
    l >>= 4;
    scales[j % 4 + 8] = static_cast<uint8_t>(scales[j % 4 + 8] | (l << (2 * (j / 4))));
  }
}

void set_q3_K_scales(const float* scales, BlockQ3_K& b) {
  float max_scale = 0, amax = 0;
  for (int j = 0; j < kQK_K / 16; ++j) {
    const float scale = std::fabs(scales[j]);
    if (scale > amax) {
      amax = scale;
      max_scale = scales[j];
    }
  }
  if (max_scale == 0) {
    std::memset(b.scales, 0, sizeof b.scales);
    b.d = to_fp16(0.f);
    return;
  }
  const float iscale = -32.f / max_scale;
  int codes[kQK_K / 16];
  for (int j = 0; j < kQK_K / 16; ++j) {
    const int l = static_cast<int8_t>(nearest_int(iscale * scales[j]));  // ggml stores it in an int8_t
    codes[j] = std::max(-32, std::min(31, l)) + 32;
  }
  pack_q3_K_scales(codes, b.scales);
  b.d = to_fp16(1 / iscale);
}

void set_k4_scales(const float* scales, const float* mins, uint8_t* packed, uint16_t* d, uint16_t* dmin) {
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < kQK_K / 32; ++j) {
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  for (int j = 0; j < kQK_K / 32; ++j) {
    const auto ls = static_cast<uint8_t>(nearest_int(inv_scale * scales[j]));
    const auto lm = static_cast<uint8_t>(nearest_int(inv_min * mins[j]));
    put_scale_min_k4(j, std::min<uint8_t>(63, ls), std::min<uint8_t>(63, lm), packed);
  }
  *d = to_fp16(max_scale / 63.f);
  *dmin = to_fp16(max_min / 63.f);
}

// ---- reference quantizers, one sub-block at a time (the oracle of ggml_k_lanes.cpp) ----

// q2_K: 16 sub-blocks of 16, codes 0..3; scales and mins by make_qkx2_quants with |x| weights.
void quantize_q2_K_scalar(const float* x, uint8_t* y, int64_t nb) {
  uint8_t L[kQK_K], Laux[16];
  float weights[16], mins[kQK_K / 16], scales[kQK_K / 16];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K, y += sizeof(BlockQ2_K)) {
    for (int j = 0; j < kQK_K / 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, true);
    }
    BlockQ2_K b;
    set_q2_K_scales(scales, mins, b);
    finish_q2_K(x, L, b);
    store_block(y, b);
  }
}

// q3_K: 16 sub-blocks of 16, codes -4..3; signed scales by make_q3_quants.
void quantize_q3_K_scalar(const float* x, uint8_t* y, int64_t nb) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K, y += sizeof(BlockQ3_K)) {
    for (int j = 0; j < kQK_K / 16; ++j) scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j, true);
    BlockQ3_K b;
    set_q3_K_scales(scales, b);
    finish_q3_K(x, L, b);
    store_block(y, b);
  }
}

namespace {

// q4_K / q5_K: 8 sub-blocks of 32; scales and mins by make_qkx2_quants with weights
// sqrt(mean x²) + |x|.
template <int kMaxCode, class Block>
void quantize_k4_scalar(const float* x, Block& b, uint8_t* L, float rmin, float rdelta, int nstep) {
  uint8_t Laux[32];
  float weights[32], mins[kQK_K / 32], scales[kQK_K / 32];
  for (int j = 0; j < kQK_K / 32; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = make_qkx2_quants(32, kMaxCode, xs, weights, L + 32 * j, &mins[j], Laux, rmin, rdelta, nstep, false);
  }
  set_k4_scales(scales, mins, b.scales, &b.d, &b.dmin);
}

}  // namespace

void quantize_q4_K_scalar(const float* x, uint8_t* y, int64_t nb) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K, y += sizeof(BlockQ4_K)) {
    BlockQ4_K b;
    quantize_k4_scalar<15>(x, b, L, -1.f, 0.1f, 20);
    finish_q4_K(x, L, b);
    store_block(y, b);
  }
}

void quantize_q5_K_scalar(const float* x, uint8_t* y, int64_t nb) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K, y += sizeof(BlockQ5_K)) {
    BlockQ5_K b;
    quantize_k4_scalar<31>(x, b, L, -0.5f, 0.1f, 15);
    finish_q5_K(x, L, b);
    store_block(y, b);
  }
}

// q6_K: 16 sub-blocks of 16, codes -32..31; scales by make_qx_quants with x² weights.
void quantize_q6_K_scalar(const float* x, uint8_t* y, int64_t nb) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K, y += sizeof(BlockQ6_K)) {
    for (int ib = 0; ib < kQK_K / 16; ++ib) scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, 1, nullptr);
    BlockQ6_K b;
    if (set_q6_K_scales(scales, b)) finish_q6_K(x, L, b);
    store_block(y, b);
  }
}

// ---- dequantizers (ggml's dequantize_row_*, same products) ----

void dequantize_q2_K(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += sizeof(BlockQ2_K)) {
    const auto b = load_block<BlockQ2_K>(x);
    const float d = from_fp16(b.d), min = from_fp16(b.dmin);
    const uint8_t* q = b.qs;
    int is = 0;
    for (int n = 0; n < kQK_K; n += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int half = 0; half < 2; ++half) {
          const uint8_t sc = b.scales[is++];
          const float dl = d * static_cast<float>(sc & 0xF), ml = min * static_cast<float>(sc >> 4);
          for (int l = 0; l < 16; ++l) *y++ = dl * static_cast<float>((q[l + 16 * half] >> shift) & 3) - ml;
        }
      }
    }
  }
}

void dequantize_q3_K(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += sizeof(BlockQ3_K)) {
    const auto b = load_block<BlockQ3_K>(x);
    const float d_all = from_fp16(b.d);
    const uint8_t* q = b.qs;
    uint8_t m = 1;
    int is = 0;
    for (int n = 0; n < kQK_K; n += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m = static_cast<uint8_t>(m << 1)) {
        for (int half = 0; half < 2; ++half) {
          const float dl = d_all * static_cast<float>(q3_K_scale(b.scales, is++));
          for (int l = 0; l < 16; ++l) {
            const int k = l + 16 * half;
            const int v = ((q[k] >> shift) & 3) - ((b.hmask[k] & m) ? 0 : 4);
            *y++ = dl * static_cast<float>(v);
          }
        }
      }
    }
  }
}

void dequantize_q4_K(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += sizeof(BlockQ4_K)) {
    const auto b = load_block<BlockQ4_K>(x);
    const float d = from_fp16(b.d), min = from_fp16(b.dmin);
    const uint8_t* q = b.qs;
    for (int is = 0; is < 8; is += 2, q += 32) {
      uint8_t sc, m;
      get_scale_min_k4(is + 0, b.scales, &sc, &m);
      const float d1 = d * static_cast<float>(sc), m1 = min * static_cast<float>(m);
      get_scale_min_k4(is + 1, b.scales, &sc, &m);
      const float d2 = d * static_cast<float>(sc), m2 = min * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void dequantize_q5_K(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += sizeof(BlockQ5_K)) {
    const auto b = load_block<BlockQ5_K>(x);
    const float d = from_fp16(b.d), min = from_fp16(b.dmin);
    const uint8_t* ql = b.qs;
    uint8_t u1 = 1, u2 = 2;
    for (int is = 0; is < 8; is += 2, ql += 32) {
      uint8_t sc, m;
      get_scale_min_k4(is + 0, b.scales, &sc, &m);
      const float d1 = d * static_cast<float>(sc), m1 = min * static_cast<float>(m);
      get_scale_min_k4(is + 1, b.scales, &sc, &m);
      const float d2 = d * static_cast<float>(sc), m2 = min * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>((ql[l] & 0xF) + (b.qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>((ql[l] >> 4) + (b.qh[l] & u2 ? 16 : 0)) - m2;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

void dequantize_q6_K(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += sizeof(BlockQ6_K)) {
    const auto b = load_block<BlockQ6_K>(x);
    const float d = from_fp16(b.d);
    const uint8_t* ql = b.ql;
    const uint8_t* qh = b.qh;
    const int8_t* sc = b.scales;
    for (int n = 0; n < kQK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l + 0] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

}  // namespace lowbit::ggml
