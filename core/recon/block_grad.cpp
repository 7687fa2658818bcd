#include "core/recon/block_grad.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/model/attention.h"
#include "core/model/rope.h"
#include "core/recon/norm_grad.h"
#include "core/util/check.h"

namespace lowbit {
namespace {

using Index = Eigen::Index;

void linear_fwd(const MatrixRM& x, const Linear& l, MatrixRM& y) {
  y.resize(x.rows(), l.w.rows());
  y.noalias() = x * l.w.transpose();
  if (l.has_bias()) y.rowwise() += l.b.transpose();
}

// y = x Wᵀ + b: dW += dyᵀ x, db += Σ rows dy, dx (=, or += when `accumulate`) dy W.
void linear_bwd(const MatrixRM& x, const Linear& l, const MatrixRM& dy, Linear& g, MatrixRM* dx, bool accumulate) {
  g.w.noalias() += dy.transpose() * x;
  if (l.has_bias()) g.b += dy.colwise().sum().transpose();
  if (!dx) return;
  if (accumulate) {
    dx->noalias() += dy * l.w;
  } else {
    dx->resize(dy.rows(), l.w.cols());
    dx->noalias() = dy * l.w;
  }
}

// In-place RMSNorm of each head_dim slice (qwen3's q_norm / k_norm), as in forward.cpp.
void head_rms_norm_fwd(MatrixRM& x, int64_t heads, int64_t hd, const VectorF& w, double eps) {
  const Index n = x.rows();
#pragma omp parallel for schedule(static)
  for (Index i = 0; i < n; ++i)
    for (int64_t h = 0; h < heads; ++h) {
      auto seg = x.row(i).segment(h * hd, hd);
      const float inv = 1.0f / std::sqrt(seg.squaredNorm() / static_cast<float>(hd) + static_cast<float>(eps));
      seg = (seg * inv).cwiseProduct(w.transpose());
    }
}

// dx (in place over dy) and dw of the per-head RMSNorm, from the pre-norm values x.
void head_rms_norm_bwd(MatrixRM& dy, const MatrixRM& x, int64_t heads, int64_t hd, const VectorF& w, double eps, VectorF& dw) {
  const Index n = x.rows();
  const float inv_hd = 1.0f / static_cast<float>(hd);
#pragma omp parallel
  {
    VectorF dw_local = VectorF::Zero(hd);
#pragma omp for schedule(static)
    for (Index i = 0; i < n; ++i)
      for (int64_t h = 0; h < heads; ++h) {
        const auto xs = x.row(i).segment(h * hd, hd);
        auto ds = dy.row(i).segment(h * hd, hd);
        const float r = 1.0f / std::sqrt(xs.squaredNorm() * inv_hd + static_cast<float>(eps));
        dw_local += (ds.cwiseProduct(xs) * r).transpose();
        const RowVectorF dyw = ds.cwiseProduct(w.transpose());
        const float dot = dyw.dot(xs) * r * r * inv_hd;
        ds = (dyw - xs * dot) * r;
      }
#pragma omp critical
    dw += dw_local;
  }
}

// Backward of attention: per (window, kv head), so the heads of a GQA group accumulate into their
// shared dK and dV without races. Probabilities are recomputed from the saved log-sum-exps.
void attention_bwd(const ModelConfig& c, const BlockTape& tp, const MatrixRM& dout, MatrixRM& dq, MatrixRM& dk, MatrixRM& dv) {
  const int64_t hd = c.head_dim, nh = c.n_heads, nkv = c.n_kv_heads, group = nh / nkv;
  const int64_t B = tp.B, T = tp.T;
  dq.resize(B * T, nh * hd);
  dk.setZero(B * T, nkv * hd);
  dv.setZero(B * T, nkv * hd);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t window = c.sliding_window;
#pragma omp parallel
  {
    MatrixRM p(T, T), dp(T, T);
#pragma omp for schedule(dynamic)
    for (int64_t bk = 0; bk < B * nkv; ++bk) {
      const int64_t b = bk / nkv, kvh = bk % nkv;
      const auto K = tp.k.block(b * T, kvh * hd, T, hd);
      const auto V = tp.v.block(b * T, kvh * hd, T, hd);
      auto dK = dk.block(b * T, kvh * hd, T, hd);
      auto dV = dv.block(b * T, kvh * hd, T, hd);
      for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h) {
        const auto Q = tp.q.block(b * T, h * hd, T, hd);
        const auto dO = dout.block(b * T, h * hd, T, hd);
        const float* lse_row = tp.lse.data() + (b * nh + h) * T;
        p.noalias() = (Q * K.transpose()) * scale;
        for (int64_t i = 0; i < T; ++i) {
          const int64_t lo = attention_window_lo(window, i);
          for (int64_t j = 0; j < T; ++j) p(i, j) = (j >= lo && j <= i) ? std::exp(p(i, j) - lse_row[i]) : 0.0f;
        }
        dV.noalias() += p.transpose() * dO;
        dp.noalias() = dO * V.transpose();
        for (int64_t i = 0; i < T; ++i) {
          const float dot = p.row(i).dot(dp.row(i));
          dp.row(i) = (p.row(i).array() * (dp.row(i).array() - dot)).matrix() * scale;  // dS (scaled)
        }
        dq.block(b * T, h * hd, T, hd).noalias() = dp * K;
        dK.noalias() += dp.transpose() * Q;
      }
    }
  }
}

constexpr float kSqrt2OverPi = 0.7978845608028654f;

float act_fwd(Activation act, float x) {
  if (act == Activation::Silu) return x / (1.0f + std::exp(-x));
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

float act_grad(Activation act, float x) {
  if (act == Activation::Silu) {
    const float s = 1.0f / (1.0f + std::exp(-x));
    return s * (1.0f + x * (1.0f - s));
  }
  const float t = std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x));
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * x * x);
}

