#include "core/model/tensor_names.h"

namespace lowbit {

std::string bias_name(const std::string& weight_name) {
  const std::string suffix = ".weight";
  if (weight_name.size() > suffix.size() && weight_name.ends_with(suffix))
    return weight_name.substr(0, weight_name.size() - suffix.size()) + ".bias";
  return weight_name + ".bias";
}

ModelTensorNames tensor_names(const ModelConfig& c, bool gguf) {
  ModelTensorNames n;
  if (gguf) {
    n.tok_embd = "token_embd.weight";
    n.final_norm = "output_norm.weight";
    n.lm_head = c.tied_embeddings ? "" : "output.weight";
    for (int64_t i = 0; i < c.n_layers; ++i) {
      const std::string p = "blk." + std::to_string(i) + ".";
      BlockTensorNames b;
      b.attn_norm = p + "attn_norm.weight";
      b.ffn_norm = p + "ffn_norm.weight";
      b.q = p + "attn_q.weight";
      b.k = p + "attn_k.weight";
      b.v = p + "attn_v.weight";
      b.o = p + "attn_output.weight";
      b.gate = p + "ffn_gate.weight";
      b.up = p + "ffn_up.weight";
      b.down = p + "ffn_down.weight";
      n.blocks.push_back(b);
    }
    return n;
  }
  if (c.arch == Arch::Gpt2) {
    n.tok_embd = "transformer.wte.weight";
    n.pos_embd = "transformer.wpe.weight";
    n.final_norm = "transformer.ln_f.weight";
    for (int64_t i = 0; i < c.n_layers; ++i) {
      const std::string p = "transformer.h." + std::to_string(i) + ".";
      BlockTensorNames b;
      b.attn_norm = p + "ln_1.weight";
      b.ffn_norm = p + "ln_2.weight";
      b.qkv = p + "attn.c_attn.weight";
      b.o = p + "attn.c_proj.weight";
      b.up = p + "mlp.c_fc.weight";
      b.down = p + "mlp.c_proj.weight";
      n.blocks.push_back(b);
    }
    return n;
  }
  n.tok_embd = "model.embed_tokens.weight";
  n.final_norm = "model.norm.weight";
  n.lm_head = c.tied_embeddings ? "" : "lm_head.weight";
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    BlockTensorNames b;
    b.attn_norm = p + "input_layernorm.weight";
    b.ffn_norm = p + "post_attention_layernorm.weight";
    if (c.fused_qkv) {
      b.qkv = p + "self_attn.qkv_proj.weight";
    } else {
      b.q = p + "self_attn.q_proj.weight";
      b.k = p + "self_attn.k_proj.weight";
      b.v = p + "self_attn.v_proj.weight";
    }
    b.o = p + "self_attn.o_proj.weight";
    if (c.qk_norm) {
      b.q_norm = p + "self_attn.q_norm.weight";
      b.k_norm = p + "self_attn.k_norm.weight";
    }
    if (c.fused_gate_up) {
      b.gate_up = p + "mlp.gate_up_proj.weight";
    } else {
      b.gate = p + "mlp.gate_proj.weight";
      b.up = p + "mlp.up_proj.weight";
    }
    b.down = p + "mlp.down_proj.weight";
    n.blocks.push_back(b);
  }
  return n;
}

std::vector<std::string> block_linear_tensors(const ModelTensorNames& names) {
  std::vector<std::string> out;
  for (const auto& b : names.blocks)
    for (const std::string* s : {&b.q, &b.k, &b.v, &b.qkv, &b.o, &b.gate, &b.up, &b.gate_up, &b.down})
      if (!s->empty()) out.push_back(*s);
  return out;
}

}  // namespace lowbit
