// Method onebit of quantize_model (METHODS.md §5): every linear layer of the decoder blocks becomes a
// 1-bit layer (core/quant/onebit.h), initialised by SVID and then distilled from the full-precision
// model block by block, as GPTQ walks the model: block k's student inputs are the calibration
// windows run through the blocks < k already made 1-bit, and only one block's activations and tape
// are held besides the two hidden-state streams. Adam trains h, g and the latent weights whose signs
// give S (straight-through estimator, latent weights clipped to the layer's largest |W|) on the
// block's relative hidden-state MSE against the teacher's hidden state, plus, when asked, the KL
// divergence of the logits on the last block; the reverse-mode engine is core/recon/block_grad.h.
// A checkpoint tensor that fuses several layers (phi3 qkv_proj / gate_up_proj, gpt2 c_attn) is one
// 1-bit layer whose parts share g. Embeddings, output head, norms and biases stay full precision.
// The model is left holding the dense Ŵ of every layer (fp16 values), so the ordinary forward pass,
// perplexity and export see exactly what the onebit checkpoint stores.
#pragma once

#include <cstdint>
#include <vector>

#include "core/quant/quantize_model.h"

namespace lowbit {

// The checks quantize_model's options need for method onebit.
Expected<void> validate_onebit(const QuantizeOptions& options);

// `calib_tokens`: windows from draw_windows (options.calib.ctx tokens each); none needed when
// options.onebit.iterations is 0 (SVID alone). Progress per step with the block's loss; cancel
// is polled every step.
Expected<QuantizeResult> onebit_quantize_model(ModelWeights& m, const QuantizeOptions& options,
                                               const std::vector<int32_t>& calib_tokens, Progress* progress = nullptr,
                                               const CancelToken* cancel = nullptr);

}  // namespace lowbit
