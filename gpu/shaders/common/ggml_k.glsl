// ggml's reference quantizers of the K-quant types (quantize_row_*_ref of ggml-quants.c;
// core/quant/ggml_k_quants.cpp and ggml_scale_search.cpp are the oracle), one 256-weight super-block
// at a time, packed into ggml's block layout. The including shader defines one of Q2_K, Q3_K, Q4_K,
// Q5_K, Q6_K, includes common/exact_float.glsl first and defines `float k_x(uint i)`, weight i of
// the super-block being quantized, before including this file:
//   q2_K:        16 sub-blocks of 16, codes 0..3, scale and min by make_qkx2_quants (|x| weights,
//                absolute error), 4-bit scales and mins against max / 15;
//   q3_K:        16 sub-blocks of 16, codes −4..3 by make_q3_quants, 6-bit signed scales against
//                max / −32;
//   q4_K / q5_K: 8 sub-blocks of 32, codes 0..15 (31) by make_qkx2_quants (weights sqrt(mean x²)
//                + |x|), 6-bit scales and mins against max / 63;
//   q6_K:        16 sub-blocks of 16, codes −32..31 by make_qx_quants (x² weights), 8-bit signed
//                scales against max / −128;
// then every weight is requantized against the fp16-rounded scales that are stored (where a
// sub-block's scale is not zero). Every product and sum is rounded on its own (precise), in ggml's
// order and association; divisions and square roots are exact (div_rn, sqrt_rn), so the bytes equal
// the CPU's. k_quantize(at) writes one block at byte `at` of k_out, which the caller zeroes first;
// k_grid, k_code and k_value read the block at byte 0 back.
#ifndef LOWBIT_COMMON_GGML_K_GLSL
#define LOWBIT_COMMON_GGML_K_GLSL
#include "common/ggml_qkx_fit.glsl"

#if defined(Q2_K)
#define K_BLOCK_BYTES 84u
#elif defined(Q3_K)
#define K_BLOCK_BYTES 110u
#elif defined(Q4_K)
#define K_BLOCK_BYTES 144u
#elif defined(Q5_K)
#define K_BLOCK_BYTES 176u
#elif defined(Q6_K)
#define K_BLOCK_BYTES 210u
#endif
// Two blocks are a whole number of 32-bit words for every K type.
#define K_PAIR_WORDS ((2u * K_BLOCK_BYTES) / 4u)

const float kGroupMaxEps = 1e-15;  // ggml's GROUP_MAX_EPS

uint k_out[K_PAIR_WORDS];
int k_L[256];  // the codes of the super-block, stored form (offset to non-negative)

void k_put_byte(uint pos, uint v) { k_out[pos >> 2] |= (v & 0xFFu) << ((pos & 3u) * 8u); }
void k_put_u16(uint pos, uint v) {
  k_put_byte(pos, v);
  k_put_byte(pos + 1u, v >> 8);
}

uint k_byte(uint pos) { return (k_out[pos >> 2] >> ((pos & 3u) * 8u)) & 0xFFu; }
uint k_u16(uint pos) { return k_byte(pos) | (k_byte(pos + 1u) << 8); }

// Packs 2-bit codes c(i) = (k_L[i] − sub) & 3 at byte `at`: byte l of each 32-byte group holds
// elements l, l+32, l+64, l+96 of a 128-run.
void k_pack_2bit(uint at, int sub) {
  for (uint j = 0u; j < 256u; j += 128u)
    for (uint l = 0u; l < 32u; ++l) {
      uint v = 0u;
      for (uint k = 0u; k < 4u; ++k) v |= (uint(k_L[j + l + 32u * k] - sub) & 3u) << (2u * k);
      k_put_byte(at + j / 4u + l, v);
    }
}

#if defined(Q2_K) || defined(Q4_K) || defined(Q5_K)
#if defined(Q2_K)
#define K_SUB 16u
#define K_NMAX 3
#define K_RMIN -0.5
#define K_NSTEP 15
#elif defined(Q4_K)
#define K_SUB 32u
#define K_NMAX 15
#define K_RMIN -1.0
#define K_NSTEP 20
#else
#define K_SUB 32u
#define K_NMAX 31
#define K_RMIN -0.5
#define K_NSTEP 15
#endif

// The element weight of make_qkx2_quants: |x| (q2_K) or av_x + |x| (q4_K, q5_K).
float qkx_weight(float x, float av_x) {
#if defined(Q2_K)
  return abs(x);
#else
  precise float w = av_x + abs(x);
  return w;
#endif
}

