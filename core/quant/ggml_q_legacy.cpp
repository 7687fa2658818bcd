// The 32-element ggml block types q4_0, q4_1, q5_0, q5_1 and q8_0: ggml's reference quantizers
// (quantize_row_*_ref), its importance-weighted paths (quantize_row_*_impl) and dequantizers.
// "type-0" blocks store x = d·q, "type-1" blocks x = d·q + m. The reference scale is computed in
// fp32 and used unrounded for the codes; only the stored copy goes through fp16, as in ggml.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "core/quant/ggml_blocks.h"
#include "core/quant/ggml_lane_search.h"

namespace lowbit::ggml {
namespace {

// The codes of a q4_0 (kHalf = 8) or q5_0 (kHalf = 16) block: d = max / -kHalf, where max is the
// signed value of largest magnitude (the first one on ties, 0 for an all-zero block, as ggml's loop
// finds it), and q = min(2·kHalf - 1, trunc(x/d + kHalf + 0.5)) with the unrounded 1/d. Returns d.
template <int kHalf>
inline float type0_codes(const float* x, I8* L) {
  F8 v[4], m = splat(0);
  for (int k = 0; k < 4; ++k) {
    v[k] = load8(x + 8 * k);
    const F8 a = abs8(v[k]);
    m = m < a ? a : m;
  }
  const float amax = hmax8(m);  // exact in any order
  float max = 0.0f;
  if (amax > 0)
    for (int j = 0; j < kQK; ++j)
      if (std::fabs(x[j]) == amax) {
        max = x[j];
        break;
      }
  const float d = max / -kHalf;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  for (int k = 0; k < 4; ++k) {
    const I8 q = __builtin_convertvector(v[k] * id + splat(kHalf + 0.5f), I8);  // truncation, as (int8_t)
    L[k] = q > splat_i(2 * kHalf - 1) ? splat_i(2 * kHalf - 1) : q;
  }
  return d;
}

inline void min_max(const float* x, int n, float* min_out, float* max_out) {
  float min = FLT_MAX, max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
  *min_out = min;
  *max_out = max;
}

// The 5th bits of 32 codes, element j at bit j (j < 16 from the first half, j + 16 the second).
inline void pack_q5(const uint8_t* L, uint8_t* qs, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    const uint8_t xi0 = L[j], xi1 = L[j + 16];
    qs[j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
    qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
    qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
  }
  std::memcpy(qh_bytes, &qh, sizeof qh);
}

inline uint32_t load_qh(const uint8_t* qh_bytes) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof qh);
  return qh;
}

// σ² = Σx²/n over a row, summed in order: the weights of the legacy weighted paths are
// qw · sqrt(σ² + x²).
inline float row_sigma2(const float* x, int64_t n_per_row) {
  float sum_x2 = 0;
  for (int64_t j = 0; j < n_per_row; ++j) sum_x2 += x[j] * x[j];
  return sum_x2 / static_cast<float>(n_per_row);
}

}  // namespace

// ---- q4_0: d = max / -8 (max: the signed value of largest magnitude), q = min(15, trunc(x/d + 8.5)).
void quantize_q4_0(const float* x, uint8_t* y, int64_t nb) {
  I8 L[4];
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += sizeof(BlockQ4_0)) {
    BlockQ4_0 b;
    b.d = to_fp16(type0_codes<8>(x, L));
    for (int k = 0; k < 2; ++k) store_bytes8(L[k] | (L[k + 2] << 4), b.qs + 8 * k);
    store_block(y, b);
  }
}

void dequantize_q4_0(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += sizeof(BlockQ4_0), y += kQK) {
    const auto b = load_block<BlockQ4_0>(x);
    const float d = from_fp16(b.d);
    for (int j = 0; j < 16; ++j) {
      y[j] = static_cast<float>((b.qs[j] & 0x0F) - 8) * d;
      y[j + 16] = static_cast<float>((b.qs[j] >> 4) - 8) * d;
    }
  }
}