void resize_like(const VectorF& src, VectorF& dst) { dst.setZero(src.size()); }
void resize_like(const Linear& src, Linear& dst) {
  dst.w.setZero(src.w.rows(), src.w.cols());
  dst.b.setZero(src.b.size());
}

}  // namespace

int64_t BlockTape::bytes() const {
  int64_t n = 0;
  for (const MatrixRM* m : {&x, &h1, &q_pre, &k_pre, &q, &k, &v, &att, &x_mid, &h2, &g, &u, &a}) n += m->size();
  n += rstd1.size() + mean1.size() + rstd2.size() + mean2.size() + static_cast<int64_t>(lse.size());
  return n * static_cast<int64_t>(sizeof(float));
}

void zero_grads_like(const DecoderBlock& b, DecoderBlock& g) {
  resize_like(b.attn_norm, g.attn_norm);
  resize_like(b.attn_norm_b, g.attn_norm_b);
  resize_like(b.ffn_norm, g.ffn_norm);
  resize_like(b.ffn_norm_b, g.ffn_norm_b);
  resize_like(b.q_norm, g.q_norm);
  resize_like(b.k_norm, g.k_norm);
  for (auto [src, dst] : {std::pair{&b.q, &g.q}, {&b.k, &g.k}, {&b.v, &g.v}, {&b.o, &g.o}, {&b.gate, &g.gate}, {&b.up, &g.up},
                          {&b.down, &g.down}})
    resize_like(*src, *dst);
}

void block_forward_tape(const ModelConfig& c, const DecoderBlock& b, const MatrixRM& x, int64_t B, int64_t T, BlockTape& tp,
                        MatrixRM& y) {
  LB_CHECK(x.rows() == B * T && x.cols() == c.hidden, "block_forward_tape: x is not [B*T, hidden]");
  tp.B = B;
  tp.T = T;
  tp.x = x;
  norm_forward(c.norm, c.norm_eps, tp.x, b.attn_norm, b.attn_norm_b, tp.h1, tp.rstd1, tp.mean1);
  linear_fwd(tp.h1, b.q, tp.q);
  linear_fwd(tp.h1, b.k, tp.k);
  linear_fwd(tp.h1, b.v, tp.v);
  if (c.qk_norm) {
    tp.q_pre = tp.q;
    tp.k_pre = tp.k;
    head_rms_norm_fwd(tp.q, c.n_heads, c.head_dim, b.q_norm, c.norm_eps);
    head_rms_norm_fwd(tp.k, c.n_kv_heads, c.head_dim, b.k_norm, c.norm_eps);
  }
  if (!c.learned_positions) {
    const RopeTable rope = rope_table(c, T);
    apply_rope(tp.q, c.n_heads, c.head_dim, T, rope, c.rope_style, false);
    apply_rope(tp.k, c.n_kv_heads, c.head_dim, T, rope, c.rope_style, false);
  }
  causal_attention(c, tp.q, tp.k, tp.v, B, T, tp.att, &tp.lse);
  linear_fwd(tp.att, b.o, tp.x_mid);
  tp.x_mid += tp.x;

  norm_forward(c.norm, c.norm_eps, tp.x_mid, b.ffn_norm, b.ffn_norm_b, tp.h2, tp.rstd2, tp.mean2);
  const bool gated = b.gate.w.size() > 0;
  linear_fwd(tp.h2, gated ? b.gate : b.up, tp.g);
  if (gated) linear_fwd(tp.h2, b.up, tp.u);
  tp.a.resize(tp.g.rows(), tp.g.cols());
  const Index n = tp.g.rows(), m = tp.g.cols();
#pragma omp parallel for schedule(static)
  for (Index i = 0; i < n; ++i) {
    const float* g = tp.g.row(i).data();
    const float* u = gated ? tp.u.row(i).data() : nullptr;
    float* a = tp.a.row(i).data();
    for (Index j = 0; j < m; ++j) {
      const float v = act_fwd(c.act, g[j]);
      a[j] = u ? v * u[j] : v;
    }
  }
  linear_fwd(tp.a, b.down, y);
  y += tp.x_mid;
}

