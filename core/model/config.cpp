#include "core/model/config.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace lowbit {
namespace {

using nlohmann::json;

const char* kArchNames[] = {"llama", "mistral", "qwen2", "qwen3", "phi3", "gpt2"};

// Reads an integer field, reporting a missing or mistyped one with the file it came from.
struct JsonReader {
  const json& j;
  std::string source;
  std::string error;

  int64_t integer(const char* key, std::optional<int64_t> fallback = std::nullopt) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (!fallback && error.empty()) error = source + ": config has no '" + key + "'";
      return fallback.value_or(0);
    }
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      if (error.empty()) error = source + ": config field '" + key + "' is not a non-negative integer";
      return 0;
    }
    return it->get<int64_t>();
  }
  double number(const char* key, double fallback) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_number()) {
      if (error.empty()) error = source + ": config field '" + key + "' is not a number";
      return fallback;
    }
    return it->get<double>();
  }
  bool boolean(const char* key, bool fallback) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_boolean()) return fallback;
    return it->get<bool>();
  }
  std::optional<int32_t> token(const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int32_t>();
  }
};

// rope_theta and partial_rotary_factor live at top level (transformers ≤ 4) or inside
// rope_parameters (transformers 5); read both, the nested one winning.
void read_rope(const json& j, ModelConfig& c, double default_theta) {
  c.rope_theta = default_theta;
  if (auto it = j.find("rope_theta"); it != j.end() && it->is_number()) c.rope_theta = it->get<double>();
  if (auto it = j.find("partial_rotary_factor"); it != j.end() && it->is_number()) c.partial_rotary = it->get<double>();
  if (auto rp = j.find("rope_parameters"); rp != j.end() && rp->is_object()) {
    if (auto it = rp->find("rope_theta"); it != rp->end() && it->is_number()) c.rope_theta = it->get<double>();
    if (auto it = rp->find("partial_rotary_factor"); it != rp->end() && it->is_number()) c.partial_rotary = it->get<double>();
  }
}

Expected<void> rope_scaling_unsupported(const json& j, const std::string& source) {
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_object()) continue;
    auto t = it->find("rope_type");
    if (t == it->end()) t = it->find("type");
    if (t != it->end() && t->is_string() && t->get<std::string>() != "default")
      return make_error(ErrorCode::Unsupported, source + ": RoPE scaling '" + t->get<std::string>() + "' is not supported yet");
  }
  return {};
}

// ModelConfig::validate() knows no file; its errors are given the file here.
Expected<void> validated(const ModelConfig& c, const std::string& source) {
  if (auto v = c.validate(); !v) return make_error(v.error().code, source + ": " + v.error().message);
  return {};
}

