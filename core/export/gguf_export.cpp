#include "core/export/gguf_export.h"

#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "core/export/gguf_vocab.h"
#include "core/io/gguf_writer.h"
#include "core/tensor/half.h"

namespace lowbit {
namespace {

// One tensor of the file: its declaration, the decoder block it belongs to (-1: model-wide) and how
// to produce its bytes when its turn comes.
struct Item {
  GgufTensorDecl decl;
  int64_t block = -1;
  std::function<Expected<std::vector<uint8_t>>()> bytes;
};

std::vector<uint8_t> float_bytes(const float* v, size_t n, DType t) {
  std::vector<uint8_t> out(dtype_bytes(t, n));
  if (t == DType::F32) {
    std::memcpy(out.data(), v, n * sizeof(float));
  } else {
    auto* p = reinterpret_cast<uint16_t*>(out.data());
    for (size_t i = 0; i < n; ++i) p[i] = t == DType::F16 ? f32_to_f16(v[i]) : f32_to_bf16(v[i]);
  }
  return out;
}

// Stacks matrices by rows (fused tensors from their parts).
MatrixRM stack(std::initializer_list<const MatrixRM*> parts) {
  int64_t rows = 0;
  for (const MatrixRM* p : parts) rows += p->rows();
  MatrixRM out(rows, (*parts.begin())->cols());
  int64_t r = 0;
  for (const MatrixRM* p : parts) {
    out.middleRows(r, p->rows()) = *p;
    r += p->rows();
  }
  return out;
}
VectorF stack(std::initializer_list<const VectorF*> parts) {
  int64_t n = 0;
  for (const VectorF* p : parts) n += p->size();
  VectorF out(n);
  int64_t r = 0;
  for (const VectorF* p : parts) {
    out.segment(r, p->size()) = *p;
    r += p->size();
  }
  return out;
}

MatrixRM permute(const MatrixRM& m, const std::vector<int64_t>& order) {
  MatrixRM out(m.rows(), m.cols());
  for (int64_t i = 0; i < m.rows(); ++i) out.row(i) = m.row(order[static_cast<size_t>(i)]);
  return out;
}
VectorF permute(const VectorF& v, const std::vector<int64_t>& order) {
  VectorF out(v.size());
  for (int64_t i = 0; i < v.size(); ++i) out[i] = v[order[static_cast<size_t>(i)]];
  return out;
}

// Declares the file's tensors from the model's shapes and produces their bytes on demand, so the
// blocks of a streaming export need to be in memory only when their tensors are written.
struct Builder {
  Builder(const Model& s, const ModelWeights& weights, const EncodedTensors& e) : source(s), w(weights), encoded(&e) {}
  const Model& source;
  const ModelWeights& w;
  const EncodedTensors* encoded;  // looked up when a tensor is written (a streaming export re-points it)
  const std::map<std::string, Format>* formats = nullptr;  // declared formats (sizing, streaming) instead of encodings
  DType float_type = DType::F16;
  int64_t block = -1;  // the block the next declarations belong to
  std::vector<Item> items;
  std::map<DType, int64_t> weights_by_type;  // over quantizable 2-D tensors, for file_type
  int64_t parameters = 0;

  // A 1-D tensor of `len` values, always f32 (llama.cpp requires f32 norms).
  void vec(const std::string& name, int64_t len, std::function<VectorF()> values) {
    if (len == 0) return;
    parameters += len;
    items.push_back({{name, DType::F32, {len}}, block, [values, len, name]() -> Expected<std::vector<uint8_t>> {
                       const VectorF v = values();
                       if (v.size() != len)
                         return make_error(ErrorCode::InvalidArgument, name + ": " + std::to_string(v.size()) + " values, declared " + std::to_string(len));
                       return float_bytes(v.data(), static_cast<size_t>(v.size()), DType::F32);
                     }});
  }