void block_backward(const ModelConfig& c, const DecoderBlock& b, const BlockTape& tp, const MatrixRM& dy, DecoderBlock& grads,
                    MatrixRM* dx) {
  LB_CHECK(dy.rows() == tp.x.rows() && dy.cols() == c.hidden, "block_backward: dy does not match the tape");
  LB_CHECK(grads.q.w.rows() == b.q.w.rows() && grads.down.w.cols() == b.down.w.cols(),
           "block_backward: grads not sized (call zero_grads_like)");
  // Scratch kept per calling thread across calls; referenced by name, never as thread_local inside
  // the OpenMP regions below (a worker thread would see its own, empty copy).
  struct Scratch {
    MatrixRM da, dg, du, dh, dmid, datt, dq, dk, dv, dnorm;
  };
  thread_local Scratch scratch_tls;
  Scratch& sc = scratch_tls;
  MatrixRM &da = sc.da, &dg = sc.dg, &du = sc.du, &dh = sc.dh, &dmid = sc.dmid, &datt = sc.datt, &dq = sc.dq, &dk = sc.dk,
           &dv = sc.dv;
  // MLP.
  linear_bwd(tp.a, b.down, dy, grads.down, &da, false);
  const bool gated = b.gate.w.size() > 0;
  dg.resize(da.rows(), da.cols());
  if (gated) du.resize(da.rows(), da.cols());
  const Index n = da.rows(), m = da.cols();
#pragma omp parallel for schedule(static)
  for (Index i = 0; i < n; ++i) {
    const float* g = tp.g.row(i).data();
    const float* d = da.row(i).data();
    float* out_g = dg.row(i).data();
    if (gated) {
      const float* u = tp.u.row(i).data();
      float* out_u = du.row(i).data();
      for (Index j = 0; j < m; ++j) {
        out_u[j] = d[j] * act_fwd(c.act, g[j]);
        out_g[j] = d[j] * u[j] * act_grad(c.act, g[j]);
      }
    } else {
      for (Index j = 0; j < m; ++j) out_g[j] = d[j] * act_grad(c.act, g[j]);
    }
  }
  if (gated) {
    linear_bwd(tp.h2, b.gate, dg, grads.gate, &dh, false);
    linear_bwd(tp.h2, b.up, du, grads.up, &dh, true);
  } else {
    linear_bwd(tp.h2, b.up, dg, grads.up, &dh, false);
  }
  norm_backward(c.norm, tp.x_mid, b.ffn_norm, tp.rstd2, tp.mean2, dh, dmid, &grads.ffn_norm,
                c.norm == NormKind::Layer ? &grads.ffn_norm_b : nullptr);
  dmid += dy;

  // Attention.
  linear_bwd(tp.att, b.o, dmid, grads.o, &datt, false);
  attention_bwd(c, tp, datt, dq, dk, dv);
  if (!c.learned_positions) {
    const RopeTable rope = rope_table(c, tp.T);
    apply_rope(dq, c.n_heads, c.head_dim, tp.T, rope, c.rope_style, true);
    apply_rope(dk, c.n_kv_heads, c.head_dim, tp.T, rope, c.rope_style, true);
  }
  if (c.qk_norm) {
    head_rms_norm_bwd(dq, tp.q_pre, c.n_heads, c.head_dim, b.q_norm, c.norm_eps, grads.q_norm);
    head_rms_norm_bwd(dk, tp.k_pre, c.n_kv_heads, c.head_dim, b.k_norm, c.norm_eps, grads.k_norm);
  }
  linear_bwd(tp.h1, b.q, dq, grads.q, &dh, false);
  linear_bwd(tp.h1, b.k, dk, grads.k, &dh, true);
  linear_bwd(tp.h1, b.v, dv, grads.v, &dh, true);
  if (!dx) {
    // The norm's weight gradients still need the backward; its dx goes to a scratch buffer.
    norm_backward(c.norm, tp.x, b.attn_norm, tp.rstd1, tp.mean1, dh, sc.dnorm, &grads.attn_norm,
                  c.norm == NormKind::Layer ? &grads.attn_norm_b : nullptr);
    return;
  }
  norm_backward(c.norm, tp.x, b.attn_norm, tp.rstd1, tp.mean1, dh, *dx, &grads.attn_norm,
                c.norm == NormKind::Layer ? &grads.attn_norm_b : nullptr);
  *dx += dmid;
}

}  // namespace lowbit
