// ggml's make_qkx3_quants(n, nmax, x, wt, L, &the_min, Laux, −0.9, 0.05, 36, false) (core's
// ggml_scale_search.cpp is the oracle): the scale and min of n ≤ 32 weighted values, codes 0..nmax in L,
// −min in the_min — the weighted search of q4_1 / q5_1 (common/ggml_legacy.glsl) and of the
// sub-blocks of the weighted q2_K, q4_K and q5_K (common/ggml_k.glsl). Every product and sum rounded on its
// own, in ggml's order; divisions exact. The includer includes common/exact_float.glsl first.
#ifndef LOWBIT_COMMON_GGML_QKX3_GLSL
#define LOWBIT_COMMON_GGML_QKX3_GLSL
#include "common/ggml_qkx_fit.glsl"

float make_qkx3(in float x[32], in float wt[32], uint n, int nmax, out uint L[32], out float the_min) {
  float mn = x[0], mx = x[0];
  precise float sum_w = wt[0];
  precise float sum_x = sum_w * x[0];
  for (uint i = 1u; i < n; ++i) {
    if (x[i] < mn) mn = x[i];
    if (x[i] > mx) mx = x[i];
    sum_w += wt[i];
    sum_x += wt[i] * x[i];
  }
  if (mn > 0.0) mn = 0.0;
  if (mx <= mn) {
    for (uint i = 0u; i < n; ++i) L[i] = 0u;
    the_min = -mn;
    return 0.0;
  }
  const float fnmax = float(nmax);
  precise float range = mx - mn;
  float iscale = div_rn(fnmax, range);
  float scale = div_rn(1.0, iscale);
  precise float best = 0.0;
  for (uint i = 0u; i < n; ++i) {
    precise float t = iscale * (x[i] - mn);
    L[i] = uint(clamp(nearest_int(t), 0, nmax));
    precise float diff = scale * float(L[i]) + mn - x[i];
    best += wt[i] * (diff * diff);
  }
  uint aux[32];
  for (int is = 0; is <= 36; ++is) {
    precise float num = -0.9 + 0.05 * float(is) + fnmax;
    precise float span = mx - mn;  // the min as updated so far
    iscale = div_rn(num, span);
    precise float sum_l = 0.0, sum_l2 = 0.0, sum_xl = 0.0;
    for (uint i = 0u; i < n; ++i) {
      precise float v = iscale * (x[i] - mn);
      const int l = v > 0.0 ? nearest_int(v < fnmax ? v : fnmax) : 0;
      aux[i] = uint(l);
      const float fl = float(l);
      sum_l += wt[i] * fl;
      sum_l2 += wt[i] * fl * fl;
      sum_xl += wt[i] * fl * x[i];
    }
    float this_scale, this_min;
    if (qkx_fit(sum_w, sum_x, sum_l, sum_l2, sum_xl, this_scale, this_min)) {
      precise float cur = 0.0;
      for (uint i = 0u; i < n; ++i) {
        precise float diff = this_scale * float(aux[i]) + this_min - x[i];
        cur += wt[i] * (diff * diff);
      }
      if (cur < best) {
        for (uint i = 0u; i < n; ++i) L[i] = aux[i];
        best = cur;
        scale = this_scale;
        mn = this_min;
      }
    }
  }
  the_min = -mn;
  return scale;
}

#endif  // LOWBIT_COMMON_GGML_QKX3_GLSL
