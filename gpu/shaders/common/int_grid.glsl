// The min-max grid of the integer family, bit-identical to core's minmax_grid
// (core/quant/int_quant.h): from the group's min(w, 0) and max(w, 0), shrunk; symmetric: xmax =
// max(|xmin|, xmax), xmin = −xmax where xmin < 0, zero = 2^(b−1); an all-zero range becomes [−1, 1];
// scale = (xmax − xmin) / (2^b − 1) (1 where that underflows), zero = round(−xmin / scale) clamped to
// the codes; with fp16_scales the scale is rounded to fp16 after the zero point is chosen. Returns
// (scale, zero). Needs common/exact_float.glsl.
#ifndef LOWBIT_COMMON_INT_GRID_GLSL
#define LOWBIT_COMMON_INT_GRID_GLSL

vec2 int_minmax_grid(float lo, float hi, uint bits, bool symmetric, float shrink, bool fp16_scales) {
  precise float xmin = lo * shrink;
  precise float xmax = hi * shrink;
  const float maxq = float((1u << bits) - 1u);
  if (symmetric) {
    xmax = max(abs(xmin), xmax);
    if (xmin < 0.0) xmin = -xmax;
  }
  if (xmin == 0.0 && xmax == 0.0) {
    xmin = -1.0;
    xmax = 1.0;
  }
  precise float range = xmax - xmin;
  float scale = div_rn(range, maxq);
  if (!(scale > 0.0)) scale = 1.0;
  float zero = symmetric ? float((1u << bits) / 2u) : roundEven(div_rn(-xmin, scale));
  zero = clamp(zero, 0.0, maxq);
  if (fp16_scales) {
    const uint h = f32_to_f16_bits(scale);
    if ((h & 0x7FFFu) == 0u) scale = 5.9604644775390625e-8;  // underflow: fp16's smallest subnormal
    else if ((h & 0x7C00u) == 0x7C00u) scale = 65504.0;     // overflow: fp16's largest value
    else scale = f16_bits_to_f32(h);
  }
  return vec2(scale, zero);
}

// The code of w on grid (scale, zero): clamp(round(w / scale) + zero, 0, 2^b − 1), as core's quantize_code.
float int_code(float w, vec2 grid, uint bits) {
  precise float q = roundEven(div_rn(w, grid.x)) + grid.y;
  return clamp(q, 0.0, float((1u << bits) - 1u));
}

#endif  // LOWBIT_COMMON_INT_GRID_GLSL
