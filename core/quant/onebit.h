// OneBit (METHODS.md §5): a linear layer W [rows = outputs, cols = inputs] becomes a ±1 sign matrix S
// and two fp16 value vectors, h over the outputs and g over the inputs, Ŵ = diag(h)·S·diag(g), i.e.
// y = h ⊙ (S (g ⊙ x)). SVID initialises it: S = sign(W) and h gᵀ the rank-1 approximation of |W|,
// found by power iteration on the non-negative |W| (its leading singular vectors are non-negative,
// Perron–Frobenius), the scale split between h and g so both have the same root mean square (they
// are stored in fp16, whose range is then used evenly). OneBitLayer holds exactly what the onebit
// checkpoint stores (core/io/onebit_format.h): packed signs and the fp16-rounded values as floats, so
// dequantize() is the dense Ŵ the forward pass evaluates and the file reproduces bit for bit. The
// distillation that refines S, g and h block by block is in core/quant/onebit_distill.h; its options
// live here so that quantize_model's options can carry them without the reverse-mode engine.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/util/expected.h"

namespace lowbit {

struct OneBitLayer {
  int64_t rows = 0, cols = 0;
  std::vector<uint8_t> signs;  // rows × onebit_row_bytes(cols), +1 ↔ bit set (core/io/onebit_format.h)
  std::vector<float> g;        // [cols], fp16 values
  std::vector<float> h;        // [rows], fp16 values

  // Ŵ [rows, cols] row-major.
  void dequantize(float* out) const;
  // 1 + 16·(rows+cols)/(rows·cols).
  double bits_per_weight() const;
};

// The rank-1 approximation σ u vᵀ of |W| by power iteration on |W|ᵀ|W| from a positive start (in
// double precision, until the change of v is below `tol` or `max_iter` iterations), returned as
// a = √σ·κ·u (rows) and b = √σ/κ·v (cols), κ chosen so a and b have the same root mean square.
struct Rank1 {
  std::vector<double> a, b;
  double sigma = 0;
  int iterations = 0;
  bool converged = false;
};
Rank1 rank1_abs(const float* w, int64_t rows, int64_t cols, double tol = 1e-12, int max_iter = 2000);

// A OneBit layer from latent weights (S = sign, +1 for 0) and values, rounded to fp16.
OneBitLayer onebit_from(const float* latent, const float* h, const float* g, int64_t rows, int64_t cols);
// SVID of W [rows, cols]: signs of W, h = a and g = b of rank1_abs(W), rounded to fp16.
OneBitLayer svid(const float* w, int64_t rows, int64_t cols);

// What method onebit produced: checkpoint tensor name → its 1-bit layer (a fused tensor's parts
// stacked by rows, sharing g), and per decoder block the distillation's hidden-state error.
struct OneBitBlockReport {
  int64_t block = 0;
  double mse_svid = 0;   // Σ‖y − y*‖² / Σ‖y*‖² over all calibration windows after SVID (fp16 values)
  double mse_final = 0;  // the same after distillation (fp16 values), = mse_svid without it
  double kl_svid = -1, kl_final = -1;  // last block with KD: mean KL(teacher ‖ student) of the logits
  int64_t steps = 0;
  double seconds = 0;
  bool reverted = false;  // distillation ended worse than SVID, whose values were kept
};
struct OneBitResult {
  std::map<std::string, OneBitLayer> layers;
  std::vector<OneBitBlockReport> blocks;
};

// Block-wise distillation after SVID (core/quant/onebit_distill.h). iterations = 0: SVID alone.
struct OneBitOptions {
  int64_t iterations = 300;   // Adam steps per decoder block
  double lr = 2e-3;           // Adam learning rate of h and g, relative to each vector's root mean square
  double latent_lr = 2e-3;    // Adam learning rate of the latent weights, relative to the layer's mean |W|
  int64_t batch = 4;          // calibration windows per step
  bool kd = false;            // also KL divergence of the logits on the last block
  double kd_weight = 1.0;     // weight of that KL term against the (relative) hidden-state MSE
  uint64_t seed = 0;          // order of the windows
  Expected<void> validate() const;
};

}  // namespace lowbit