// The error term of make_qkx2_quants: |diff| for q2_K (use_mad), diff² otherwise.
float qkx_error(float diff) {
#if defined(Q2_K)
  return abs(diff);
#else
  precise float e = diff * diff;
  return e;
#endif
}

// make_qkx2_quants(K_SUB, K_NMAX, x, weights, L, &the_min, Laux, K_RMIN, 0.1, K_NSTEP) on the
// sub-block starting at element xb: codes 0..K_NMAX into k_L, the scale returned, −min in the_min.
float make_qkx2(uint xb, float av_x, out float the_min) {
  float mn = k_x(xb), mx = mn;
  precise float sum_w = qkx_weight(mn, av_x);
  precise float sum_x = sum_w * mn;
  for (uint i = 1u; i < K_SUB; ++i) {
    const float x = k_x(xb + i);
    if (x < mn) mn = x;
    if (x > mx) mx = x;
    const float w = qkx_weight(x, av_x);
    sum_w += w;
    sum_x += w * x;
  }
  if (mn > 0.0) mn = 0.0;
  if (mx == mn) {
    for (uint i = 0u; i < K_SUB; ++i) k_L[xb + i] = 0;
    the_min = -mn;
    return 0.0;
  }
  const float fnmax = float(K_NMAX);
  precise float range = mx - mn;
  float iscale = div_rn(fnmax, range);
  float scale = div_rn(1.0, iscale);
  precise float best = 0.0;
  for (uint i = 0u; i < K_SUB; ++i) {
    const float x = k_x(xb + i);
    precise float t = iscale * (x - mn);
    k_L[xb + i] = clamp(nearest_int(t), 0, K_NMAX);
    precise float diff = scale * float(k_L[xb + i]) + mn - x;
    best += qkx_weight(x, av_x) * qkx_error(diff);
  }
  int aux[K_SUB];
  for (int is = 0; is <= K_NSTEP; ++is) {
    precise float num = K_RMIN + 0.1 * float(is) + fnmax;
    precise float span = mx - mn;  // the min as updated so far
    iscale = div_rn(num, span);
    precise float sum_l = 0.0, sum_l2 = 0.0, sum_xl = 0.0;
    for (uint i = 0u; i < K_SUB; ++i) {
      const float x = k_x(xb + i);
      precise float t = iscale * (x - mn);
      aux[i] = clamp(nearest_int(t), 0, K_NMAX);
      const float w = qkx_weight(x, av_x);
      const float fl = float(aux[i]);
      sum_l += w * fl;
      sum_l2 += w * fl * fl;
      sum_xl += w * fl * x;
    }
    float this_scale, this_min;
    if (qkx_fit(sum_w, sum_x, sum_l, sum_l2, sum_xl, this_scale, this_min)) {
      precise float cur = 0.0;
      for (uint i = 0u; i < K_SUB; ++i) {
        const float x = k_x(xb + i);
        precise float diff = this_scale * float(aux[i]) + this_min - x;
        cur += qkx_weight(x, av_x) * qkx_error(diff);
      }
      if (cur < best) {
        for (uint i = 0u; i < K_SUB; ++i) k_L[xb + i] = aux[i];
        best = cur;
        scale = this_scale;
        mn = this_min;
      }
    }
  }
  the_min = -mn;
  return scale;
}
#endif

#if defined(Q3_K) || defined(Q6_K)
// The signed weight of largest magnitude of the 16-weight sub-block at xb (the first on ties), and
// whether the sub-block is all ~zero.
float k_signed_max(uint xb, out bool zero) {
  float mx = 0.0, amax = 0.0;
  for (uint i = 0u; i < 16u; ++i) {
    const float x = k_x(xb + i);
    if (abs(x) > amax) {
      amax = abs(x);
      mx = x;
    }
  }
  zero = amax < kGroupMaxEps;
  return mx;
}
#endif

