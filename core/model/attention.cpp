#include "core/model/attention.h"

#include <algorithm>
#include <cmath>

namespace lowbit {

int64_t attention_window_lo(int64_t window, int64_t i) {
  return window > 0 ? std::max<int64_t>(0, i - window + 1) : 0;
}

void causal_attention(const ModelConfig& c, const MatrixRM& q, const MatrixRM& k, const MatrixRM& v, int64_t B, int64_t T,
                      MatrixRM& out, std::vector<float>* lse) {
  const int64_t hd = c.head_dim, nh = c.n_heads, group = c.n_heads / c.n_kv_heads;
  out.resize(B * T, nh * hd);
  if (lse) lse->resize(static_cast<size_t>(B * nh * T));
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t window = c.sliding_window;
  // Small problems on one thread: a parallel region costs more than they take (see forward.cpp).
#pragma omp parallel if (B * nh * T * T * hd >= (int64_t{1} << 16))
  {
    MatrixRM s(T, T);
#pragma omp for schedule(dynamic)
    for (int64_t bh = 0; bh < B * nh; ++bh) {
      const int64_t b = bh / nh, h = bh % nh, kvh = h / group;
      const auto Q = q.block(b * T, h * hd, T, hd);
      const auto K = k.block(b * T, kvh * hd, T, hd);
      const auto V = v.block(b * T, kvh * hd, T, hd);
      s.noalias() = (Q * K.transpose()) * scale;
      for (int64_t i = 0; i < T; ++i) {
        const int64_t lo = attention_window_lo(window, i);
        float mx = -INFINITY;
        for (int64_t j = lo; j <= i; ++j) mx = std::max(mx, s(i, j));
        float sum = 0;
        for (int64_t j = 0; j < T; ++j) {
          const float e = (j >= lo && j <= i) ? std::exp(s(i, j) - mx) : 0.0f;
          s(i, j) = e;
          sum += e;
        }
        s.row(i) /= sum;
        if (lse) (*lse)[static_cast<size_t>(bh * T + i)] = mx + std::log(sum);
      }
      out.block(b * T, h * hd, T, hd).noalias() = s * V;
    }
  }
}

}  // namespace lowbit