  // A 2-D tensor: the encoding of `source_name` (declared from `formats`, or from the encodings the
  // quantizer kept), else `values()` in the float type. `order`: llama q/k row reordering (empty: none).
  Expected<void> mat(const std::string& name, const std::string& source_name, std::function<MatrixRM()> values, int64_t rows,
                     int64_t cols, std::vector<int64_t> order = {}) {
    parameters += rows * cols;
    std::optional<Format> format;
    if (formats && !source_name.empty()) {
      if (auto f = formats->find(source_name); f != formats->end()) format = f->second;
    } else if (!source_name.empty()) {
      if (auto it = encoded->find(source_name); it != encoded->end()) format = it->second.format;
    }
    if (format && format->kind != Format::Kind::Ggml && format->kind != Format::Kind::Float)
      return make_error(ErrorCode::Unsupported, source_name + ": format " + format->name() +
                                                    " is not a GGUF type (export the int family with --to gptq)");
    const DType type = format ? format->dtype : float_type;
    weights_by_type[type] += rows * cols;
    const EncodedTensors* const* enc = &encoded;
    const bool coded = format.has_value();
    items.push_back({{name, type, {rows, cols}}, block, [=]() -> Expected<std::vector<uint8_t>> {
                       if (!coded) {
                         MatrixRM m = values();
                         if (!order.empty()) m = permute(m, order);
                         return float_bytes(m.data(), static_cast<size_t>(m.size()), type);
                       }
                       auto it = (*enc)->find(source_name);
                       if (it == (*enc)->end())
                         return make_error(ErrorCode::InvalidArgument, source_name + ": declared as " + std::string(dtype_name(type)) +
                                                                           " but the quantizer produced no codes for it");
                       const EncodedTensor& t = it->second;
                       if (t.format.dtype != type || t.rows != rows || t.cols != cols)
                         return make_error(ErrorCode::InvalidArgument, source_name + ": encoded as " + t.format.name() + " " +
                                                                           std::to_string(t.rows) + "×" + std::to_string(t.cols) + " but declared " +
                                                                           dtype_name(type) + " " + std::to_string(rows) + "×" + std::to_string(cols));
                       return order.empty() ? t.bytes : permute_rows(t, order).bytes;
                     }});
    return {};
  }
};

const char* gguf_arch(Arch a) {
  switch (a) {
    case Arch::Llama:
    case Arch::Mistral: return "llama";
    case Arch::Qwen2: return "qwen2";
    case Arch::Qwen3: return "qwen3";
    case Arch::Phi3: return "phi3";
    case Arch::Gpt2: return "gpt2";
  }
  return "llama";
}

void add_hparams(GgufMetadata& md, const ModelConfig& c, const std::string& name, const std::string& arch) {
  md.set_string("general.architecture", arch);
  md.set_string("general.type", "model");
  md.set_string("general.name", name);
  const std::string a = arch + ".";
  md.set_u32(a + "block_count", static_cast<uint32_t>(c.n_layers));
  md.set_u32(a + "context_length", static_cast<uint32_t>(c.max_positions));
  md.set_u32(a + "embedding_length", static_cast<uint32_t>(c.hidden));
  md.set_u32(a + "feed_forward_length", static_cast<uint32_t>(c.ffn));
  md.set_u32(a + "attention.head_count", static_cast<uint32_t>(c.n_heads));
  if (c.arch == Arch::Gpt2) {
    md.set_f32(a + "attention.layer_norm_epsilon", static_cast<float>(c.norm_eps));
    return;
  }
  md.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(c.n_kv_heads));
  md.set_f32(a + "rope.freq_base", static_cast<float>(c.rope_theta));
  md.set_f32(a + "attention.layer_norm_rms_epsilon", static_cast<float>(c.norm_eps));
  md.set_u32(a + "attention.key_length", static_cast<uint32_t>(c.head_dim));
  md.set_u32(a + "attention.value_length", static_cast<uint32_t>(c.head_dim));
  md.set_u32(a + "vocab_size", static_cast<uint32_t>(c.vocab));
  md.set_u32(a + "rope.dimension_count", static_cast<uint32_t>(c.rotary_dim()));
  if (c.sliding_window > 0 && c.arch == Arch::Phi3) md.set_u32(a + "attention.sliding_window", static_cast<uint32_t>(c.sliding_window));
}

}  // namespace

