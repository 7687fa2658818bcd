#include "core/model/forward.h"

#include <omp.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/model/attention.h"
#include "core/model/rope.h"

namespace lowbit {
namespace {

using Index = Eigen::Index;

// Row loops over fewer elements than this run on one thread: a parallel region costs microseconds,
// and on a busy machine (two processes' OpenMP teams on two cores) up to a scheduler slice, each team
// waiting at the region's end for a thread the other displaced, while a small model's row
// operations take less than that.
constexpr Index kParallelElements = Index{1} << 16;

void rms_norm(const MatrixRM& x, const VectorF& w, double eps, MatrixRM& y) {
  y.resize(x.rows(), x.cols());
  const Index n = x.rows();
#pragma omp parallel for schedule(static) if (n * x.cols() >= kParallelElements)
  for (Index i = 0; i < n; ++i) {
    const float ms = x.row(i).squaredNorm() / static_cast<float>(x.cols());
    const float inv = 1.0f / std::sqrt(ms + static_cast<float>(eps));
    y.row(i) = (x.row(i) * inv).cwiseProduct(w.transpose());
  }
}

void layer_norm(const MatrixRM& x, const VectorF& w, const VectorF& b, double eps, MatrixRM& y) {
  y.resize(x.rows(), x.cols());
  const Index n = x.rows();
  const float inv_cols = 1.0f / static_cast<float>(x.cols());
#pragma omp parallel for schedule(static) if (n * x.cols() >= kParallelElements)
  for (Index i = 0; i < n; ++i) {
    const float mean = x.row(i).sum() * inv_cols;
    const auto centered = (x.row(i).array() - mean).matrix();
    const float var = centered.squaredNorm() * inv_cols;
    const float inv = 1.0f / std::sqrt(var + static_cast<float>(eps));
    y.row(i) = (centered * inv).cwiseProduct(w.transpose()) + b.transpose();
  }
}

void norm(const ModelConfig& c, const MatrixRM& x, const VectorF& w, const VectorF& b, MatrixRM& y) {
  if (c.norm == NormKind::Rms) rms_norm(x, w, c.norm_eps, y);
  else layer_norm(x, w, b, c.norm_eps, y);
}

void linear(const MatrixRM& x, const Linear& l, MatrixRM& y) {
  y.resize(x.rows(), l.w.rows());
  y.noalias() = x * l.w.transpose();
  if (l.has_bias()) y.rowwise() += l.b.transpose();
}

// In-place RMSNorm of each head_dim slice of the rows of x (qwen3's q_norm / k_norm).
void head_rms_norm(MatrixRM& x, int64_t heads, int64_t hd, const VectorF& w, double eps) {
  const Index n = x.rows();
#pragma omp parallel for schedule(static) if (n * x.cols() >= kParallelElements)
  for (Index i = 0; i < n; ++i)
    for (int64_t h = 0; h < heads; ++h) {
      auto seg = x.row(i).segment(h * hd, hd);
      const float inv = 1.0f / std::sqrt(seg.squaredNorm() / static_cast<float>(hd) + static_cast<float>(eps));
      seg = (seg * inv).cwiseProduct(w.transpose());
    }
}

void activate(const ModelConfig& c, MatrixRM& gate_or_up, const MatrixRM* up) {
  const Index n = gate_or_up.rows(), m = gate_or_up.cols();
#pragma omp parallel for schedule(static) if (n * m >= kParallelElements)
  for (Index i = 0; i < n; ++i) {
    float* g = gate_or_up.row(i).data();
    const float* u = up ? up->row(i).data() : nullptr;
    for (Index j = 0; j < m; ++j) {
      const float x = g[j];
      float a;
      if (c.act == Activation::Silu) {
        a = x / (1.0f + std::exp(-x));
      } else {
        constexpr float kSqrt2OverPi = 0.7978845608028654f;
        a = 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
      }
      g[j] = u ? a * u[j] : a;
    }
  }
}

}  // namespace

void set_compute_threads(int threads) {
  if (threads <= 0) threads = omp_get_num_procs();
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);
}

int compute_threads() { return omp_get_max_threads(); }

