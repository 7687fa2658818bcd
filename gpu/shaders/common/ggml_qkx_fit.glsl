// One step of ggml's make_qkx2_quants / make_qkx3_quants search: the weighted least-squares scale and
// min of x ≈ scale · l + min from the sums Σw, Σw·x, Σw·l, Σw·l², Σw·l·x (each rounded as the caller
// accumulated it), a positive min replaced by zero and the scale then refitted alone, as ggml does.
// False (scale and min untouched) when the system is singular (D ≤ 0), which ggml skips. The
// includer includes common/exact_float.glsl first.
#ifndef LOWBIT_COMMON_GGML_QKX_FIT_GLSL
#define LOWBIT_COMMON_GGML_QKX_FIT_GLSL

bool qkx_fit(float sum_w, float sum_x, float sum_l, float sum_l2, float sum_xl, out float scale, out float min) {
  scale = 0.0;
  min = 0.0;
  precise float D = sum_w * sum_l2 - sum_l * sum_l;
  if (!(D > 0.0)) return false;
  precise float sn = sum_w * sum_xl - sum_x * sum_l;
  precise float mnum = sum_l2 * sum_x - sum_l * sum_xl;
  scale = div_rn(sn, D);
  min = div_rn(mnum, D);
  if (min > 0.0) {
    min = 0.0;
    scale = div_rn(sum_xl, sum_l2);
  }
  return true;
}

#endif  // LOWBIT_COMMON_GGML_QKX_FIT_GLSL