// ---- q4_1: d = (max - min) / 15, m = min, q = min(15, trunc((x - min)/d + 0.5)).
void quantize_q4_1(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += sizeof(BlockQ4_1)) {
    float min, max;
    min_max(x, kQK, &min, &max);
    const float d = (max - min) / ((1 << 4) - 1);
    const float id = d != 0 ? 1.0f / d : 0.0f;
    BlockQ4_1 b;
    b.d = to_fp16(d);
    b.m = to_fp16(min);
    for (int j = 0; j < 16; ++j) {
      const int xi0 = std::min(15, static_cast<int>(static_cast<int8_t>((x[j] - min) * id + 0.5f)));
      const int xi1 = std::min(15, static_cast<int>(static_cast<int8_t>((x[j + 16] - min) * id + 0.5f)));
      b.qs[j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
    }
    store_block(y, b);
  }
}

void dequantize_q4_1(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += sizeof(BlockQ4_1), y += kQK) {
    const auto b = load_block<BlockQ4_1>(x);
    const float d = from_fp16(b.d), m = from_fp16(b.m);
    for (int j = 0; j < 16; ++j) {
      y[j] = static_cast<float>(b.qs[j] & 0x0F) * d + m;
      y[j + 16] = static_cast<float>(b.qs[j] >> 4) * d + m;
    }
  }
}

// ---- q5_0: d = max / -16, q = min(31, trunc(x/d + 16.5)); low nibbles in qs, 5th bits in qh.
void quantize_q5_0(const float* x, uint8_t* y, int64_t nb) {
  I8 Lv[4];
  uint8_t L[kQK];
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += sizeof(BlockQ5_0)) {
    BlockQ5_0 b;
    b.d = to_fp16(type0_codes<16>(x, Lv));
    for (int k = 0; k < 4; ++k) store_bytes8(Lv[k], L + 8 * k);
    pack_q5(L, b.qs, b.qh);
    store_block(y, b);
  }
}

void dequantize_q5_0(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += sizeof(BlockQ5_0), y += kQK) {
    const auto b = load_block<BlockQ5_0>(x);
    const float d = from_fp16(b.d);
    const uint32_t qh = load_qh(b.qh);
    for (int j = 0; j < 16; ++j) {
      const int xh0 = static_cast<int>(((qh >> j) << 4) & 0x10);
      const int xh1 = static_cast<int>((qh >> (j + 12)) & 0x10);
      y[j] = static_cast<float>(((b.qs[j] & 0x0F) | xh0) - 16) * d;
      y[j + 16] = static_cast<float>(((b.qs[j] >> 4) | xh1) - 16) * d;
    }
  }
}

// ---- q5_1: d = (max - min) / 31, m = min, q = trunc((x - min)/d + 0.5).
void quantize_q5_1(const float* x, uint8_t* y, int64_t nb) {
  uint8_t L[kQK];
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += sizeof(BlockQ5_1)) {
    float min, max;
    min_max(x, kQK, &min, &max);
    const float d = (max - min) / ((1 << 5) - 1);
    const float id = d != 0 ? 1.0f / d : 0.0f;
    BlockQ5_1 b;
    b.d = to_fp16(d);
    b.m = to_fp16(min);
    for (int j = 0; j < kQK; ++j) L[j] = static_cast<uint8_t>((x[j] - min) * id + 0.5f);
    pack_q5(L, b.qs, b.qh);
    store_block(y, b);
  }
}

void dequantize_q5_1(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += sizeof(BlockQ5_1), y += kQK) {
    const auto b = load_block<BlockQ5_1>(x);
    const float d = from_fp16(b.d), m = from_fp16(b.m);
    const uint32_t qh = load_qh(b.qh);
    for (int j = 0; j < 16; ++j) {
      const int xh0 = static_cast<int>(((qh >> j) << 4) & 0x10);
      const int xh1 = static_cast<int>((qh >> (j + 12)) & 0x10);
      y[j] = static_cast<float>((b.qs[j] & 0x0F) | xh0) * d + m;
      y[j + 16] = static_cast<float>((b.qs[j] >> 4) | xh1) * d + m;
    }
  }
}

