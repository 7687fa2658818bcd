// The CPU forward pass (fp32, the reference every other backend is tested against). It runs a
// batch of equal-length token windows through the decoder: linear layers as Eigen matrix products
// over all windows' rows at once (multi-threaded through OpenMP), attention in parallel over
// (window, head). Each window starts at position 0 (no KV cache: perplexity and calibration
// evaluate independent windows).
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "core/model/weights.h"

namespace lowbit {

// Called once per window with its logits [T, vocab].
using LogitsSink = std::function<void(int64_t window, const MatrixRM& logits)>;
// Called with the hidden states [B*T, hidden] entering block `layer` (layer == n_layers: the input of
// the final norm). Calibration uses this to capture activations.
using HiddenHook = std::function<void(int64_t layer, const MatrixRM& hidden)>;

struct ForwardOptions {
  HiddenHook on_block_input;  // optional
};

// The inputs a block's linear layers read: q, k and v share one (kQkv), gate and up share one
// (kGateUp). Calibration collects Hessians and activation statistics from these.
enum class LinearInput { kQkv, kO, kGateUp, kDown };
using LinearInputHook = std::function<void(LinearInput which, const MatrixRM& input)>;

// The stages of forward_windows, for block-by-block work (calibration, GPTQ):
// token (and position) embeddings of B windows of T tokens → x [B*T, hidden];
Expected<void> embed_windows(const ModelWeights& m, std::span<const int32_t> tokens, int64_t B, int64_t T, MatrixRM& x);
// one decoder block applied in place to x; `hook` (optional) sees the input of each linear layer;
void block_forward(const ModelConfig& c, const DecoderBlock& b, MatrixRM& x, int64_t B, int64_t T,
                   const LinearInputHook& hook = {});
// the final norm and output head, one window's logits [T, vocab] at a time.
void head_forward(const ModelWeights& m, const MatrixRM& x, int64_t B, int64_t T, const LogitsSink& sink);

// tokens: B windows of T ids each, row-major. Ids must be < vocab (checked: returns an error).
Expected<void> forward_windows(const ModelWeights& m, std::span<const int32_t> tokens, int64_t B, int64_t T,
                               const LogitsSink& sink, const ForwardOptions& options = {});

// The number of threads OpenMP offers (the machine's cores unless OMP_NUM_THREADS says otherwise).
int compute_threads_available();

// Sets the number of threads used by OpenMP and Eigen (<= 0: the machine's cores).
void set_compute_threads(int threads);
int compute_threads();

}  // namespace lowbit
