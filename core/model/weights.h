// ModelWeights: the decoder's parameters in fp32, laid out for the forward pass. Fused checkpoint
// tensors are split on load (phi3 qkv_proj / gate_up_proj, gpt2 c_attn) and gpt2's transposed Conv1D
// weights are turned into [out, in], so every Linear is [outputs, inputs]. set_tensor() replaces one
// checkpoint tensor by new values (e.g. its quantized-then-dequantized form) through the same
// routing, which is how a quantized layout is evaluated.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/io/checkpoint.h"
#include "core/jobs/progress.h"
#include "core/model/config.h"
#include "core/model/tensor_names.h"
#include "core/quant/encoded.h"
#include "core/tensor/eigen_types.h"

namespace lowbit {

struct Linear {
  MatrixRM w;  // [out, in]
  VectorF b;   // empty when the layer has no bias
  bool has_bias() const { return b.size() > 0; }
};

struct DecoderBlock {
  VectorF attn_norm, attn_norm_b, ffn_norm, ffn_norm_b;  // *_b: LayerNorm biases (gpt2)
  VectorF q_norm, k_norm;                                // qwen3 per-head RMSNorm
  Linear q, k, v, o;
  Linear gate, up, down;  // gpt2 has no gate
};

struct ModelWeights {
  ModelConfig config;
  ModelTensorNames names;
  MatrixRM tok_embd;  // [vocab, hidden]
  MatrixRM pos_embd;  // [positions, hidden], gpt2 only
  VectorF final_norm, final_norm_b;
  MatrixRM lm_head;   // [vocab, hidden]; empty when tied to tok_embd
  std::vector<DecoderBlock> blocks;

  const MatrixRM& output() const { return lm_head.size() ? lm_head : tok_embd; }
};

// With `blocks` false only the model-wide tensors (embeddings, final norm, head) are loaded and the
// decoder blocks stay empty: a streaming job loads each block when it needs it (load_block) and frees
// it when it is done with it (release_block), so its memory is one block, not the model.
Expected<ModelWeights> load_model(const Checkpoint& ck, const ModelConfig& config, Progress* progress = nullptr,
                                  bool blocks = true);
Expected<void> load_block(const Checkpoint& ck, ModelWeights& weights, int64_t block);
void release_block(ModelWeights& weights, int64_t block);
// The token embeddings and output head: freed while only the blocks are needed, loaded again after.
void release_model_wide(ModelWeights& weights);
Expected<void> load_model_wide(const Checkpoint& ck, ModelWeights& weights);
bool block_loaded(const ModelWeights& weights, int64_t block);

// What a streaming job does around each decoder block: `load` before the block is first used,
// `done` once it is final (its codes in `encoded`): write it out, then free it. Empty: resident.
struct BlockStream {
  std::function<Expected<void>(int64_t block)> load;
  std::function<Expected<void>(int64_t block, EncodedTensors& encoded)> done;
  explicit operator bool() const { return static_cast<bool>(load); }
};

// Replaces checkpoint tensor `name` (values in the checkpoint's own shape and layout) in `weights`.
Expected<void> set_tensor(ModelWeights& weights, const std::string& name, std::span<const float> values);

// The checkpoint tensors the weights hold (names and shapes as the checkpoint stores them), in load
// order, and one of them read back in that shape and layout (fused tensors stacked again, gpt2's
// Conv1D weights transposed back): what an export writes.
struct CheckpointTensor {
  std::string name;
  std::vector<int64_t> shape;
  int64_t block = -1;  // the decoder block it belongs to; -1: model-wide
};
std::vector<CheckpointTensor> checkpoint_tensors(const ModelWeights& weights);
Expected<std::vector<float>> get_tensor(const ModelWeights& weights, const std::string& name);

}  // namespace lowbit
