// ModelConfig: one decoder description for every supported architecture (llama, mistral, qwen2,
// qwen3, phi3, gpt2), read from a Hugging Face config.json or from GGUF metadata (llama, qwen2).
// The forward pass, calibration and export read only this struct and the tensor names of
// core/model/tensor_names.h, never the raw config, so a new architecture is one parser branch.
#pragma once

#include <cstdint>
#include <string>

#include "core/io/checkpoint.h"
#include "core/util/expected.h"

namespace lowbit {

enum class Arch { Llama, Mistral, Qwen2, Qwen3, Phi3, Gpt2 };
enum class NormKind { Rms, Layer };
enum class Activation { Silu, GeluTanh };
// Which elements RoPE rotates together: Hugging Face's rotate_half pairs (i, i + d/2) ("neox"),
// or adjacent pairs (2i, 2i + 1) as llama.cpp's llama architecture stores q/k after its converter
// reordered the rows.
enum class RopeStyle { Neox, Interleaved };

const char* arch_name(Arch a);

struct ModelConfig {
  Arch arch = Arch::Llama;
  std::string model_type;      // as the checkpoint names it
  int64_t hidden = 0;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t ffn = 0;             // intermediate size
  int64_t vocab = 0;
  int64_t max_positions = 0;
  double norm_eps = 1e-5;
  double rope_theta = 10000.0;
  double partial_rotary = 1.0; // share of head_dim that RoPE rotates
  RopeStyle rope_style = RopeStyle::Neox;
  NormKind norm = NormKind::Rms;
  Activation act = Activation::Silu;
  bool tied_embeddings = false;
  bool qkv_bias = false;       // biases on q, k, v (qwen2; gpt2 has all biases)
  bool qk_norm = false;        // per-head RMSNorm of q and k (qwen3)
  bool fused_qkv = false;      // one qkv projection (phi3, gpt2)
  bool fused_gate_up = false;  // one gate_up projection (phi3)
  bool learned_positions = false;  // gpt2
  bool conv1d_weights = false;     // gpt2 stores linear weights as [in, out]
  int64_t sliding_window = 0;      // 0 = full attention
  std::optional<int32_t> bos_id, eos_id;

  int64_t rotary_dim() const { return static_cast<int64_t>(static_cast<double>(head_dim) * partial_rotary) / 2 * 2; }
  Expected<void> validate() const;
};

// From a Hugging Face config.json (checkpoint.config()) or GGUF metadata (checkpoint.gguf()).
Expected<ModelConfig> read_model_config(const Checkpoint& ck);

}  // namespace lowbit
