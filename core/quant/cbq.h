// CBQ, cross-block quantization (METHODS.md §4), method cbq of quantize_model, onto the int family
// int{b}g{g}{a|s}. Windows of K consecutive decoder blocks (default 2) slide by one block; each
// window's quantization parameters — LoRA-Rounding's low-rank rounding compensation and per-group
// step sizes (core/recon/lora_round.h) — are trained together by Adam on minibatches of calibration
// windows, minimizing the relative MSE of the window's output against the full-precision blocks'
// output on the same input (the calibration windows run through the already-quantized prefix, as
// GPTQ does), plus the KL divergence of the output distributions when the window reaches the last
// block (core/recon/block_grad.h gives the gradients). When a window is done its first block is
// hard-rounded (h ≥ 0.5) and the inputs advance through it; a block's schedule (regularizer warm-up,
// β from 20 to 2, sigmoid sharpness κ from 1 up) spans all the windows it belongs to, so it is soft
// when it enters and hard when it leaves. Before a block enters, coarse-to-fine preprocessing
// (core/analysis/cfp.h) truncates each weight row's |w| outliers to the row's fence and scales the
// outlier channels of the block's normed inputs (per-channel max |x| on the calibration inputs) down
// to the fence, with the inverse scale folded into the norm weights as AWQ folds its scales.
// The result's codes are int-family grids and codes (EncodedTensor, keep_encoded), so a CBQ model
// exports like a GPTQ one; the per-window loss curves are the report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/analysis/cfp.h"
#include "core/jobs/progress.h"
#include "core/model/weights.h"
#include "core/util/expected.h"

namespace lowbit {

struct CbqOptions {
  int64_t window = 2;         // K: blocks optimized together
  int64_t iterations = 20;    // Adam steps per window (kjv-llama-8m: enough to beat GPTQ at 2-4 bits)
  int64_t batch = 4;          // calibration windows per step
  int64_t samples = 0;        // calibration windows used (0: all drawn, at most iterations × batch)
  double lr = 5e-3;           // rounding compensation A, B
  double scale_lr = 1e-3;     // step-size multipliers (s = s₀·m)
  int64_t rank = 0;           // 0: max(4, 5 % of min(rows, cols))
  double lambda = 0.01;       // weight of the rounding regularizer mean(1 − |2h − 1|^β)
  double beta_start = 20, beta_end = 2;
  double warmup = 0.2;        // share of a block's schedule before the regularizer starts
  double kappa_end = 30;      // sigmoid sharpness at the end of a block's schedule (1: fixed, as AdaRound)
  double kl_weight = 1.0;     // weight of the KL term on windows that reach the last block
  bool init_clip = true;      // start from the per-group clip search of RTN --mse (Σ|w − ŵ|^2.4), not min-max
  bool cfp_weights = true;    // truncate weight outliers
  bool cfp_activations = true;  // scale activation outlier channels (folded into the norms)
  CfpOptions cfp;
  uint64_t seed = 0;
  Expected<void> validate() const;
};

struct CbqWindowReport {
  int64_t first_block = 0, blocks = 0;
  std::vector<float> loss;   // per iteration: the minibatch objective (MSE + KL term + λ·regularizer)
  std::vector<float> recon;  // per iteration: its reconstruction part (relative MSE + KL term)
  double mse_start = -1;     // relative output MSE on the probe windows, hard-rounded at the window's start
  double mse_final = -1;     // … hard-rounded after training
  double kl_start = -1, kl_final = -1;  // KL on the probe windows (windows reaching the last block)
  int64_t weight_outliers = 0;        // weights truncated by CFP in the blocks entering this window
  int64_t activation_outlier_channels = 0;
  double seconds = 0;
  double prepare_seconds = 0;  // targets, CFP and starting grids of the entering blocks
  double train_seconds = 0;    // the Adam steps
};

struct CbqReport {
  std::vector<CbqWindowReport> windows;
  int64_t window = 0, iterations = 0, batch = 0, samples = 0;
};

struct QuantizeOptions;
struct QuantizeResult;

// The checks quantize_model's options need for method cbq (int formats only; calibration).
Expected<void> validate_cbq(const QuantizeOptions& options);

// Quantizes the linear layers of every decoder block (the model's norms change where CFP folds
// activation scales). `calib_tokens`: windows from draw_windows (options.calib.ctx tokens each).
// Progress per step with the window's stage; cancel is polled every step.
Expected<QuantizeResult> cbq_quantize_model(ModelWeights& m, const QuantizeOptions& options,
                                            const std::vector<int32_t>& calib_tokens, Progress* progress = nullptr,
                                            const CancelToken* cancel = nullptr);

}  // namespace lowbit
