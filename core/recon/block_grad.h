// Reverse mode through one decoder block and through the output head: the engine behind block
// reconstruction (CBQ's cross-block windows, OneBit's distillation). block_forward_tape runs the
// same fp32 arithmetic as block_forward (core/model/forward.cpp) — every architecture the forward
// supports: RMSNorm/LayerNorm, linears with biases, qwen3's per-head q/k norm, RoPE (neox and
// interleaved), causal GQA attention with an optional sliding window, SwiGLU / GELU-tanh MLP,
// residuals — and keeps the activations the backward pass needs in a BlockTape (one block, the
// batch passed; attention probabilities are recomputed from the saved log-sum-exps instead of being
// stored). block_backward then accumulates the parameter gradients into a DecoderBlock used as a
// gradient container and returns the gradient of the block input. Parallel like the forward:
// Eigen products over all rows, OpenMP over rows and over (window, kv head) for attention.
#pragma once

#include <cstdint>

#include "core/model/config.h"
#include "core/model/weights.h"
#include "core/recon/adam.h"
#include "core/tensor/eigen_types.h"

namespace lowbit {

// Saved activations of one block forward (what backward needs); reusable across calls (buffers are
// resized, not reallocated, when the batch shape repeats).
struct BlockTape {
  int64_t B = 0, T = 0;
  MatrixRM x;              // block input [N, hidden]
  MatrixRM h1;             // attention norm output: the input of q/k/v
  VectorF rstd1, mean1;    // per row 1/σ of the attention norm (mean: LayerNorm only)
  MatrixRM q_pre, k_pre;   // q/k projections before the per-head norm (qwen3 only)
  MatrixRM q, k, v;        // attention inputs (after per-head norm and RoPE)
  std::vector<float> lse;  // log-sum-exp of the scaled scores per (window, head, query) [B, heads, T]
  MatrixRM att;            // attention output: the input of o
  MatrixRM x_mid;          // after the attention residual
  MatrixRM h2;             // ffn norm output: the input of gate/up
  VectorF rstd2, mean2;
  MatrixRM g, u;           // gate and up pre-activations (gpt2: g holds up's output, u unused)
  MatrixRM a;              // activation output: the input of down
  int64_t bytes() const;   // memory held
};

// One decoder block on x [B*T, hidden] (same arithmetic as block_forward in core/model/forward.cpp),
// saving the tape.
void block_forward_tape(const ModelConfig& c, const DecoderBlock& b, const MatrixRM& x, int64_t B, int64_t T, BlockTape& tape,
                        MatrixRM& y);

// Given dL/dy: ADDS dL/dθ into `grads` (a DecoderBlock used as a gradient container: same shapes as
// b, every Linear's w and b, the norm weights/biases, q_norm/k_norm; call zero_grads_like(b, grads)
// first) and writes dL/dx into *dx when dx != nullptr.
void block_backward(const ModelConfig& c, const DecoderBlock& b, const BlockTape& tape, const MatrixRM& dy, DecoderBlock& grads,
                    MatrixRM* dx);

// Sizes every tensor of `grads` like the one of `b` (empty stays empty) and sets it to zero.
void zero_grads_like(const DecoderBlock& b, DecoderBlock& grads);

// The head: final norm + output projection; loss against teacher logits (KL(teacher || student),
// mean over rows) and its gradient w.r.t. the hidden states entering the final norm (written into
// *dx when dx != nullptr). x and teacher_logits: [N, hidden] and [N, vocab].
double head_kl_loss_and_grad(const ModelWeights& m, const MatrixRM& x, const MatrixRM& teacher_logits, MatrixRM* dx);

// The output head alone (final norm + projection): logits [N, vocab] for x [N, hidden], e.g. the
// teacher logits of head_kl_loss_and_grad.
void head_logits(const ModelWeights& m, const MatrixRM& x, MatrixRM& logits);

}  // namespace lowbit
