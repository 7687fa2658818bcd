// The scale views (METHODS.md §7): the calibration loss L(c) of an RTN-quantized model as a function
// of one multiplier c_k on all quantization scales of each block k (core/analysis/scaled_rtn.h),
// with L = the mean next-token negative log-likelihood (nats) over the calibration windows (every
// position but the last of each window predicts the next token). Two views are built on it:
//   scale Hessian  ∂²L/∂c_i∂c_j at c = 1 by central finite differences with step h:
//                  diagonal (L(+h e_i) − 2 L(0) + L(−h e_i)) / h², off-diagonal
//                  (L(+h,+h) − L(+h,−h) − L(−h,+h) + L(−h,−h)) / (4h²); blocks × blocks, symmetric;
//   landscape      L on a grid of (c_a, c_{a+1}) for two consecutive blocks, all other c = 1.
// The evaluator quantizes a copy of the decoder blocks once (c = 1) and caches the input of every
// block of that unperturbed model, so an evaluation starts at its first perturbed block; the scale
// Hessian also reuses the hidden states between the two perturbed blocks. Memory: one copy of the
// blocks, the blocks' inputs ((n + 1) × windows × ctx × hidden floats) and 2n perturbed blocks.
// The model's own weights are only read. Codes are rounded again on every scaled grid unless
// `fixed_codes` (scaled_rtn.h explains the kink at c = 1 that rounding again brings).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/jobs/progress.h"
#include "core/model/weights.h"
#include "core/quant/format.h"

namespace lowbit {

struct ScaleHessianResult {
  int bits = 0;
  std::string format;
  bool fixed_codes = false;
  double step = 0;
  double base_loss = 0;                   // L(1, …, 1): the RTN model's calibration loss
  std::vector<std::vector<double>> matrix;  // [blocks][blocks]
  int64_t evaluations = 0;
  double seconds = 0;
};

struct LandscapeResult {
  int bits = 0;
  std::string format;
  bool fixed_codes = false;
  int64_t block_a = 0, block_b = 1;        // c_a varies along rows, c_b along columns
  std::vector<double> values;              // the multipliers of both axes, ascending
  std::vector<std::vector<double>> loss;   // loss[i][j] at (c_a = values[i], c_b = values[j])
  double base_loss = 0;
  double seconds = 0;
};

class ScaleLossModel {
 public:
  // RTN-quantizes a copy of m's blocks to `format` (int family) and runs the windows through it once.
  static Expected<std::unique_ptr<ScaleLossModel>> build(const ModelWeights& m, std::span<const int32_t> windows,
                                                         int64_t ctx, const Format& format, bool fixed_codes = false,
                                                         const CancelToken* cancel = nullptr);
  int64_t blocks() const { return static_cast<int64_t>(quantized_.size()); }
  double base_loss() const { return base_loss_; }
  const Format& format() const { return format_; }

  // L with the given (block, multiplier) pairs (other blocks at c = 1). Blocks must be distinct.
  Expected<double> loss(std::vector<std::pair<int64_t, float>> multipliers) const;

  Expected<ScaleHessianResult> scale_hessian(double step, Progress* progress = nullptr,
                                             const CancelToken* cancel = nullptr) const;
  // `values`: the multipliers of both axes (ascending); blocks a and a + 1.
  Expected<LandscapeResult> landscape(int64_t a, const std::vector<double>& values, Progress* progress = nullptr,
                                      const CancelToken* cancel = nullptr) const;

 private:
  ScaleLossModel(const ModelWeights& m, std::span<const int32_t> windows, int64_t ctx, const Format& format,
                 bool fixed_codes);
  DecoderBlock perturbed(int64_t block, float c) const;
  void run_block(const DecoderBlock& b, MatrixRM& x) const;
  // Runs blocks [from, n) unperturbed from x, then the head: the loss.
  double finish(int64_t from, MatrixRM x) const;
  double head_loss(const MatrixRM& x) const;

  const ModelWeights& m_;
  std::vector<int32_t> windows_;
  int64_t ctx_ = 0, count_ = 0;
  Format format_;
  bool fixed_codes_ = false;
  std::vector<DecoderBlock> quantized_;
  std::vector<MatrixRM> inputs_;  // inputs_[k]: the input of block k; inputs_[n]: of the head
  double base_loss_ = 0;
};

}  // namespace lowbit