uint32_t llama_file_type(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q4_1: return 3;
    case DType::Q8_0: return 7;
    case DType::Q5_0: return 8;
    case DType::Q5_1: return 9;
    case DType::Q2_K: return 10;
    case DType::Q3_K: return 12;  // Q3_K_M
    case DType::Q4_K: return 15;  // Q4_K_M
    case DType::Q5_K: return 17;  // Q5_K_M
    case DType::Q6_K: return 18;
    case DType::BF16: return 32;
    default: return 1;
  }
}

std::vector<int64_t> llama_rope_row_order(int64_t heads, int64_t d) {
  std::vector<int64_t> order(static_cast<size_t>(heads * d));
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < d / 2; ++i)
      for (int64_t t = 0; t < 2; ++t) order[static_cast<size_t>(h * d + 2 * i + t)] = h * d + t * d / 2 + i;
  return order;
}

Expected<void> check_not_source(const std::filesystem::path& source, const std::filesystem::path& out) {
  std::error_code ec;
  const auto src = std::filesystem::weakly_canonical(source, ec);
  const auto dst = std::filesystem::weakly_canonical(out, ec);
  if (src == dst || (std::filesystem::is_directory(src) && dst.parent_path() == src && std::filesystem::exists(dst)))
    return make_error(ErrorCode::InvalidArgument, out.string() + ": refusing to overwrite the input checkpoint " + source.string());
  return {};
}

