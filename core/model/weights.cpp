#include "core/model/weights.h"

#include <cstring>

#include "core/io/mapped_file.h"

namespace lowbit {
namespace {

// One checkpoint tensor, where its values go (assign) and where they come from (read: the values in
// the checkpoint's own shape and layout, so export writes exactly what the forward pass uses).
struct Slot {
  std::string name;
  std::vector<int64_t> shape;  // as stored in the checkpoint
  bool optional = false;
  std::function<void(std::span<const float>)> assign;
  std::function<void(std::span<float>)> read;
  int64_t block = -1;  // the decoder block it belongs to; -1: embeddings, final norm, head
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

// The inverses: a vector, rows [row0, …) of a [*, cols] tensor, columns [col0, …) of a Conv1D tensor.
void read_vector(const VectorF& src, std::span<float> v) { std::copy(src.data(), src.data() + src.size(), v.begin()); }
void read_rows(const MatrixRM& src, std::span<float> v, int64_t row0, int64_t cols) {
  std::copy(src.data(), src.data() + src.size(), v.begin() + row0 * cols);
}
void read_conv1d(const MatrixRM& src, std::span<float> v, int64_t in, int64_t total, int64_t col0) {
  Eigen::Map<MatrixRM>(v.data(), in, total).middleCols(col0, src.rows()) = src.transpose();
}

std::vector<Slot> make_slots(ModelWeights& m, bool gguf) {
  const ModelConfig& c = m.config;
  const int64_t H = c.hidden, hd = c.head_dim, nq = c.n_heads * hd, nkv = c.n_kv_heads * hd, F = c.ffn;
  std::vector<Slot> s;
  auto matrix = [&](const std::string& name, int64_t rows, MatrixRM& dst) {
    s.push_back({name, {rows, H}, false, [&dst, rows, H](auto v) { copy_rows(dst, v, 0, rows, H); },
                 [&dst, H](auto v) { read_rows(dst, v, 0, H); }});
  };
  auto vec = [&](const std::string& name, int64_t len, VectorF& dst) {
    s.push_back({name, {len}, false, [&dst](auto v) { copy_vector(dst, v); }, [&dst](auto v) { read_vector(dst, v); }});
  };
  matrix(m.names.tok_embd, c.vocab, m.tok_embd);
  if (!m.names.pos_embd.empty()) matrix(m.names.pos_embd, c.max_positions, m.pos_embd);
  vec(m.names.final_norm, H, m.final_norm);
  if (c.norm == NormKind::Layer) vec(bias_name(m.names.final_norm), H, m.final_norm_b);
  if (!m.names.lm_head.empty()) matrix(m.names.lm_head, c.vocab, m.lm_head);

  for (size_t i = 0; i < m.names.blocks.size(); ++i) {
    const BlockTensorNames& n = m.names.blocks[i];
    DecoderBlock& b = m.blocks[i];
    const size_t first = s.size();
    auto linear = [&](const std::string& name, int64_t out, int64_t in, Linear& dst, bool bias) {
      if (c.conv1d_weights) {
        s.push_back({name, {in, out}, false, [&dst, in, out](auto v) { copy_conv1d(dst.w, v, in, out, 0, out); },
                     [&dst, in, out](auto v) { read_conv1d(dst.w, v, in, out, 0); }});
      } else {
        s.push_back({name, {out, in}, false, [&dst, in, out](auto v) { copy_rows(dst.w, v, 0, out, in); },
                     [&dst, in](auto v) { read_rows(dst.w, v, 0, in); }});
      }
      if (bias) vec(bias_name(name), out, dst.b);
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
        s.push_back({n.qkv, {H, total}, false,
                     [&b, H, total, nq, nkv](auto v) {
                       copy_conv1d(b.q.w, v, H, total, 0, nq);
                       copy_conv1d(b.k.w, v, H, total, nq, nkv);
                       copy_conv1d(b.v.w, v, H, total, nq + nkv, nkv);
                     },
                     [&b, H, total, nq, nkv](auto v) {
                       read_conv1d(b.q.w, v, H, total, 0);
                       read_conv1d(b.k.w, v, H, total, nq);
                       read_conv1d(b.v.w, v, H, total, nq + nkv);
                     }});
      } else {
        s.push_back({n.qkv, {total, H}, false,
                     [&b, H, nq, nkv](auto v) {
                       copy_rows(b.q.w, v, 0, nq, H);
                       copy_rows(b.k.w, v, nq, nkv, H);
                       copy_rows(b.v.w, v, nq + nkv, nkv, H);
                     },
                     [&b, H, nq, nkv](auto v) {
                       read_rows(b.q.w, v, 0, H);
                       read_rows(b.k.w, v, nq, H);
                       read_rows(b.v.w, v, nq + nkv, H);
                     }});
      }
      if (c.qkv_bias)
        s.push_back({bias_name(n.qkv), {total}, false,
                     [&b, nq, nkv](auto v) {
                       b.q.b = Eigen::Map<const VectorF>(v.data(), nq);
                       b.k.b = Eigen::Map<const VectorF>(v.data() + nq, nkv);
                       b.v.b = Eigen::Map<const VectorF>(v.data() + nq + nkv, nkv);
                     },
                     [&b, nq, nkv](auto v) {
                       read_vector(b.q.b, v);
                       read_vector(b.k.b, v.subspan(static_cast<size_t>(nq)));
                       read_vector(b.v.b, v.subspan(static_cast<size_t>(nq + nkv)));
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
      s.push_back({n.gate_up, {2 * F, H}, false,
                   [&b, F, H](auto v) {
                     copy_rows(b.gate.w, v, 0, F, H);
                     copy_rows(b.up.w, v, F, F, H);
                   },
                   [&b, F, H](auto v) {
                     read_rows(b.gate.w, v, 0, H);
                     read_rows(b.up.w, v, F, H);
                   }});
    } else {
      if (!n.gate.empty()) linear(n.gate, F, H, b.gate, false);
      linear(n.up, F, H, b.up, c.arch == Arch::Gpt2);
    }
    linear(n.down, H, F, b.down, c.arch == Arch::Gpt2);
    for (size_t k = first; k < s.size(); ++k) s[k].block = static_cast<int64_t>(i);
  }
  (void)gguf;
  return s;
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// Loads the slots of `block` (-1: the model-wide tensors; kAllBlocks: everything). The mapped pages
// of each tensor are dropped once decoded: they stay in the page cache but do not count against the
// process, so streaming a model through memory keeps its resident size to what it holds in fp32.
constexpr int64_t kAllBlocks = -2;
Expected<void> load_slots(const Checkpoint& ck, ModelWeights& m, int64_t block, Progress* progress) {
  auto slots = make_slots(m, ck.kind() == Checkpoint::Kind::Gguf);
  if (block != kAllBlocks) std::erase_if(slots, [block](const Slot& s) { return s.block != block; });
  std::vector<float> buf;
  for (size_t i = 0; i < slots.size(); ++i) {
    const Slot& slot = slots[i];
    const TensorInfo* t = ck.find(slot.name);
    if (!t) {
      if (slot.optional) continue;
      return make_error(ErrorCode::Format, ck.path().string() + ": tensor '" + slot.name + "' is missing (expected " +
                                               shape_str(slot.shape) + " for " + m.config.model_type + ")");
    }
    if (t->shape != slot.shape)
      return make_error(ErrorCode::Format, t->file + ": tensor '" + slot.name + "' has shape " + t->shape_string() +
                                               ", expected " + shape_str(slot.shape) + " from the model config");
    buf.resize(static_cast<size_t>(t->numel()));
    LB_TRY_VOID(decode_to_f32(*t, buf.data()));
    if (t->data) drop_mapped_pages(t->data, t->nbytes);
    slot.assign(buf);
    if (progress) progress->report(static_cast<double>(i + 1) / static_cast<double>(slots.size()), "loading " + slot.name);
  }
  return {};
}

}  // namespace

Expected<ModelWeights> load_model(const Checkpoint& ck, const ModelConfig& config, Progress* progress, bool blocks) {
  ModelWeights m;
  m.config = config;
  m.names = tensor_names(config, ck.kind() == Checkpoint::Kind::Gguf);
  m.blocks.resize(static_cast<size_t>(config.n_layers));
  LB_TRY_VOID(load_slots(ck, m, blocks ? kAllBlocks : -1, progress));
  return m;
}

Expected<void> load_block(const Checkpoint& ck, ModelWeights& m, int64_t block) {
  if (block < 0 || block >= static_cast<int64_t>(m.blocks.size()))
    return make_error(ErrorCode::InvalidArgument, "load_block: the model has no block " + std::to_string(block));
  return load_slots(ck, m, block, nullptr);
}

Expected<void> load_model_wide(const Checkpoint& ck, ModelWeights& m) { return load_slots(ck, m, -1, nullptr); }

void release_model_wide(ModelWeights& m) {
  m.tok_embd = MatrixRM();
  m.lm_head = MatrixRM();
}

void release_block(ModelWeights& m, int64_t block) { m.blocks[static_cast<size_t>(block)] = DecoderBlock{}; }

bool block_loaded(const ModelWeights& m, int64_t block) { return m.blocks[static_cast<size_t>(block)].attn_norm.size() > 0; }

std::vector<CheckpointTensor> checkpoint_tensors(const ModelWeights& m) {
  // make_slots only binds references; reading through them does not change the weights.
  auto slots = make_slots(const_cast<ModelWeights&>(m), m.names.tok_embd == "token_embd.weight");
  std::vector<CheckpointTensor> out;
  for (const auto& slot : slots) out.push_back({slot.name, slot.shape, slot.block});
  return out;
}

Expected<std::vector<float>> get_tensor(const ModelWeights& m, const std::string& name) {
  auto slots = make_slots(const_cast<ModelWeights&>(m), m.names.tok_embd == "token_embd.weight");
  for (const auto& slot : slots) {
    if (slot.name != name) continue;
    int64_t n = 1;
    for (auto d : slot.shape) n *= d;
    std::vector<float> values(static_cast<size_t>(n));
    slot.read(values);
    return values;
  }
  return make_error(ErrorCode::InvalidArgument, "get_tensor: the model has no tensor '" + name + "'");
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
