#include "core/quant/int_quant.h"

#include <algorithm>
#include <cmath>

#include "core/tensor/half.h"
#include "core/util/check.h"

namespace lowbit {

float fp16_grid_scale(float scale) {
  const float r = f16_to_f32(f32_to_f16(scale));
  if (!(r > 0)) return f16_to_f32(1);       // underflow: the smallest positive fp16 (2^-24)
  if (!std::isfinite(r)) return 65504.0f;   // overflow: the largest finite fp16
  return r;
}

IntGrid minmax_grid(const float* w, int64_t n, int bits, bool symmetric, float shrink, bool fp16_scale) {
  float xmin = 0, xmax = 0;
  for (int64_t i = 0; i < n; ++i) {
    xmin = std::min(xmin, w[i]);
    xmax = std::max(xmax, w[i]);
  }
  xmin *= shrink;
  xmax *= shrink;
  const int maxq = max_code(bits);
  if (symmetric) {
    xmax = std::max(std::fabs(xmin), xmax);
    if (xmin < 0) xmin = -xmax;
  }
  if (xmin == 0 && xmax == 0) {
    xmin = -1;
    xmax = 1;
  }
  IntGrid g;
  // fp32, as the reference GPTQ code keeps it (shared/README.md's RTN and GPTQ figures); a GPTQ
  // checkpoint stores fp16 scales, so its export rounds them (measured: int4g128s 32.2411 → 32.2235).
  g.scale = (xmax - xmin) / static_cast<float>(maxq);
  if (!(g.scale > 0)) g.scale = 1;  // a range that underflows: keep codes finite
  g.zero = symmetric ? static_cast<float>((maxq + 1) / 2) : std::nearbyint(-xmin / g.scale);
  g.zero = std::clamp(g.zero, 0.0f, static_cast<float>(maxq));
  if (fp16_scale) g.scale = fp16_grid_scale(g.scale);
  return g;
}

namespace {

void quantize_group(const float* w, int64_t n, const IntGrid& g, int maxq, uint8_t* codes) {
  for (int64_t i = 0; i < n; ++i) codes[i] = static_cast<uint8_t>(quantize_code(w[i], g, maxq));
}

IntTensor make_tensor(int64_t rows, int64_t cols, const Format& format) {
  LB_CHECK(format.kind == Format::Kind::Int && format.fits(cols), "rtn_int: format does not fit the tensor");
  IntTensor t;
  t.format = format;
  t.rows = rows;
  t.cols = cols;
  t.codes.resize(static_cast<size_t>(rows * cols));
  t.grids.resize(static_cast<size_t>(rows * t.groups()));
  return t;
}

}  // namespace

IntTensor rtn_int(const float* w, int64_t rows, int64_t cols, const Format& format, float shrink, bool fp16_scales) {
  IntTensor t = make_tensor(rows, cols, format);
  const int64_t gs = format.group_size(cols), ng = t.groups();
  const int maxq = max_code(format.bits);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < ng; ++g) {
      const float* src = w + r * cols + g * gs;
      IntGrid& grid = t.grids[static_cast<size_t>(r * ng + g)];
      grid = minmax_grid(src, gs, format.bits, format.symmetric, shrink, fp16_scales);
      quantize_group(src, gs, grid, maxq, t.codes.data() + r * cols + g * gs);
    }
  return t;
}

IntTensor rtn_int_mse(const float* w, int64_t rows, int64_t cols, const Format& format, float min_shrink, int steps,
                      bool fp16_scales) {
  IntTensor t = make_tensor(rows, cols, format);
  const int64_t gs = format.group_size(cols), ng = t.groups();
  const int maxq = max_code(format.bits);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < ng; ++g) {
      const float* src = w + r * cols + g * gs;
      IntGrid best = minmax_grid(src, gs, format.bits, format.symmetric, 1.0f, fp16_scales);
      double best_err = INFINITY;
      for (int s = 0; s < steps; ++s) {
        const float p = 1.0f - (1.0f - min_shrink) * static_cast<float>(s) / static_cast<float>(steps);
        const IntGrid cand = minmax_grid(src, gs, format.bits, format.symmetric, p, fp16_scales);
        double err = 0;
        for (int64_t i = 0; i < gs; ++i) {
          const float d = src[i] - dequantize_code(quantize_code(src[i], cand, maxq), cand);
          err += std::pow(std::fabs(static_cast<double>(d)), 2.4);
        }
        if (err < best_err) {
          best_err = err;
          best = cand;
        }
      }
      t.grids[static_cast<size_t>(r * ng + g)] = best;
      quantize_group(src, gs, best, maxq, t.codes.data() + r * cols + g * gs);
    }
  return t;
}

void dequantize_int(const IntTensor& t, float* out) {
  const int64_t gs = t.format.group_size(t.cols), ng = t.groups();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < t.rows; ++r)
    for (int64_t g = 0; g < ng; ++g) {
      const IntGrid& grid = t.grids[static_cast<size_t>(r * ng + g)];
      const int64_t base = r * t.cols + g * gs;
      for (int64_t i = 0; i < gs; ++i)
        out[base + i] = dequantize_code(static_cast<float>(t.codes[static_cast<size_t>(base + i)]), grid);
    }
}

}  // namespace lowbit
