// The checkpoint tensor names of each architecture's parts, for Hugging Face and GGUF naming.
// A fused tensor (phi3 qkv_proj / gate_up_proj, gpt2 c_attn) appears once, under `qkv` or
// `gate_up`; the separate names are then empty. Bias names are the weight names with ".bias".
#pragma once

#include <string>
#include <vector>

#include "core/model/config.h"

namespace lowbit {

struct BlockTensorNames {
  std::string attn_norm, ffn_norm;   // weights (LayerNorm biases: same stem + ".bias")
  std::string q, k, v, qkv, o;
  std::string q_norm, k_norm;        // qwen3
  std::string gate, up, gate_up, down;
};

struct ModelTensorNames {
  std::string tok_embd, pos_embd, final_norm, lm_head;  // lm_head empty when tied
  std::vector<BlockTensorNames> blocks;
};

ModelTensorNames tensor_names(const ModelConfig& c, bool gguf_naming);
std::string bias_name(const std::string& weight_name);

// The weight tensors of the decoder blocks' linear layers, in execution order: what quantizers quantize.
std::vector<std::string> block_linear_tensors(const ModelTensorNames& names);

}  // namespace lowbit