namespace {

// The file's tensors (with how to produce each) and metadata.
struct FilePlan {
  std::unique_ptr<Builder> b;
  GgufMetadata md;
  uint32_t file_type = 0;
  std::vector<std::string> warnings;
};

Expected<FilePlan> plan_file(const Model& source, const ModelWeights& w, const EncodedTensors& encoded,
                             const std::map<std::string, Format>* formats, const GgufExportOptions& options) {
  const ModelConfig& c = w.config;
  FilePlan plan;
  plan.b = std::make_unique<Builder>(source, w, encoded);
  Builder& b = *plan.b;
  b.formats = formats;
  // Tensors no quantizer encoded keep the source's float type, so the file holds exactly the values
  // the in-memory model evaluates (f32 for a quantized GGUF source).
  b.float_type = DType::F32;
  for (const auto& t : source.checkpoint->tensors())
    if (t.name == w.names.tok_embd && (t.dtype == DType::F16 || t.dtype == DType::BF16)) b.float_type = t.dtype;
  const bool reorder = c.arch != Arch::Gpt2 && std::string(gguf_arch(c.arch)) == "llama" && c.rope_style == RopeStyle::Neox;
  const auto q_order = reorder ? llama_rope_row_order(c.n_heads, c.head_dim) : std::vector<int64_t>{};
  const auto k_order = reorder ? llama_rope_row_order(c.n_kv_heads, c.head_dim) : std::vector<int64_t>{};
  const ModelTensorNames& n = w.names;
  const int64_t hd = c.hidden;

  // Shapes and which tensors exist come from the config (as load_model's), never from the blocks'
  // values: a streaming export declares the file before any block is loaded.
  const int64_t nq = c.n_heads * c.head_dim, nkv = c.n_kv_heads * c.head_dim, F = c.ffn;
  const bool layer_norm = c.norm == NormKind::Layer, gpt2 = c.arch == Arch::Gpt2;
  LB_TRY_VOID(b.mat("token_embd.weight", n.tok_embd, [&] { return w.tok_embd; }, w.tok_embd.rows(), w.tok_embd.cols()));
  if (c.learned_positions) LB_TRY_VOID(b.mat("position_embd.weight", "", [&] { return w.pos_embd; }, w.pos_embd.rows(), w.pos_embd.cols()));
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const DecoderBlock& blk = w.blocks[static_cast<size_t>(i)];
    const BlockTensorNames& bn = n.blocks[static_cast<size_t>(i)];
    const std::string p = "blk." + std::to_string(i) + ".";
    b.block = i;
    b.vec(p + "attn_norm.weight", hd, [&blk] { return blk.attn_norm; });
    if (layer_norm) b.vec(p + "attn_norm.bias", hd, [&blk] { return blk.attn_norm_b; });
    if (!bn.qkv.empty()) {
      LB_TRY_VOID(b.mat(p + "attn_qkv.weight", bn.qkv, [&blk] { return stack({&blk.q.w, &blk.k.w, &blk.v.w}); }, nq + 2 * nkv, hd));
      if (c.qkv_bias) b.vec(p + "attn_qkv.bias", nq + 2 * nkv, [&blk] { return stack({&blk.q.b, &blk.k.b, &blk.v.b}); });
    } else {
      LB_TRY_VOID(b.mat(p + "attn_q.weight", bn.q, [&blk] { return blk.q.w; }, nq, hd, q_order));
      if (c.qkv_bias) b.vec(p + "attn_q.bias", nq, [&blk, reorder, q_order] { return reorder ? permute(blk.q.b, q_order) : blk.q.b; });
      LB_TRY_VOID(b.mat(p + "attn_k.weight", bn.k, [&blk] { return blk.k.w; }, nkv, hd, k_order));
      if (c.qkv_bias) b.vec(p + "attn_k.bias", nkv, [&blk, reorder, k_order] { return reorder ? permute(blk.k.b, k_order) : blk.k.b; });
      LB_TRY_VOID(b.mat(p + "attn_v.weight", bn.v, [&blk] { return blk.v.w; }, nkv, hd));
      if (c.qkv_bias) b.vec(p + "attn_v.bias", nkv, [&blk] { return blk.v.b; });
    }
    if (!bn.q_norm.empty()) {
      b.vec(p + "attn_q_norm.weight", c.head_dim, [&blk] { return blk.q_norm; });
      b.vec(p + "attn_k_norm.weight", c.head_dim, [&blk] { return blk.k_norm; });
    }
    LB_TRY_VOID(b.mat(p + "attn_output.weight", bn.o, [&blk] { return blk.o.w; }, hd, nq));
    if (gpt2) b.vec(p + "attn_output.bias", hd, [&blk] { return blk.o.b; });
    b.vec(p + "ffn_norm.weight", hd, [&blk] { return blk.ffn_norm; });
    if (layer_norm) b.vec(p + "ffn_norm.bias", hd, [&blk] { return blk.ffn_norm_b; });
    if (!bn.gate_up.empty()) {
      // llama.cpp's phi3 splits its fused ffn_up as HF does: the first half is the gate.
      LB_TRY_VOID(b.mat(p + "ffn_up.weight", bn.gate_up, [&blk] { return stack({&blk.gate.w, &blk.up.w}); }, 2 * F, hd));
    } else {
      if (!bn.gate.empty()) LB_TRY_VOID(b.mat(p + "ffn_gate.weight", bn.gate, [&blk] { return blk.gate.w; }, F, hd));
      LB_TRY_VOID(b.mat(p + "ffn_up.weight", bn.up, [&blk] { return blk.up.w; }, F, hd));
      if (gpt2) b.vec(p + "ffn_up.bias", F, [&blk] { return blk.up.b; });
    }
    LB_TRY_VOID(b.mat(p + "ffn_down.weight", bn.down, [&blk] { return blk.down.w; }, hd, F));
    if (gpt2) b.vec(p + "ffn_down.bias", hd, [&blk] { return blk.down.b; });
  }
  b.block = -1;
  b.vec("output_norm.weight", hd, [&] { return w.final_norm; });
  if (layer_norm) b.vec("output_norm.bias", hd, [&] { return w.final_norm_b; });
  if (w.lm_head.size()) LB_TRY_VOID(b.mat("output.weight", n.lm_head, [&] { return w.lm_head; }, w.lm_head.rows(), w.lm_head.cols()));

  // Metadata.
  GgufMetadata& md = plan.md;
  std::string name = options.name;
  if (name.empty()) name = source.checkpoint->path().filename().replace_extension().string();
  add_hparams(md, c, name, gguf_arch(c.arch));
  DType main_type = b.float_type;
  int64_t most = -1;
  for (const auto& [t, count] : b.weights_by_type)
    if (count > most) {
      most = count;
      main_type = t;
    }
  plan.file_type = llama_file_type(main_type);
  md.set_u32("general.file_type", plan.file_type);
  md.set_u32("general.quantization_version", 2);
  LB_TRY_ASSIGN(plan.warnings, add_gguf_vocab(md, source));
  return plan;
}

std::vector<GgufTensorDecl> declarations(const Builder& b) {
  std::vector<GgufTensorDecl> decls;
  for (const auto& it : b.items) decls.push_back(it.decl);
  return decls;
}

}  // namespace