#if defined(Q3_K)
// make_q3_quants(16, 4, x, L, do_rmse = true): codes + 4 into k_L, the scale returned.
float make_q3(uint xb) {
  bool zero;
  const float mx = k_signed_max(xb, zero);
  if (zero) {
    for (uint i = 0u; i < 16u; ++i) k_L[xb + i] = 0;
    return 0.0;
  }
  const float iscale = div_rn(-4.0, mx);
  precise float sumlx = 0.0, suml2 = 0.0;
  for (uint i = 0u; i < 16u; ++i) {
    const float x = k_x(xb + i);
    precise float t = iscale * x;
    k_L[xb + i] = clamp(nearest_int(t), -4, 3);
    precise float w = x * x;
    const float fl = float(k_L[xb + i]);
    sumlx += w * x * fl;
    suml2 += w * fl * fl;
  }
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (uint i = 0u; i < 16u; ++i) {
      const float x = k_x(xb + i);
      precise float w = x * x;
      const float li = float(k_L[xb + i]);
      precise float slx = sumlx - w * x * li;
      if (slx > 0.0) {
        precise float sl2 = suml2 - w * li * li;
        precise float t = x * sl2;
        const int new_l = clamp(nearest_int(div_rn(t, slx)), -4, 3);
        if (new_l != k_L[xb + i]) {
          const float fl = float(new_l);
          slx += w * x * fl;
          sl2 += w * fl * fl;
          precise float lhs = slx * slx * suml2;
          precise float rhs = sumlx * sumlx * sl2;
          if (sl2 > 0.0 && lhs > rhs) {
            k_L[xb + i] = new_l;
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (n_changed == 0) break;
  }
  for (uint i = 0u; i < 16u; ++i) k_L[xb + i] += 4;
  return suml2 > 0.0 ? div_rn(sumlx, suml2) : 0.0;
}
#endif

#if defined(Q6_K)
// make_qx_quants(16, 32, x, L, rmse_type = 1, NULL): codes + 32 into k_L, the scale returned.
float make_qx(uint xb) {
  bool zero;
  const float mx = k_signed_max(xb, zero);
  if (zero) {
    for (uint i = 0u; i < 16u; ++i) k_L[xb + i] = 0;
    return 0.0;
  }
  float iscale = div_rn(-32.0, mx);
  precise float sumlx = 0.0, suml2 = 0.0;
  for (uint i = 0u; i < 16u; ++i) {
    const float x = k_x(xb + i);
    precise float t = iscale * x;
    const int l = clamp(nearest_int(t), -32, 31);
    k_L[xb + i] = l + 32;
    precise float w = x * x;
    const float fl = float(l);
    sumlx += w * x * fl;
    suml2 += w * fl * fl;
  }
  float scale = suml2 != 0.0 ? div_rn(sumlx, suml2) : 0.0;
  precise float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    precise float num = -(32.0 + 0.1 * float(is));
    iscale = div_rn(num, mx);
    sumlx = 0.0;
    suml2 = 0.0;
    for (uint i = 0u; i < 16u; ++i) {
      const float x = k_x(xb + i);
      precise float t = iscale * x;
      const float fl = float(clamp(nearest_int(t), -32, 31));
      precise float w = x * x;
      sumlx += w * x * fl;
      suml2 += w * fl * fl;
    }
    precise float lhs = sumlx * sumlx;
    precise float rhs = best * suml2;
    if (suml2 > 0.0 && lhs > rhs) {
      for (uint i = 0u; i < 16u; ++i) {
        precise float t = iscale * k_x(xb + i);
        k_L[xb + i] = clamp(nearest_int(t), -32, 31) + 32;
      }
      scale = div_rn(sumlx, suml2);
      best = scale * sumlx;
    }
  }
  return scale;
}
#endif

#if defined(Q4_K) || defined(Q5_K)
// The 6-bit scale and min of sub-block j from the 12 packed bytes (get_scale_min_k4).
uvec2 k_scale_min(uint j, uint q[12]) {
  if (j < 4u) return uvec2(q[j] & 63u, q[j + 4u] & 63u);
  return uvec2((q[j + 4u] & 0xFu) | ((q[j - 4u] >> 6) << 4), (q[j + 4u] >> 4) | ((q[j] >> 6) << 4));
}
#endif

#if defined(K_WEIGHTED)
#include "common/ggml_qkx3.glsl"
#include "common/ggml_qx.glsl"
// ggml's make_qp_quants(n, nmax, x, L, qw): codes 0..nmax for n ≤ 16 non-negative sub-block scales
// (or mins) x, weighted least squares with weights qw — nine trial scales, then single-code moves
// while the fit improves (up to five passes); returns the fitted scale.
float make_qp(in float x[16], in float qw[16], uint n, int nmax, out uint L[16]) {
  float mx = 0.0;
  for (uint i = 0u; i < n; ++i) mx = mx > x[i] ? mx : x[i];
  if (mx < kGroupMaxEps) {
    for (uint i = 0u; i < n; ++i) L[i] = 0u;
    return 0.0;
  }
  const float fnmax = float(nmax);
  float iscale = div_rn(fnmax, mx);
  for (uint i = 0u; i < n; ++i) {
    precise float t = iscale * x[i];
    L[i] = uint(nearest_int(t));
  }
  const float scale = div_rn(1.0, iscale);
  precise float best_mse = 0.0;
  for (uint i = 0u; i < n; ++i) {
    precise float diff = x[i] - scale * float(L[i]);
    best_mse += qw[i] * diff * diff;
  }
  for (int is = -4; is <= 4; ++is) {
    if (is == 0) continue;
    precise float num = 0.1 * float(is) + fnmax;
    const float iscale_is = div_rn(num, mx);
    const float scale_is = div_rn(1.0, iscale_is);
    precise float mse = 0.0;
    for (uint i = 0u; i < n; ++i) {
      precise float t = iscale_is * x[i];
      const int l = min(nmax, nearest_int(t));
      precise float diff = x[i] - scale_is * float(l);
      mse += qw[i] * diff * diff;
    }
    if (mse < best_mse) {
      best_mse = mse;
      iscale = iscale_is;
    }
  }
  precise float sumlx = 0.0, suml2 = 0.0;
  for (uint i = 0u; i < n; ++i) {
    precise float t = iscale * x[i];
    const int l = min(nmax, nearest_int(t));
    L[i] = uint(l);
    const float fl = float(l);
    sumlx += qw[i] * x[i] * fl;
    suml2 += qw[i] * fl * fl;
  }
  for (uint itry = 0u; itry < 5u; ++itry) {
    uint changed = 0u;
    for (uint i = 0u; i < n; ++i) {
      const float w = qw[i], li = float(L[i]);
      precise float slx = sumlx - w * x[i] * li;
      precise float sl2 = suml2 - w * li * li;
      if (slx > 0.0 && sl2 > 0.0) {
        precise float t = x[i] * sl2;
        const int new_l = min(nmax, nearest_int(div_rn(t, slx)));
        if (uint(new_l) != L[i]) {
          const float fl = float(new_l);
          slx += w * x[i] * fl;
          sl2 += w * fl * fl;
          precise float lhs = slx * slx * suml2;
          precise float rhs = sumlx * sumlx * sl2;
          if (lhs > rhs) {
            L[i] = uint(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++changed;
          }
        }
      }
    }
    if (changed == 0u) break;
  }
  return suml2 > 0.0 ? div_rn(sumlx, suml2) : 0.0;
}

// Σ x² over the super-block, in order (σ² of the weighted paths: that / 256, or twice it).
float k_sum_x2() {
  precise float sum_x2 = 0.0;
  for (uint l = 0u; l < 256u; ++l) {
    const float x = k_x(l);
    sum_x2 += x * x;
  }
  return sum_x2;
}

// The n values from element xb into x, their element weights qw · sqrt(σ² + x²) into wt; returns
// the weights' sum, in order.
float k_sub_weights(uint xb, uint n, float sigma2, out float x[32], out float wt[32]) {
  precise float sum_w = 0.0;
  for (uint l = 0u; l < n; ++l) {
    x[l] = k_x(xb + l);
    precise float x2 = x[l] * x[l];
    precise float a = sigma2 + x2;
    precise float wl = k_qw(xb + l) * sqrt_rn(a);
    wt[l] = wl;
    sum_w += wl;
  }
  return sum_w;
}
#endif

// One super-block (weights k_x(0..255)) into k_out at byte `at`.
void k_quantize(uint at) {
#if defined(Q2_K)
#if defined(K_WEIGHTED)
  // quantize_row_q2_K_impl with quant_weights: σ² = Σx² / 256, each sub-block's scale and min by
  // make_qkx3_quants, their 4-bit codes by make_qp_quants weighted with the sub-blocks' weight sums.
  const float sigma2 = div_rn(k_sum_x2(), 256.0);
  float scales[16], mins[16], sw[16];
  for (uint j = 0u; j < 16u; ++j) {
    float x[32], wt[32];
    sw[j] = k_sub_weights(16u * j, 16u, sigma2, x, wt);
    uint L[32];
    scales[j] = make_qkx3(x, wt, 16u, 3, L, mins[j]);
    for (uint l = 0u; l < 16u; ++l) k_L[16u * j + l] = int(L[l]);  // kept where the stored scale is 0
  }
  uint ls[16], lm[16];
  const float dm = make_qp(scales, sw, 16u, 15, ls), mm = make_qp(mins, sw, 16u, 15, lm);
  uint sc[16];
  for (uint j = 0u; j < 16u; ++j) sc[j] = (ls[j] | (lm[j] << 4)) & 0xFFu;
  const uint d_bits = f32_to_f16_bits(dm), m_bits = f32_to_f16_bits(mm);
#else
  float scales[16], mins[16];
  for (uint j = 0u; j < 16u; ++j) scales[j] = make_qkx2(16u * j, 0.0, mins[j]);
  // set_q2_K_scales
  float max_scale = 0.0, max_min = 0.0;
  for (uint j = 0u; j < 16u; ++j) {
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  uint sc[16];
  uint d_bits = 0u, m_bits = 0u;
  for (uint j = 0u; j < 16u; ++j) sc[j] = 0u;
  if (max_scale > 0.0) {
    const float iscale = div_rn(15.0, max_scale);
    for (uint j = 0u; j < 16u; ++j) {
      precise float t = iscale * scales[j];
      sc[j] = uint(nearest_int(t)) & 0xFFu;
    }
    d_bits = f32_to_f16_bits(div_rn(max_scale, 15.0));
  }
  if (max_min > 0.0) {
    const float iscale = div_rn(15.0, max_min);
    for (uint j = 0u; j < 16u; ++j) {
      precise float t = iscale * mins[j];
      sc[j] = (sc[j] | (uint(nearest_int(t)) << 4)) & 0xFFu;
    }
    m_bits = f32_to_f16_bits(div_rn(max_min, 15.0));
  }
#endif
  // finish_q2_K
  const float d_all = f16_bits_to_f32(d_bits), m_all = f16_bits_to_f32(m_bits);
  for (uint j = 0u; j < 16u; ++j) {
    precise float d = d_all * float(sc[j] & 0xFu);
    if (d == 0.0) continue;
    precise float dm = m_all * float(sc[j] >> 4);
    for (uint i = 0u; i < 16u; ++i) {
      precise float v = k_x(16u * j + i) + dm;
      k_L[16u * j + i] = clamp(nearest_int(div_rn(v, d)), 0, 3);
    }
  }
  for (uint j = 0u; j < 16u; ++j) k_put_byte(at + j, sc[j]);
  k_pack_2bit(at + 16u, 0);
  k_put_u16(at + 80u, d_bits);
  k_put_u16(at + 82u, m_bits);
#elif defined(Q3_K)
#if defined(K_WEIGHTED)
  // quantize_row_q3_K_impl with quant_weights: σ² = 2 Σx² / 256, each sub-block's scale by
  // make_qx_quants weighted, the 6-bit scale codes by make_qx_quants weighted with the weight sums.
  precise float twice = 2.0 * k_sum_x2();
  const float sigma2 = div_rn(twice, 256.0);
  float scales[32], sw[32];
  for (uint j = 0u; j < 16u; ++j) {
    float x[32], wt[32];
    sw[j] = k_sub_weights(16u * j, 16u, sigma2, x, wt);
    uint L[32];
    scales[j] = make_qx_w(x, wt, 16u, 4, L);
    for (uint l = 0u; l < 16u; ++l) k_L[16u * j + l] = int(L[l]);  // kept where the stored scale is 0
  }
  uint ls[32];
  const float d_block = make_qx_w(scales, sw, 16u, 32, ls);
  uint sc[12];
  for (uint j = 0u; j < 12u; ++j) sc[j] = 0u;
  for (uint j = 0u; j < 16u; ++j) {
    const uint code = ls[j];
    if (j < 8u)
      sc[j] = code & 0xFu;
    else
      sc[j - 8u] |= (code & 0xFu) << 4;
    sc[j % 4u + 8u] |= (code >> 4) << (2u * (j / 4u));
  }
  const uint d_bits = f32_to_f16_bits(d_block);
#else
  float scales[16];
  for (uint j = 0u; j < 16u; ++j) scales[j] = make_q3(16u * j);
  // set_q3_K_scales
  float max_scale = 0.0, amax = 0.0;
  for (uint j = 0u; j < 16u; ++j)
    if (abs(scales[j]) > amax) {
      amax = abs(scales[j]);
      max_scale = scales[j];
    }
  uint sc[12];
  for (uint j = 0u; j < 12u; ++j) sc[j] = 0u;
  uint d_bits = 0u;
  if (max_scale != 0.0) {
    const float iscale = div_rn(-32.0, max_scale);
    for (uint j = 0u; j < 16u; ++j) {
      precise float t = iscale * scales[j];
      const int l = (nearest_int(t) << 24) >> 24;  // ggml keeps it in an int8_t
      const uint code = uint(clamp(l, -32, 31) + 32);
      if (j < 8u)
        sc[j] = code & 0xFu;
      else
        sc[j - 8u] |= (code & 0xFu) << 4;
      sc[j % 4u + 8u] |= (code >> 4) << (2u * (j / 4u));
    }
    d_bits = f32_to_f16_bits(div_rn(1.0, iscale));
  }
#endif
  // finish_q3_K
  const float d_all = f16_bits_to_f32(d_bits);
  for (uint j = 0u; j < 16u; ++j) {
    const uint lo = j < 8u ? sc[j] & 0xFu : sc[j - 8u] >> 4;
    const int scale = int(lo | (((sc[8u + j % 4u] >> (2u * (j / 4u))) & 3u) << 4)) - 32;
    precise float d = d_all * float(scale);
    if (d == 0.0) continue;
    for (uint i = 0u; i < 16u; ++i) k_L[16u * j + i] = clamp(nearest_int(div_rn(k_x(16u * j + i), d)), -4, 3) + 4;
  }
  // hmask: the high bit of element j is bit j / 32 of byte j % 32.
  for (uint m = 0u; m < 32u; ++m) {
    uint h = 0u;
    for (uint k = 0u; k < 8u; ++k) h |= (k_L[32u * k + m] > 3 ? 1u : 0u) << k;
    k_put_byte(at + m, h);
  }
  for (uint i = 0u; i < 256u; ++i)
    if (k_L[i] > 3) k_L[i] -= 4;
  k_pack_2bit(at + 32u, 0);
  for (uint j = 0u; j < 12u; ++j) k_put_byte(at + 96u + j, sc[j]);
  k_put_u16(at + 108u, d_bits);
#elif defined(Q4_K) || defined(Q5_K)
#if defined(K_WEIGHTED)
  // quantize_row_q4_K_impl / q5_K with quant_weights: element weights qw · sqrt(σ² + x²), σ² =
  // 2 Σx² / 256; each sub-block's scale and min by make_qkx3_quants, their 6-bit codes by
  // make_qp_quants weighted with the sub-blocks' weight sums (q5_K clamps them to 63).
  precise float twice = 2.0 * k_sum_x2();
  const float sigma2 = div_rn(twice, 256.0);
  float scales[16], mins[16], sw[16];
  for (uint j = 0u; j < 8u; ++j) {
    float x[32], wt[32];
    sw[j] = k_sub_weights(32u * j, 32u, sigma2, x, wt);
    uint L[32];
    scales[j] = make_qkx3(x, wt, 32u, K_NMAX, L, mins[j]);
    for (uint l = 0u; l < 32u; ++l) k_L[32u * j + l] = int(L[l]);  // kept where the stored scale is 0
  }
  uint ls[16], lm[16];
  const float d_block = make_qp(scales, sw, 8u, 63, ls), m_block = make_qp(mins, sw, 8u, 63, lm);
  uint q[12];
  for (uint j = 0u; j < 12u; ++j) q[j] = 0u;
  for (uint j = 0u; j < 8u; ++j) {
#if defined(Q5_K)
    ls[j] = min(ls[j], 63u);
    lm[j] = min(lm[j], 63u);
#endif
    if (j < 4u) {
      q[j] = ls[j];
      q[j + 4u] = lm[j];
    } else {
      q[j + 4u] = (ls[j] & 0xFu) | ((lm[j] & 0xFu) << 4);
      q[j - 4u] |= (ls[j] >> 4) << 6;
      q[j] |= (lm[j] >> 4) << 6;
    }
  }
  const uint d_bits = f32_to_f16_bits(d_block), m_bits = f32_to_f16_bits(m_block);
#else
  float scales[8], mins[8];
  for (uint j = 0u; j < 8u; ++j) {
    precise float sum_x2 = 0.0;
    for (uint l = 0u; l < 32u; ++l) {
      const float x = k_x(32u * j + l);
      sum_x2 += x * x;
    }
    const float av_x = sqrt_rn(div_rn(sum_x2, 32.0));
    scales[j] = make_qkx2(32u * j, av_x, mins[j]);
  }
  // set_k4_scales
  float max_scale = 0.0, max_min = 0.0;
  for (uint j = 0u; j < 8u; ++j) {
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0.0 ? div_rn(63.0, max_scale) : 0.0;
  const float inv_min = max_min > 0.0 ? div_rn(63.0, max_min) : 0.0;
  uint q[12];
  for (uint j = 0u; j < 12u; ++j) q[j] = 0u;
  for (uint j = 0u; j < 8u; ++j) {
    precise float ts = inv_scale * scales[j];
    precise float tm = inv_min * mins[j];
    const uint ls = min(63u, uint(nearest_int(ts)) & 0xFFu), lm = min(63u, uint(nearest_int(tm)) & 0xFFu);
    if (j < 4u) {
      q[j] = ls;
      q[j + 4u] = lm;
    } else {
      q[j + 4u] = (ls & 0xFu) | ((lm & 0xFu) << 4);
      q[j - 4u] |= (ls >> 4) << 6;
      q[j] |= (lm >> 4) << 6;
    }
  }
  const uint d_bits = f32_to_f16_bits(div_rn(max_scale, 63.0)), m_bits = f32_to_f16_bits(div_rn(max_min, 63.0));
#endif
  // requantize against the stored scales
  const float d_all = f16_bits_to_f32(d_bits), m_all = f16_bits_to_f32(m_bits);
  for (uint j = 0u; j < 8u; ++j) {
    const uvec2 sm = k_scale_min(j, q);
    precise float d = d_all * float(sm.x);
    if (d == 0.0) continue;
    precise float dm = m_all * float(sm.y);
    for (uint i = 0u; i < 32u; ++i) {
      precise float v = k_x(32u * j + i) + dm;
      k_L[32u * j + i] = clamp(nearest_int(div_rn(v, d)), 0, K_NMAX);
    }
  }
  k_put_u16(at, d_bits);
  k_put_u16(at + 2u, m_bits);
  for (uint j = 0u; j < 12u; ++j) k_put_byte(at + 4u + j, q[j]);
#if defined(Q4_K)
  for (uint j = 0u; j < 256u; j += 64u)
    for (uint l = 0u; l < 32u; ++l) k_put_byte(at + 16u + j / 2u + l, uint(k_L[j + l]) | (uint(k_L[j + l + 32u]) << 4));
#else
  uint qh[32];
  for (uint j = 0u; j < 32u; ++j) qh[j] = 0u;
  uint m1 = 1u, m2 = 2u;
  for (uint n = 0u; n < 256u; n += 64u) {
    for (uint j = 0u; j < 32u; ++j) {
      uint l1 = uint(k_L[n + j]), l2 = uint(k_L[n + j + 32u]);
      if (l1 > 15u) {
        l1 -= 16u;
        qh[j] |= m1;
      }
      if (l2 > 15u) {
        l2 -= 16u;
        qh[j] |= m2;
      }
      k_put_byte(at + 48u + n / 2u + j, l1 | (l2 << 4));
    }
    m1 <<= 2;
    m2 <<= 2;
  }
  for (uint j = 0u; j < 32u; ++j) k_put_byte(at + 16u + j, qh[j]);
#endif
#elif defined(Q6_K)
  float scales[16];
#if defined(K_WEIGHTED)
  // quantize_row_q6_K_impl with quant_weights: each sub-block's scale by make_qx_quants weighted
  // with the importances alone.
  for (uint j = 0u; j < 16u; ++j) {
    float x[32], wt[32];
    for (uint l = 0u; l < 16u; ++l) x[l] = k_x(16u * j + l), wt[l] = k_qw(16u * j + l);
    uint L[32];
    scales[j] = make_qx_w(x, wt, 16u, 32, L);
    for (uint l = 0u; l < 16u; ++l) k_L[16u * j + l] = int(L[l]);
  }
#else
  for (uint j = 0u; j < 16u; ++j) scales[j] = make_qx(16u * j);
#endif
  // set_q6_K_scales: an all-~zero super-block is all zero bytes
  float max_scale = 0.0, max_abs = 0.0;
  for (uint j = 0u; j < 16u; ++j)
    if (abs(scales[j]) > max_abs) {
      max_abs = abs(scales[j]);
      max_scale = scales[j];
    }
  if (max_abs < kGroupMaxEps) return;
  const float iscale = div_rn(-128.0, max_scale);
  const uint d_bits = f32_to_f16_bits(div_rn(1.0, iscale));
  int sc[16];
  for (uint j = 0u; j < 16u; ++j) {
    precise float t = iscale * scales[j];
    sc[j] = (min(127, nearest_int(t)) << 24) >> 24;
  }
  // finish_q6_K
  const float d_all = f16_bits_to_f32(d_bits);
  for (uint j = 0u; j < 16u; ++j) {
    precise float d = d_all * float(sc[j]);
    if (d == 0.0) continue;
    for (uint i = 0u; i < 16u; ++i) k_L[16u * j + i] = clamp(nearest_int(div_rn(k_x(16u * j + i), d)), -32, 31) + 32;
  }
  for (uint j = 0u; j < 256u; j += 128u)
    for (uint l = 0u; l < 32u; ++l) {
      const uint q1 = uint(k_L[j + l]), q2 = uint(k_L[j + l + 32u]), q3 = uint(k_L[j + l + 64u]), q4 = uint(k_L[j + l + 96u]);
      k_put_byte(at + j / 2u + l, (q1 & 0xFu) | ((q3 & 0xFu) << 4));
      k_put_byte(at + j / 2u + l + 32u, (q2 & 0xFu) | ((q4 & 0xFu) << 4));
      k_put_byte(at + 128u + j / 4u + l, (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
    }
  for (uint j = 0u; j < 16u; ++j) k_put_byte(at + 192u + j, uint(sc[j]));
  k_put_u16(at + 208u, d_bits);
#endif
}

// The block at byte 0 of k_out seen as a grid and codes (core/quant/ggml_grid.h): sub-block j's
// (scale, offset), with the products of ggml's dequantizer, and the signed code of weight i, so that
// k_value(i) = scale · code + offset is what ggml's dequantizer (dequantize_row_*) gives.
#if defined(Q2_K) || defined(Q3_K) || defined(Q6_K)
#define K_GRID_SUB 16u
#else
#define K_GRID_SUB 32u
#endif

vec2 k_grid(uint j) {
#if defined(Q2_K)
  const uint sc = k_byte(j);
  precise float scale = f16_bits_to_f32(k_u16(80u)) * float(sc & 0xFu);
  precise float m = f16_bits_to_f32(k_u16(82u)) * float(sc >> 4);
  return vec2(scale, -m);
#elif defined(Q3_K)
  const uint lo = j < 8u ? k_byte(96u + j) & 0xFu : k_byte(96u + j - 8u) >> 4;
  const int sc = int(lo | (((k_byte(104u + j % 4u) >> (2u * (j / 4u))) & 3u) << 4)) - 32;
  precise float scale = f16_bits_to_f32(k_u16(108u)) * float(sc);
  return vec2(scale, -0.0);
#elif defined(Q4_K) || defined(Q5_K)
  uint q12[12];
  for (uint k = 0u; k < 12u; ++k) q12[k] = k_byte(4u + k);
  const uvec2 sm = k_scale_min(j, q12);
  precise float scale = f16_bits_to_f32(k_u16(0u)) * float(sm.x);
  precise float m = f16_bits_to_f32(k_u16(2u)) * float(sm.y);
  return vec2(scale, -m);
#elif defined(Q6_K)
  const int sc = int(k_byte(192u + j) << 24) >> 24;
  precise float scale = f16_bits_to_f32(k_u16(208u)) * float(sc);
  return vec2(scale, -0.0);
#endif
}

int k_code(uint i) {
  const uint n = i / 128u, r = i % 128u, l = i % 32u;
#if defined(Q2_K)
  return int((k_byte(16u + 32u * n + l) >> (2u * (r / 32u))) & 3u);
#elif defined(Q3_K)
  const uint shift = r / 32u;
  const int q = int((k_byte(32u + 32u * n + l) >> (2u * shift)) & 3u);
  const bool high = ((k_byte(l) >> (4u * n + shift)) & 1u) != 0u;
  return q - (high ? 0 : 4);
#elif defined(Q4_K) || defined(Q5_K)
  const bool upper = (i % 64u) >= 32u;
  const uint q = (k_byte(16u + 32u * (i / 64u) + l) >> (upper ? 4u : 0u)) & 0xFu;
#if defined(Q4_K)
  return int(q);
#else
  const uint q5 = (k_byte(48u + 32u * (i / 64u) + l) >> (upper ? 4u : 0u)) & 0xFu;
  return int(q5 + ((k_byte(16u + l) >> (2u * (i / 64u) + (upper ? 1u : 0u))) & 1u) * 16u);
#endif
#elif defined(Q6_K)
  const uint quarter = r / 32u;
  const uint nib = (k_byte(64u * n + l + 32u * (quarter & 1u)) >> (quarter >= 2u ? 4u : 0u)) & 0xFu;
  const uint hb = (k_byte(128u + 32u * n + l) >> (2u * quarter)) & 3u;
  return int(nib | (hb << 4)) - 32;
#endif
}

float k_value(uint i) {
  const vec2 g = k_grid(i / K_GRID_SUB);
  precise float scaled = g.x * float(k_code(i));
  precise float v = scaled + g.y;
  return v;
}

#endif  // LOWBIT_COMMON_GGML_K_GLSL
