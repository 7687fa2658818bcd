// ggml's make_qx_quants(n, nmax, x, L, 1, wt) with explicit weights wt (core's
// ggml_scale_search.cpp is the oracle): the symmetric scale of n ≤ 32 weighted values, codes
// l + nmax (l in −nmax..nmax − 1) in L, 18 trial scales around the max — the weighted search of
// q4_0 / q5_0 (common/ggml_legacy.glsl) and of the weighted q3_K and q6_K (common/ggml_k.glsl).
// Every product and sum rounded on its own, in ggml's order; divisions exact. The includer
// includes common/exact_float.glsl first.
#ifndef LOWBIT_COMMON_GGML_QX_GLSL
#define LOWBIT_COMMON_GGML_QX_GLSL

float make_qx_w(in float x[32], in float wt[32], uint n, int nmax, out uint L[32]) {
  float mx = 0.0, amax = 0.0;
  for (uint j = 0u; j < n; ++j)
    if (abs(x[j]) > amax) {
      amax = abs(x[j]);
      mx = x[j];
    }
  if (amax < 1e-15) {  // ggml's GROUP_MAX_EPS
    for (uint j = 0u; j < n; ++j) L[j] = 0u;
    return 0.0;
  }
  float iscale = div_rn(float(-nmax), mx);
  precise float sumlx = 0.0, suml2 = 0.0;
  for (uint j = 0u; j < n; ++j) {
    precise float t = iscale * x[j];
    const int l = clamp(nearest_int(t), -nmax, nmax - 1);
    L[j] = uint(l + nmax);
    const float fl = float(l);
    sumlx += wt[j] * x[j] * fl;
    suml2 += wt[j] * fl * fl;
  }
  float scale = suml2 != 0.0 ? div_rn(sumlx, suml2) : 0.0;
  precise float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    precise float num = -(float(nmax) + 0.1 * float(is));
    iscale = div_rn(num, mx);
    sumlx = 0.0;
    suml2 = 0.0;
    for (uint j = 0u; j < n; ++j) {
      precise float t = iscale * x[j];
      const float fl = float(clamp(nearest_int(t), -nmax, nmax - 1));
      sumlx += wt[j] * x[j] * fl;
      suml2 += wt[j] * fl * fl;
    }
    precise float lhs = sumlx * sumlx;
    precise float rhs = best * suml2;
    if (suml2 > 0.0 && lhs > rhs) {
      for (uint j = 0u; j < n; ++j) {
        precise float t = iscale * x[j];
        L[j] = uint(clamp(nearest_int(t), -nmax, nmax - 1) + nmax);
      }
      scale = div_rn(sumlx, suml2);
      best = scale * sumlx;
    }
  }
  return scale;
}

#endif  // LOWBIT_COMMON_GGML_QX_GLSL
