// The integer family int{b}g{g}{a|s}: per-group grids (a scale and an integer zero point) and b-bit
// codes, with the min-max rule of the original GPTQ code (shared/README.md): per group
// xmin = min(w.min(), 0), xmax = max(w.max(), 0); symmetric: xmax = max(|xmin|, xmax), xmin = -xmax
// where xmin < 0, zero = 2^(b-1); an all-zero group uses [-1, 1]; scale = (xmax - xmin) / (2^b - 1),
// zero = round(-xmin / scale); q = clamp(round(w / scale) + zero, 0, 2^b - 1); ŵ = scale · (q - zero).
// Rounding is half-to-even, as torch.round. Scales stay fp32 as in the reference GPTQ code, whose
// figures shared/README.md gives; the GPTQ-checkpoint export stores them as fp16. With `fp16_scales`
// every grid's scale is rounded to the nearest fp16 value (after the zero point is chosen, as
// GPTQModel's packing does) before any code is chosen, so that the exported file holds exactly the
// model evaluated in memory.
#pragma once

#include <cstdint>
#include <vector>

#include "core/quant/format.h"

namespace lowbit {

struct IntGrid {
  float scale = 1;  // fp32
  float zero = 0;   // integer valued
};

// The min-max grid of n values, with the range shrunk by `shrink` (1 = none; clip search < 1).
IntGrid minmax_grid(const float* w, int64_t n, int bits, bool symmetric, float shrink = 1.0f, bool fp16_scale = false);
// The nearest fp16 value of a grid scale, kept positive and finite (fp16's smallest subnormal for a
// scale that underflows, its largest value for one that overflows).
float fp16_grid_scale(float scale);

inline int max_code(int bits) { return (1 << bits) - 1; }

inline float quantize_code(float w, const IntGrid& g, int maxq) {
  float q = __builtin_nearbyintf(w / g.scale) + g.zero;
  return q < 0 ? 0.0f : (q > static_cast<float>(maxq) ? static_cast<float>(maxq) : q);
}
inline float dequantize_code(float q, const IntGrid& g) { return g.scale * (q - g.zero); }

// A tensor quantized into the int family: codes row-major [rows, cols], grids row-major [rows, groups].
struct IntTensor {
  Format format;
  int64_t rows = 0, cols = 0;
  std::vector<uint8_t> codes;
  std::vector<IntGrid> grids;
  int64_t groups() const { return cols / format.group_size(cols); }
  const IntGrid& grid(int64_t row, int64_t col) const {
    return grids[static_cast<size_t>(row * groups() + col / format.group_size(cols))];
  }
};

// Round-to-nearest with min-max grids (shrink < 1: a fixed clip ratio).
IntTensor rtn_int(const float* w, int64_t rows, int64_t cols, const Format& format, float shrink = 1.0f,
                  bool fp16_scales = false);
// Round-to-nearest with a per-group clip search: shrink ratios p = 1, 0.99, …, down to `min_shrink`
// (grid of `steps`), keeping per group the p with the smallest Σ|w − ŵ|^2.4 (the GPTQ code's norm).
// `--mse` searches kRtnMseSteps ratios down to kRtnMseMinShrink.
inline constexpr float kRtnMseMinShrink = 0.5f;
inline constexpr int kRtnMseSteps = 50;
IntTensor rtn_int_mse(const float* w, int64_t rows, int64_t cols, const Format& format,
                      float min_shrink = kRtnMseMinShrink, int steps = kRtnMseSteps, bool fp16_scales = false);
void dequantize_int(const IntTensor& t, float* out);

}  // namespace lowbit
