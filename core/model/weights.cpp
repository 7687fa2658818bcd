#include "core/model/weights.h"

#include <cstring>

namespace lowbit {
namespace {

// One checkpoint tensor and where its values go.
struct Slot {
  std::string name;
  std::vector<int64_t> shape;  // as stored in the checkpoint
  bool optional = false;
  std::function<void(std::span<const float>)> assign;
};

void copy_vector(VectorF& dst, std::span<const float> v) {
  dst = Eigen::Map<const VectorF>(v.data(), static_cast<Eigen::Index>(v.size()));
}

// Rows [row0, row0 + rows) of a [*, cols] row-major tensor.
void copy_rows(MatrixRM& dst, std::span<const float> v, int64_t row0, int64_t rows, int64_t cols) {
  dst = ConstMatrixRMMap(v.data() + row0 * cols, rows, cols);
}

// Columns [col0, col0 + cols_out) of a stored [in, total] Conv1D tensor, transposed to [cols_out, in].
void copy_conv1d(MatrixRM& dst, std::span<const float> v, int64_t in, int64_t total, int64_t col0, int64_t cols_out) {
  dst = ConstMatrixRMMap(v.data(), in, total).middleCols(col0, cols_out).transpose();
}

std::vector<Slot> make_slots(ModelWeights& m, bool gguf) {
  const ModelConfig& c = m.config;
  const int64_t H = c.hidden, hd = c.head_dim, nq = c.n_heads * hd, nkv = c.n_kv_heads * hd, F = c.ffn;
  std::vector<Slot> s;
  s.push_back({m.names.tok_embd, {c.vocab, H}, false, [&m, c](auto v) { copy_rows(m.tok_embd, v, 0, c.vocab, c.hidden); }});
  if (!m.names.pos_embd.empty())
    s.push_back({m.names.pos_embd, {c.max_positions, H}, false,
                 [&m, c](auto v) { copy_rows(m.pos_embd, v, 0, c.max_positions, c.hidden); }});
  s.push_back({m.names.final_norm, {H}, false, [&m](auto v) { copy_vector(m.final_norm, v); }});
  if (c.norm == NormKind::Layer)
    s.push_back({bias_name(m.names.final_norm), {H}, false, [&m](auto v) { copy_vector(m.final_norm_b, v); }});
  if (!m.names.lm_head.empty())
    s.push_back({m.names.lm_head, {c.vocab, H}, false, [&m, c](auto v) { copy_rows(m.lm_head, v, 0, c.vocab, c.hidden); }});

  for (size_t i = 0; i < m.names.blocks.size(); ++i) {
    const BlockTensorNames& n = m.names.blocks[i];
    DecoderBlock& b = m.blocks[i];
    auto vec = [&](const std::string& name, int64_t len, VectorF& dst) {
      s.push_back({name, {len}, false, [&dst](auto v) { copy_vector(dst, v); }});
    };
    auto linear = [&](const std::string& name, int64_t out, int64_t in, Linear& dst, bool bias) {
      if (c.conv1d_weights) {
        s.push_back({name, {in, out}, false, [&dst, in, out](auto v) { copy_conv1d(dst.w, v, in, out, 0, out); }});
      } else {
        s.push_back({name, {out, in}, false, [&dst, in, out](auto v) { copy_rows(dst.w, v, 0, out, in); }});
      }
      if (bias) s.push_back({bias_name(name), {out}, false, [&dst](auto v) { copy_vector(dst.b, v); }});
    };
    vec(n.attn_norm, H, b.attn_norm);
    vec(n.ffn_norm, H, b.ffn_norm);
    if (c.norm == NormKind::Layer) {
      vec(bias_name(n.attn_norm), H, b.attn_norm_b);
      vec(bias_name(n.ffn_norm), H, b.ffn_norm_b);
    }
    if (!n.qkv.empty()) {
      const int64_t total = nq + 2 * nkv;
      if (c.conv1d_weights) {
        s.push_back({n.qkv, {H, total}, false, [&b, H, total, nq, nkv](auto v) {
                       copy_conv1d(b.q.w, v, H, total, 0, nq);
                       copy_conv1d(b.k.w, v, H, total, nq, nkv);
                       copy_conv1d(b.v.w, v, H, total, nq + nkv, nkv);
                     }});
      } else {
        s.push_back({n.qkv, {total, H}, false, [&b, H, nq, nkv](auto v) {
                       copy_rows(b.q.w, v, 0, nq, H);
                       copy_rows(b.k.w, v, nq, nkv, H);
                       copy_rows(b.v.w, v, nq + nkv, nkv, H);
                     }});
      }
      if (c.qkv_bias)
        s.push_back({bias_name(n.qkv), {total}, false, [&b, nq, nkv](auto v) {
                       b.q.b = Eigen::Map<const VectorF>(v.data(), nq);
                       b.k.b = Eigen::Map<const VectorF>(v.data() + nq, nkv);
                       b.v.b = Eigen::Map<const VectorF>(v.data() + nq + nkv, nkv);
                     }});
    } else {
      linear(n.q, nq, H, b.q, c.qkv_bias);
      linear(n.k, nkv, H, b.k, c.qkv_bias);
      linear(n.v, nkv, H, b.v, c.qkv_bias);
    }
    linear(n.o, H, nq, b.o, c.arch == Arch::Gpt2);
    if (!n.q_norm.empty()) {
      vec(n.q_norm, hd, b.q_norm);
      vec(n.k_norm, hd, b.k_norm);
    }
    if (!n.gate_up.empty()) {
      s.push_back({n.gate_up, {2 * F, H}, false, [&b, F, H](auto v) {
                     copy_rows(b.gate.w, v, 0, F, H);
                     copy_rows(b.up.w, v, F, F, H);
                   }});
    } else {
      if (!n.gate.empty()) linear(n.gate, F, H, b.gate, false);
      linear(n.up, F, H, b.up, c.arch == Arch::Gpt2);
    }
    linear(n.down, H, F, b.down, c.arch == Arch::Gpt2);
  }
  (void)gguf;
  return s;
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

}  // namespace

Expected<ModelWeights> load_model(const Checkpoint& ck, const ModelConfig& config, Progress* progress) {
  ModelWeights m;
  m.config = config;
  m.names = tensor_names(config, ck.kind() == Checkpoint::Kind::Gguf);
  m.blocks.resize(static_cast<size_t>(config.n_layers));
  auto slots = make_slots(m, ck.kind() == Checkpoint::Kind::Gguf);
  std::vector<float> buf;
  for (size_t i = 0; i < slots.size(); ++i) {
    const Slot& slot = slots[i];
    const TensorInfo* t = ck.find(slot.name);
    if (!t) {
      if (slot.optional) continue;
      return make_error(ErrorCode::Format, ck.path().string() + ": tensor '" + slot.name + "' is missing (expected " +
                                               shape_str(slot.shape) + " for " + config.model_type + ")");
    }
    if (t->shape != slot.shape)
      return make_error(ErrorCode::Format, t->file + ": tensor '" + slot.name + "' has shape " + t->shape_string() +
                                               ", expected " + shape_str(slot.shape) + " from the model config");
    buf.resize(static_cast<size_t>(t->numel()));
    LB_TRY_VOID(decode_to_f32(*t, buf.data()));
    slot.assign(buf);
    if (progress) progress->report(static_cast<double>(i + 1) / static_cast<double>(slots.size()), "loading " + slot.name);
  }
  return m;
}

Expected<void> set_tensor(ModelWeights& m, const std::string& name, std::span<const float> values) {
  auto slots = make_slots(m, m.names.tok_embd == "token_embd.weight");
  for (const auto& slot : slots) {
    if (slot.name != name) continue;
    int64_t n = 1;
    for (auto d : slot.shape) n *= d;
    if (static_cast<int64_t>(values.size()) != n)
      return make_error(ErrorCode::InvalidArgument, "set_tensor: '" + name + "' needs " + std::to_string(n) + " values, got " +
                                                        std::to_string(values.size()));
    slot.assign(values);
    return {};
  }
  return make_error(ErrorCode::InvalidArgument, "set_tensor: the model has no tensor '" + name + "'");
}

}  // namespace lowbit