Expected<ModelConfig> from_hf(const json& j, const std::string& source) {
  if (!j.is_object()) return make_error(ErrorCode::Format, source + ": config.json is not an object");
  auto mt = j.find("model_type");
  if (mt == j.end() || !mt->is_string()) return make_error(ErrorCode::Format, source + ": config.json has no 'model_type'");
  ModelConfig c;
  c.model_type = mt->get<std::string>();
  JsonReader r{j, source, {}};

  if (c.model_type == "gpt2") {
    c.arch = Arch::Gpt2;
    c.hidden = r.integer("n_embd");
    c.n_layers = r.integer("n_layer");
    c.n_heads = r.integer("n_head");
    c.n_kv_heads = c.n_heads;
    c.ffn = r.integer("n_inner", 4 * c.hidden);
    c.vocab = r.integer("vocab_size");
    c.max_positions = r.integer("n_positions");
    c.norm_eps = r.number("layer_norm_epsilon", 1e-5);
    c.norm = NormKind::Layer;
    c.act = Activation::GeluTanh;
    c.tied_embeddings = true;
    c.qkv_bias = true;
    c.fused_qkv = true;
    c.learned_positions = true;
    c.conv1d_weights = true;
    if (auto it = j.find("activation_function"); it != j.end() && it->is_string()) {
      const auto a = it->get<std::string>();
      if (a != "gelu_new" && a != "gelu_pytorch_tanh")
        return make_error(ErrorCode::Unsupported, source + ": gpt2 activation '" + a + "' is not supported (gelu_new only)");
    }
    if (r.boolean("scale_attn_by_inverse_layer_idx", false) || r.boolean("reorder_and_upcast_attn", false))
      return make_error(ErrorCode::Unsupported, source + ": gpt2 attention variants (scale_attn_by_inverse_layer_idx, reorder_and_upcast_attn) are not supported");
  } else {
    if (c.model_type == "llama") c.arch = Arch::Llama;
    else if (c.model_type == "mistral") c.arch = Arch::Mistral;
    else if (c.model_type == "qwen2") c.arch = Arch::Qwen2;
    else if (c.model_type == "qwen3") c.arch = Arch::Qwen3;
    else if (c.model_type == "phi3") c.arch = Arch::Phi3;
    else
      return make_error(ErrorCode::Unsupported, source + ": model_type '" + c.model_type +
                                                    "' is not supported (llama, mistral, qwen2, qwen3, phi3, gpt2 are)");
    c.hidden = r.integer("hidden_size");
    c.n_layers = r.integer("num_hidden_layers");
    c.n_heads = r.integer("num_attention_heads");
    c.n_kv_heads = r.integer("num_key_value_heads", c.n_heads);
    c.ffn = r.integer("intermediate_size");
    c.vocab = r.integer("vocab_size");
    c.max_positions = r.integer("max_position_embeddings", 0);
    c.norm_eps = r.number("rms_norm_eps", 1e-6);
    c.tied_embeddings = r.boolean("tie_word_embeddings", false);
    c.head_dim = r.integer("head_dim", c.n_heads > 0 ? c.hidden / c.n_heads : 0);
    read_rope(j, c, c.arch == Arch::Qwen2 || c.arch == Arch::Qwen3 ? 1000000.0 : 10000.0);
    LB_TRY_VOID(rope_scaling_unsupported(j, source));
    if (auto it = j.find("hidden_act"); it != j.end() && it->is_string() && it->get<std::string>() != "silu")
      return make_error(ErrorCode::Unsupported, source + ": hidden_act '" + it->get<std::string>() + "' is not supported (silu only)");
    c.qkv_bias = c.arch == Arch::Qwen2 || r.boolean("attention_bias", false);
    if (r.boolean("mlp_bias", false)) return make_error(ErrorCode::Unsupported, source + ": mlp_bias is not supported");
    c.qk_norm = c.arch == Arch::Qwen3;
    c.fused_qkv = c.fused_gate_up = c.arch == Arch::Phi3;
    if (auto it = j.find("sliding_window"); it != j.end() && it->is_number_integer()) {
      const bool used = c.arch == Arch::Mistral || r.boolean("use_sliding_window", false);
      if (used) c.sliding_window = it->get<int64_t>();
    }
  }
  if (c.arch == Arch::Gpt2) c.head_dim = c.n_heads > 0 ? c.hidden / c.n_heads : 0;
  c.bos_id = r.token("bos_token_id");
  c.eos_id = r.token("eos_token_id");
  if (!r.error.empty()) return make_error(ErrorCode::Format, r.error);
  LB_TRY_VOID(validated(c, source));
  return c;
}

