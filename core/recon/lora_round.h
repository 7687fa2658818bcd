// LoRA-Rounding (CBQ, METHODS.md §4): a learnable fake-quantizer for one linear layer onto the int
// family int{b}g{g}{a|s}. Per weight, with u = W/s for its group's step size s and zero point z:
//     V = κ·(V₀(u) + (A·B)ᵢⱼ),  h = clamp(σ(V)·(ζ − γ) + γ, 0, 1)   (AdaRound's rectified sigmoid)
//     c = clamp(⌊u⌋ + h + z, 0, 2^b − 1),  Ŵ = s·(c − z)
// A is rows × r and B is r × cols, the low-rank rounding compensation (r ≪ min(rows, cols)); V₀(u) =
// h⁻¹(u − ⌊u⌋) is the rounding offset that makes h the fractional part, so with A·B = 0 and κ = 1 the
// soft weights equal W wherever W lies on the grid's range (the start is exact), and hard rounding
// (h ≥ 0.5 ⇔ V₀ + A·B ≥ 0) is round-to-nearest. V₀ follows s (it is recomputed from the current step
// sizes, so Ŵ stays continuous when ⌊u⌋ steps), and it is not a parameter: the learnable state is A,
// B and one multiplier m per group (s = s₀·m, s₀ the min-max grid's step size). κ ≥ 1 sharpens the
// sigmoid as training goes (κ → ∞ is hard rounding), closing the gap between soft and hard weights
// that a rank-r compensation alone cannot close. Gradients: exact for A and B; for s the
// straight-through (LSQ) rule ∂c/∂u = 1 inside the clamp, so ∂Ŵ/∂s = (c − z) − u there and c − z at
// the clamp. AdaRound's regularizer λ·mean(1 − |2h − 1|^β) pushes h to 0 or 1.
#pragma once

#include <cstdint>
#include <random>
#include <span>

#include "core/quant/format.h"
#include "core/quant/int_quant.h"
#include "core/recon/adam.h"
#include "core/tensor/eigen_types.h"

namespace lowbit {

inline constexpr float kRoundZeta = 1.1f, kRoundGamma = -0.1f;

// The default rank: max(4, 5 % of min(rows, cols)), at most min(rows, cols).
int64_t lora_round_default_rank(int64_t rows, int64_t cols);

class LoraRounding {
 public:
  // `w` [rows, cols] are the weights to quantize (kept); `format` an Int format that fits cols;
  // rank <= 0: the default rank. A starts small and random (seeded), B at zero (LoRA's start).
  // `grids` (rows × groups, row-major), when given, are the starting step sizes and zero points
  // (e.g. from a clip search); otherwise the min-max grids.
  LoraRounding(const MatrixRM& w, const Format& format, int64_t rank, uint64_t seed, std::span<const IntGrid> grids = {});

  int64_t rows() const { return w_.rows(); }
  int64_t cols() const { return w_.cols(); }
  int64_t rank() const { return a_.cols(); }
  const Format& format() const { return format_; }
  const MatrixRM& weights() const { return w_; }  // the weights being quantized
  int64_t groups() const { return groups_; }

  // The soft fake-quantized weights at sharpness κ; caches what backward needs (A·B).
  void soft_weights(float kappa, MatrixRM& w_hat);
  // The regularizer mean(1 − |2h − 1|^β) at the cached state (after soft_weights).
  double regularizer(float kappa, float beta) const;
  // Given G = ∂L/∂Ŵ at the last soft_weights: ADDS into the gradients of A, B and the scale
  // multipliers (those of L + λ·regularizer(κ, β)).
  void backward(const MatrixRM& g, float kappa, float lambda, float beta);
  void zero_grad();
  // One Adam step of every parameter (rounding: A and B; scales: the multipliers), then zero_grad.
  void step(Adam& round_a, Adam& round_b, Adam& scale);

  // Hard rounding: h ≥ 0.5 gives the codes; the grids keep the learned step sizes (rounded to fp16
  // first when `fp16_scales`). Ŵ of the result is what dequantize_int gives.
  IntTensor harden(bool fp16_scales) const;

  // Parameters and their gradients (flat, for tests and optimizers).
  MatrixRM& a() { return a_; }
  MatrixRM& b() { return b_; }
  std::vector<float>& scale_mult() { return mult_; }
  const MatrixRM& grad_a() const { return ga_; }
  const MatrixRM& grad_b() const { return gb_; }
  const std::vector<float>& grad_scale_mult() const { return gmult_; }
  float step_size(int64_t row, int64_t group) const;  // s = s₀·m

 private:
  MatrixRM w_;
  Format format_;
  int64_t groups_ = 0, gs_ = 0;
  int maxq_ = 0;
  std::vector<float> s0_, zero_, mult_, gmult_;  // per (row, group)
  MatrixRM a_, b_, ga_, gb_;
  MatrixRM ab_;   // A·B of the last soft_weights
  MatrixRM dab_;  // backward's scratch: ∂L/∂(A·B)
};

}  // namespace lowbit