// ---- q8_0: d = max|x| / 127, q = round(x/d) (half away from zero, as roundf). Eight lanes at a
// time: the max of |x| is exact in any order, and the per-lane product and rounding are ggml's.
void quantize_q8_0(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += sizeof(BlockQ8_0)) {
    F8 v[4], m = splat(0);
    for (int k = 0; k < 4; ++k) {
      v[k] = load8(x + 8 * k);
      const F8 a = abs8(v[k]);
      m = m > a ? m : a;
    }
    const float amax = hmax8(m);
    const float d = amax / ((1 << 7) - 1);
    const float id = d != 0 ? 1.0f / d : 0.0f;
    BlockQ8_0 b;
    b.d = to_fp16(d);
    for (int k = 0; k < 4; ++k) {
      store_bytes8(round_away8(v[k] * id), reinterpret_cast<uint8_t*>(b.qs) + 8 * k);  // two's complement bytes
    }
    store_block(y, b);
  }
}

// ---- importance-weighted paths (quantize_row_*_impl with quant_weights) ----
// Codes and scales come from make_qx_quants (q4_0, q5_0: nmax 8, 16) or make_qkx3_quants (q4_1,
// q5_1: nmax 15, 31) with weights qw · sqrt(σ² + x²). Blocks are searched eight at a time in SIMD
// lanes (bit-identical to the scalar search, see ggml_lane_search.h); a row's last blocks, and the
// scalar oracle the tests use (lanes = false), take ggml's scalar search.