Expected<uint64_t> gguf_file_size(const Model& source, const ModelWeights& w, const std::map<std::string, Format>& formats) {
  static const EncodedTensors none;
  LB_TRY_ASSIGN(FilePlan plan, plan_file(source, w, none, &formats, {}));
  return GgufWriter::size_of(plan.md, declarations(*plan.b));
}

struct GgufStream::State {
  std::chrono::steady_clock::time_point t0;
  std::filesystem::path out;
  FilePlan plan;
  std::optional<GgufWriter> writer;
  size_t written = 0;

  Expected<void> write_items(int64_t block, const EncodedTensors& encoded, Progress* progress, const CancelToken* cancel) {
    Builder& b = *plan.b;
    b.encoded = &encoded;
    for (size_t i = 0; i < b.items.size(); ++i) {
      const Item& it = b.items[i];
      if (it.block != block) continue;
      if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "export cancelled; " + out.string() + " was not written");
      LB_TRY_ASSIGN(const std::vector<uint8_t> bytes, it.bytes());
      LB_TRY_VOID(writer->write(it.decl.name, bytes));
      ++written;
      if (progress) progress->report(static_cast<double>(written) / static_cast<double>(b.items.size()), "writing " + it.decl.name);
    }
    return {};
  }
};

GgufStream::GgufStream() = default;
GgufStream::GgufStream(GgufStream&&) noexcept = default;
GgufStream& GgufStream::operator=(GgufStream&&) noexcept = default;
GgufStream::~GgufStream() = default;

Expected<GgufStream> GgufStream::begin(const Model& source, const ModelWeights& w, const std::map<std::string, Format>& formats,
                                       const std::filesystem::path& out, const GgufExportOptions& options) {
  static const EncodedTensors none;
  GgufStream st;
  st.s_ = std::make_unique<State>();
  State& s = *st.s_;
  s.t0 = std::chrono::steady_clock::now();
  s.out = out;
  LB_TRY_VOID(check_not_source(source.checkpoint->path(), out));
  LB_TRY_ASSIGN(s.plan, plan_file(source, w, none, &formats, options));
  s.plan.b->formats = nullptr;  // declared; from now on the codes are looked up as tensors are written
  LB_TRY_ASSIGN(GgufWriter writer, GgufWriter::create(out, s.plan.md, declarations(*s.plan.b)));
  s.writer.emplace(std::move(writer));
  return st;
}

uint64_t GgufStream::file_size() const { return s_->writer->file_size(); }

Expected<void> GgufStream::write_block(int64_t block, const EncodedTensors& encoded) {
  return s_->write_items(block, encoded, nullptr, nullptr);
}

Expected<GgufExportReport> GgufStream::finish(const EncodedTensors& encoded, Progress* progress, const CancelToken* cancel) {
  State& s = *s_;
  LB_TRY_VOID(s.write_items(-1, encoded, progress, cancel));
  GgufExportReport rep;
  LB_TRY_ASSIGN(rep.bytes, s.writer->finish());
  const Builder& b = *s.plan.b;
  rep.path = s.out;
  rep.file_type = s.plan.file_type;
  rep.warnings = s.plan.warnings;
  rep.tensors = static_cast<int64_t>(b.items.size());
  rep.parameters = b.parameters;
  rep.bits_per_weight = b.parameters ? 8.0 * static_cast<double>(rep.bytes) / static_cast<double>(b.parameters) : 0;
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - s.t0).count();
  return rep;
}

Expected<GgufExportReport> export_gguf(const Model& source, const ModelWeights& w, const EncodedTensors& encoded,
                                       const std::filesystem::path& out, const GgufExportOptions& options, Progress* progress,
                                       const CancelToken* cancel) {
  std::map<std::string, Format> formats;
  for (const auto& [name, t] : encoded) formats.emplace(name, t.format);
  LB_TRY_ASSIGN(GgufStream stream, GgufStream::begin(source, w, formats, out, options));
  for (int64_t b = 0; b < w.config.n_layers; ++b) LB_TRY_VOID(stream.s_->write_items(b, encoded, progress, cancel));
  return stream.finish(encoded, progress, cancel);
}

}  // namespace lowbit
