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
// The forward passes run on a ScaleLossRunner: the CPU's (host memory) or another backend's
// (gpu/model/vulkan_scale_loss.h: blocks and hidden states on the device, a position's loss reduced
// there); the blocks' quantization stays on the CPU.
#pragma once

#include <cstdint>
#include <functional>
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

// Where the scale views' forward passes run: decoder blocks it keeps (handles from add_block) and
// `slots` buffers of the windows' hidden states (S·T × hidden each), made for one model and one set
// of windows (S windows of ctx tokens).
class ScaleLossRunner {
 public:
  virtual ~ScaleLossRunner() = default;
  virtual std::string name() const = 0;  // "cpu", "vulkan"
  virtual Expected<int64_t> add_block(const DecoderBlock& b) = 0;
  virtual void drop_block(int64_t handle) = 0;
  virtual Expected<void> embed(int slot) = 0;  // the windows' embeddings
  virtual Expected<void> copy(int from, int to) = 0;
  virtual Expected<void> run(int64_t block, int slot) = 0;  // the block over the slot's states, in place
  // The mean next-token NLL (nats) of the output head on the slot's states, over every position but
  // the last of each window, logsumexp in double.
  virtual Expected<double> loss(int slot) = 0;
};
using ScaleLossRunnerFactory = std::function<Expected<std::unique_ptr<ScaleLossRunner>>(
    const ModelWeights& m, std::span<const int32_t> windows, int64_t ctx, int slots)>;

// The CPU's runner (blocks run in chunks of about 4096 tokens).
Expected<std::unique_ptr<ScaleLossRunner>> cpu_scale_loss_runner(const ModelWeights& m, std::span<const int32_t> windows,
                                                                 int64_t ctx, int slots);

class ScaleLossModel {
 public:
  // RTN-quantizes a copy of m's blocks to `format` (int family) and runs the windows through it once,
  // on the runner `runner` makes (empty, or one answering Unsupported or OutOfMemory: the CPU's; then
  // `note`, if set, receives why).
  static Expected<std::unique_ptr<ScaleLossModel>> build(const ModelWeights& m, std::span<const int32_t> windows,
                                                         int64_t ctx, const Format& format, bool fixed_codes = false,
                                                         const CancelToken* cancel = nullptr,
                                                         const ScaleLossRunnerFactory& runner = {}, std::string* note = nullptr);
  std::string runner_name() const { return runner_->name(); }
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
  ScaleLossModel(const ModelWeights& m, const Format& format, bool fixed_codes);
  DecoderBlock perturbed(int64_t block, float c) const;
  // Runs the quantized blocks [from, n) over `slot`, then the head: the loss.
  Expected<double> finish(int64_t from, int slot) const;
  int input_slot(int64_t k) const { return static_cast<int>(k); }  // the input of block k (n: of the head)
  int y_slot() const { return static_cast<int>(blocks()) + 1; }
  int w_slot() const { return static_cast<int>(blocks()) + 2; }

  const ModelWeights& m_;
  Format format_;
  bool fixed_codes_ = false;
  std::unique_ptr<ScaleLossRunner> runner_;  // mutable work: the runner's slots are scratch
  std::vector<int64_t> quantized_;           // the runner's handles of the c = 1 blocks
  double base_loss_ = 0;
};

}  // namespace lowbit