namespace {

struct GroupResult {
  uint8_t L[8 * kQK];  // codes of up to eight blocks, in row order
  float d[8], m[8];    // scale and stored min (ggml's -min) per block; m unused for type-0
};

template <bool kType1, int kNmax>
void search_blocks(const float* xb, const float* weight, int nblocks, bool lanes, GroupResult& r) {
  if (lanes && nblocks == kLanes) {
    F8 xt[kQK], wt[kQK];
    I8 Lt[kQK];
    transpose_in<kQK>(xb, 0, xt);
    transpose_in<kQK>(weight, 0, wt);
    F8 s, mn = splat(0);
    if constexpr (kType1)
      make_qkx_lanes<kQK, false, true>(xt, wt, kNmax, Lt, &s, &mn, -0.9f, 0.05f, 36);
    else
      s = make_qx_lanes<kQK>(xt, wt, kNmax, Lt);
    transpose_out<kQK>(Lt, 0, r.L);
    for (int j = 0; j < kLanes; ++j) r.d[j] = s[j], r.m[j] = -mn[j];
    return;
  }
  for (int b = 0; b < nblocks; ++b) {
    if constexpr (kType1) {
      uint8_t Laux[kQK];
      float min;
      r.d[b] = make_qkx3_quants(kQK, kNmax, xb + kQK * b, weight + kQK * b, r.L + kQK * b, &min, Laux, -0.9f, 0.05f, 36,
                                false);
      r.m[b] = -min;
    } else {
      int8_t L[kQK];
      r.d[b] = make_qx_quants(kQK, kNmax, xb + kQK * b, L, 1, weight + kQK * b);
      std::memcpy(r.L + kQK * b, L, kQK);
      r.m[b] = 0;
    }
  }
}

// One row: weights, searches in groups of eight blocks, then `pack(block index, codes, d, m)`.
template <bool kType1, int kNmax, class Pack>
void weighted_row(const float* x, int64_t n_per_row, const float* qw, bool lanes, Pack pack) {
  const float sigma2 = row_sigma2(x, n_per_row);
  const int64_t nb = n_per_row / kQK;
  float weight[8 * kQK];
  GroupResult r;
  for (int64_t ib = 0; ib < nb; ib += kLanes) {
    const int nblocks = static_cast<int>(std::min<int64_t>(kLanes, nb - ib));
    const float* xb = x + kQK * ib;
    for (int j = 0; j < kQK * nblocks; ++j) weight[j] = qw[kQK * ib + j] * std::sqrt(sigma2 + xb[j] * xb[j]);
    search_blocks<kType1, kNmax>(xb, weight, nblocks, lanes, r);
    for (int b = 0; b < nblocks; ++b) pack(ib + b, r.L + kQK * b, r.d[b], r.m[b]);
  }
}

void q4_0_weighted(const float* x, uint8_t* y, int64_t n_per_row, const float* qw, bool lanes) {
  weighted_row<false, 8>(x, n_per_row, qw, lanes, [&](int64_t ib, const uint8_t* L, float d, float) {
    BlockQ4_0 b;
    b.d = to_fp16(d);
    for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
    store_block(y + ib * sizeof(BlockQ4_0), b);
  });
}

void q4_1_weighted(const float* x, uint8_t* y, int64_t n_per_row, const float* qw, bool lanes) {
  weighted_row<true, 15>(x, n_per_row, qw, lanes, [&](int64_t ib, const uint8_t* L, float d, float m) {
    BlockQ4_1 b;
    b.d = to_fp16(d);
    b.m = to_fp16(m);
    for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
    store_block(y + ib * sizeof(BlockQ4_1), b);
  });
}

void q5_0_weighted(const float* x, uint8_t* y, int64_t n_per_row, const float* qw, bool lanes) {
  weighted_row<false, 16>(x, n_per_row, qw, lanes, [&](int64_t ib, const uint8_t* L, float d, float) {
    BlockQ5_0 b;
    b.d = to_fp16(d);
    pack_q5(L, b.qs, b.qh);
    store_block(y + ib * sizeof(BlockQ5_0), b);
  });
}

void q5_1_weighted(const float* x, uint8_t* y, int64_t n_per_row, const float* qw, bool lanes) {
  weighted_row<true, 31>(x, n_per_row, qw, lanes, [&](int64_t ib, const uint8_t* L, float d, float m) {
    BlockQ5_1 b;
    b.d = to_fp16(d);
    b.m = to_fp16(m);
    pack_q5(L, b.qs, b.qh);
    store_block(y + ib * sizeof(BlockQ5_1), b);
  });
}

}  // namespace

#define LOWBIT_LEGACY_WEIGHTED(t)                                                                  \
  void quantize_##t##_weighted(const float* x, uint8_t* y, int64_t n_per_row, const float* qw) {        \
    t##_weighted(x, y, n_per_row, qw, true);                                                       \
  }                                                                                                \
  void quantize_##t##_weighted_scalar(const float* x, uint8_t* y, int64_t n_per_row, const float* qw) { \
    t##_weighted(x, y, n_per_row, qw, false);                                                      \
  }
LOWBIT_LEGACY_WEIGHTED(q4_0)
LOWBIT_LEGACY_WEIGHTED(q4_1)
LOWBIT_LEGACY_WEIGHTED(q5_0)
LOWBIT_LEGACY_WEIGHTED(q5_1)
#undef LOWBIT_LEGACY_WEIGHTED

// ggml has no weighted q8_0 path: llama.cpp's quantize_q8_0 ignores the importance matrix.
void quantize_q8_0_weighted(const float* x, uint8_t* y, int64_t n_per_row, const float*) {
  quantize_q8_0(x, y, n_per_row / kQK);
}

void dequantize_q8_0(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += sizeof(BlockQ8_0), y += kQK) {
    const auto b = load_block<BlockQ8_0>(x);
    const float d = from_fp16(b.d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(b.qs[j]) * d;
  }
}

}  // namespace lowbit::ggml