Expected<ModelConfig> from_gguf(const GgufFile& g) {
  const std::string source = g.path();
  const auto arch = g.get_string("general.architecture");
  if (!arch) return make_error(ErrorCode::Format, source + ": GGUF has no general.architecture");
  ModelConfig c;
  c.model_type = *arch;
  if (*arch == "llama") c.arch = Arch::Llama;
  else if (*arch == "qwen2") c.arch = Arch::Qwen2;
  else
    return make_error(ErrorCode::Unsupported, source + ": GGUF architecture '" + *arch + "' is not supported (llama, qwen2 are)");
  const std::string a = *arch + ".";
  auto need = [&](const std::string& key) -> std::optional<int64_t> { return g.get_int(a + key); };
  const auto hidden = need("embedding_length");
  const auto layers = need("block_count");
  const auto heads = need("attention.head_count");
  const auto ffn = need("feed_forward_length");
  if (!hidden || !layers || !heads || !ffn)
    return make_error(ErrorCode::Format, source + ": GGUF lacks one of " + a + "{embedding_length, block_count, attention.head_count, feed_forward_length}");
  c.hidden = *hidden;
  c.n_layers = *layers;
  c.n_heads = *heads;
  c.n_kv_heads = need("attention.head_count_kv").value_or(c.n_heads);
  c.ffn = *ffn;
  c.max_positions = need("context_length").value_or(0);
  c.head_dim = need("attention.key_length").value_or(c.n_heads > 0 ? c.hidden / c.n_heads : 0);
  c.norm_eps = g.get_float(a + "attention.layer_norm_rms_epsilon").value_or(1e-5);
  c.rope_theta = g.get_float(a + "rope.freq_base").value_or(10000.0);
  if (auto rd = need("rope.dimension_count"); rd && c.head_dim > 0) c.partial_rotary = static_cast<double>(*rd) / static_cast<double>(c.head_dim);
  // llama.cpp's converter reorders llama q/k rows so that its normal RoPE rotates adjacent pairs;
  // qwen2 keeps Hugging Face's order and uses NeoX RoPE.
  c.rope_style = c.arch == Arch::Llama ? RopeStyle::Interleaved : RopeStyle::Neox;
  c.qkv_bias = c.arch == Arch::Qwen2;
  const TensorInfo* embd = nullptr;
  for (const auto& t : g.tensors())
    if (t.name == "token_embd.weight") embd = &t;
  if (!embd || embd->shape.size() != 2) return make_error(ErrorCode::Format, source + ": GGUF has no 2-D token_embd.weight");
  c.vocab = embd->shape[0];
  bool has_output = false;
  for (const auto& t : g.tensors()) has_output |= t.name == "output.weight";
  c.tied_embeddings = !has_output;
  if (auto b = g.get_int("tokenizer.ggml.bos_token_id")) c.bos_id = static_cast<int32_t>(*b);
  if (auto e = g.get_int("tokenizer.ggml.eos_token_id")) c.eos_id = static_cast<int32_t>(*e);
  LB_TRY_VOID(validated(c, source));
  return c;
}

}  // namespace

const char* arch_name(Arch a) { return kArchNames[static_cast<int>(a)]; }

Expected<void> ModelConfig::validate() const {
  auto bad = [&](const std::string& what) { return make_error(ErrorCode::Format, std::string("model config: ") + what); };
  for (const auto& [name, v] : {std::pair<const char*, int64_t>{"hidden size", hidden}, {"layer count", n_layers},
                                 {"attention head count", n_heads}, {"vocabulary size", vocab}, {"feed-forward size", ffn}})
    if (v <= 0) return bad(std::string(name) + " must be positive, not " + std::to_string(v));
  if (n_kv_heads <= 0 || n_heads % n_kv_heads != 0) return bad("num_key_value_heads must divide num_attention_heads");
  if (head_dim <= 0 || head_dim % 2 != 0) return bad("head_dim must be positive and even");
  if (partial_rotary <= 0 || partial_rotary > 1) return bad("partial rotary factor must be in (0, 1]");
  if (!(norm_eps > 0) || !std::isfinite(norm_eps)) return bad("the norm epsilon must be a positive number, not " + std::to_string(norm_eps));
  if (!learned_positions && (!(rope_theta > 0) || !std::isfinite(rope_theta)))
    return bad("rope_theta must be a positive number, not " + std::to_string(rope_theta));
  if (sliding_window < 0) return bad("the sliding window must not be negative");
  if (hidden > (1 << 20) || n_layers > 4096 || vocab > (1 << 24) || ffn > (1 << 22) || n_heads > 4096)
    return bad("dimensions are implausibly large");
  return {};
}

Expected<ModelConfig> read_model_config(const Checkpoint& ck) {
  if (ck.gguf()) return from_gguf(*ck.gguf());
  if (ck.config().is_null())
    return make_error(ErrorCode::Format, ck.path().string() + ": no config.json beside the weights, so the architecture is unknown");
  return from_hf(ck.config(), (ck.kind() == Checkpoint::Kind::HfFolder ? ck.path() / "config.json" : ck.path()).string());
}

}  // namespace lowbit