Expected<void> embed_windows(const ModelWeights& m, std::span<const int32_t> tokens, int64_t B, int64_t T, MatrixRM& x) {
  const ModelConfig& c = m.config;
  if (B <= 0 || T <= 0 || static_cast<int64_t>(tokens.size()) != B * T)
    return make_error(ErrorCode::InvalidArgument, "forward: " + std::to_string(tokens.size()) + " tokens do not form " +
                                                      std::to_string(B) + " windows of " + std::to_string(T));
  if (c.learned_positions && T > c.max_positions)
    return make_error(ErrorCode::InvalidArgument, "forward: window of " + std::to_string(T) + " tokens exceeds the model's " +
                                                      std::to_string(c.max_positions) + " learned positions");
  const int64_t N = B * T;
  x.resize(N, c.hidden);
  for (int64_t i = 0; i < N; ++i) {
    const int32_t id = tokens[static_cast<size_t>(i)];
    if (id < 0 || id >= c.vocab)
      return make_error(ErrorCode::InvalidArgument, "forward: token id " + std::to_string(id) + " is outside the vocabulary of " +
                                                        std::to_string(c.vocab));
    x.row(i) = m.tok_embd.row(id);
    if (c.learned_positions) x.row(i) += m.pos_embd.row(i % T);
  }
  return {};
}

void block_forward(const ModelConfig& c, const DecoderBlock& b, MatrixRM& x, int64_t B, int64_t T, const LinearInputHook& hook) {
  // Buffers kept per thread across calls: fresh multi-MB allocations for every block cost more in
  // page faults than the arithmetic of a small model.
  thread_local MatrixRM h, q, k, v, att, tmp, g, u;
  norm(c, x, b.attn_norm, b.attn_norm_b, h);
  if (hook) hook(LinearInput::kQkv, h);
  linear(h, b.q, q);
  linear(h, b.k, k);
  linear(h, b.v, v);
  if (c.qk_norm) {
    head_rms_norm(q, c.n_heads, c.head_dim, b.q_norm, c.norm_eps);
    head_rms_norm(k, c.n_kv_heads, c.head_dim, b.k_norm, c.norm_eps);
  }
  if (!c.learned_positions) {
    const RopeTable rope = rope_table(c, T);
    apply_rope(q, c.n_heads, c.head_dim, T, rope, c.rope_style);
    apply_rope(k, c.n_kv_heads, c.head_dim, T, rope, c.rope_style);
  }
  causal_attention(c, q, k, v, B, T, att);
  if (hook) hook(LinearInput::kO, att);
  linear(att, b.o, tmp);
  x += tmp;

  norm(c, x, b.ffn_norm, b.ffn_norm_b, h);
  if (hook) hook(LinearInput::kGateUp, h);
  if (b.gate.w.size()) {
    linear(h, b.gate, g);
    linear(h, b.up, u);
    activate(c, g, &u);
  } else {
    linear(h, b.up, g);
    activate(c, g, nullptr);
  }
  if (hook) hook(LinearInput::kDown, g);
  linear(g, b.down, tmp);
  x += tmp;
}

void head_forward(const ModelWeights& m, const MatrixRM& x, int64_t B, int64_t T, const LogitsSink& sink) {
  thread_local MatrixRM h;
  norm(m.config, x, m.final_norm, m.final_norm_b, h);
  const MatrixRM& out = m.output();
  MatrixRM logits(T, m.config.vocab);
  for (int64_t w = 0; w < B; ++w) {
    logits.noalias() = h.middleRows(w * T, T) * out.transpose();
    sink(w, logits);
  }
}

Expected<void> forward_windows(const ModelWeights& m, std::span<const int32_t> tokens, int64_t B, int64_t T,
                               const LogitsSink& sink, const ForwardOptions& options) {
  MatrixRM x;
  LB_TRY_VOID(embed_windows(m, tokens, B, T, x));
  for (int64_t l = 0; l < m.config.n_layers; ++l) {
    if (options.on_block_input) options.on_block_input(l, x);
    block_forward(m.config, m.blocks[static_cast<size_t>(l)], x, B, T);
  }
  if (options.on_block_input) options.on_block_input(m.config.n_layers, x);
  head_forward(m, x, B, T, sink);
  return {};
}

}  // namespace lowbit

namespace lowbit {
int compute_threads_available() { return omp_get_num_procs(); }
}  // namespace lowbit
