#include "core/model/rope.h"

#include <cmath>

namespace lowbit {

RopeTable rope_table(const ModelConfig& c, int64_t T) {
  RopeTable r;
  const int64_t rot = c.rotary_dim();
  r.half = rot / 2;
  r.cos.resize(static_cast<size_t>(T * r.half));
  r.sin.resize(r.cos.size());
  for (int64_t i = 0; i < r.half; ++i) {
    const float inv_freq =
        1.0f / std::pow(static_cast<float>(c.rope_theta), static_cast<float>(2 * i) / static_cast<float>(rot));
    for (int64_t t = 0; t < T; ++t) {
      const float angle = static_cast<float>(t) * inv_freq;
      r.cos[static_cast<size_t>(t * r.half + i)] = static_cast<float>(std::cos(static_cast<double>(angle)));
      r.sin[static_cast<size_t>(t * r.half + i)] = static_cast<float>(std::sin(static_cast<double>(angle)));
    }
  }
  return r;
}

void apply_rope(MatrixRM& x, int64_t heads, int64_t hd, int64_t T, const RopeTable& r, RopeStyle style, bool inverse) {
  using Index = Eigen::Index;
  // Fewer elements than this run on one thread (as core/model/forward.cpp's row loops).
  constexpr Index kParallelElements = Index{1} << 16;
  const Index n = x.rows();
  const int64_t half = r.half;
  const float sign = inverse ? -1.0f : 1.0f;  // 1 · sin is sin exactly: the forward's bits either way
#pragma omp parallel for schedule(static) if (n * x.cols() >= kParallelElements)
  for (Index i = 0; i < n; ++i) {
    const int64_t t = i % T;
    const float* cs = r.cos.data() + t * half;
    const float* sn = r.sin.data() + t * half;
    float* row = x.row(i).data();
    for (int64_t h = 0; h < heads; ++h) {
      float* v = row + h * hd;
      for (int64_t j = 0; j < half; ++j) {
        const int64_t a = style == RopeStyle::Neox ? j : 2 * j;
        const int64_t b = style == RopeStyle::Neox ? j + half : 2 * j + 1;
        const float x0 = v[a], x1 = v[b], s = sign * sn[j];
        v[a] = x0 * cs[j] - x1 * s;
        v[b] = x1 * cs[j] + x0 * s;
      }
    }
  }
}

}  // namespace lowbit
