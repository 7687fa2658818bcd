#include "core/export/gguf_export.h"

#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>

#include "core/export/gguf_vocab.h"
#include "core/io/gguf_writer.h"
#include "core/tensor/half.h"

namespace lowbit {
namespace {

// One tensor of the file: its declaration and how to produce its bytes when its turn comes.
struct Item {
  GgufTensorDecl decl;
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

struct Builder {
  Builder(const Model& s, const ModelWeights& weights, const EncodedTensors& e) : source(s), w(weights), encoded(e) {}
  const Model& source;
  const ModelWeights& w;
  const EncodedTensors& encoded;
  const std::map<std::string, Format>* formats = nullptr;  // sizing a layout: formats instead of encodings
  DType float_type = DType::F16;
  std::vector<Item> items;
  std::map<DType, int64_t> weights_by_type;  // over quantizable 2-D tensors, for file_type
  int64_t parameters = 0;

  // A 1-D tensor, always f32 (llama.cpp requires f32 norms).
  void vec(const std::string& name, VectorF v) {
    if (v.size() == 0) return;
    parameters += v.size();
    auto data = std::make_shared<VectorF>(std::move(v));
    items.push_back({{name, DType::F32, {data->size()}}, [data] { return Expected<std::vector<uint8_t>>(float_bytes(data->data(), static_cast<size_t>(data->size()), DType::F32)); }});
  }

  // A 2-D tensor: the encoding of `source_name` when the quantizer kept one, else `m` in the float type.
  // `order`: llama q/k row reordering (empty: none). `m` is produced lazily by `values`.
  Expected<void> mat(const std::string& name, const std::string& source_name, std::function<MatrixRM()> values, int64_t rows,
                     int64_t cols, std::vector<int64_t> order = {}) {
    parameters += rows * cols;
    if (formats && !source_name.empty()) {
      if (auto f = formats->find(source_name); f != formats->end()) {
        if (f->second.kind != Format::Kind::Ggml && f->second.kind != Format::Kind::Float)
          return make_error(ErrorCode::Unsupported, source_name + ": format " + f->second.name() + " is not a GGUF type");
        weights_by_type[f->second.dtype] += rows * cols;
        items.push_back({{name, f->second.dtype, {rows, cols}}, {}});
        return {};
      }
    }
    auto it = source_name.empty() ? encoded.end() : encoded.find(source_name);
    if (it != encoded.end()) {
      const EncodedTensor& t = it->second;
      if (t.format.kind != Format::Kind::Ggml && t.format.kind != Format::Kind::Float)
        return make_error(ErrorCode::Unsupported, source_name + ": format " + t.format.name() +
                                                      " is not a GGUF type (export the int family with --to gptq)");
      if (t.rows != rows || t.cols != cols)
        return make_error(ErrorCode::InvalidArgument, source_name + ": encoded as " + std::to_string(t.rows) + "×" + std::to_string(t.cols) +
                                                          " but the model has " + std::to_string(rows) + "×" + std::to_string(cols));
      weights_by_type[t.format.dtype] += rows * cols;
      const EncodedTensor* tp = &t;
      items.push_back({{name, t.format.dtype, {rows, cols}}, [tp, order] {
                         return Expected<std::vector<uint8_t>>(order.empty() ? tp->bytes : permute_rows(*tp, order).bytes);
                       }});
      return {};
    }
    weights_by_type[float_type] += rows * cols;
    const DType ft = float_type;
    items.push_back({{name, ft, {rows, cols}}, [values, order, ft] {
                       MatrixRM m = values();
                       if (!order.empty()) m = permute(m, order);
                       return Expected<std::vector<uint8_t>>(float_bytes(m.data(), static_cast<size_t>(m.size()), ft));
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

  LB_TRY_VOID(b.mat("token_embd.weight", n.tok_embd, [&] { return w.tok_embd; }, w.tok_embd.rows(), w.tok_embd.cols()));
  if (c.learned_positions) LB_TRY_VOID(b.mat("position_embd.weight", "", [&] { return w.pos_embd; }, w.pos_embd.rows(), w.pos_embd.cols()));
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const DecoderBlock& blk = w.blocks[static_cast<size_t>(i)];
    const BlockTensorNames& bn = n.blocks[static_cast<size_t>(i)];
    const std::string p = "blk." + std::to_string(i) + ".";
    b.vec(p + "attn_norm.weight", blk.attn_norm);
    b.vec(p + "attn_norm.bias", blk.attn_norm_b);
    if (!bn.qkv.empty()) {
      const int64_t rows = blk.q.w.rows() + blk.k.w.rows() + blk.v.w.rows();
      LB_TRY_VOID(b.mat(p + "attn_qkv.weight", bn.qkv, [&blk] { return stack({&blk.q.w, &blk.k.w, &blk.v.w}); }, rows, hd));
      if (blk.q.has_bias()) b.vec(p + "attn_qkv.bias", stack({&blk.q.b, &blk.k.b, &blk.v.b}));
    } else {
      LB_TRY_VOID(b.mat(p + "attn_q.weight", bn.q, [&blk] { return blk.q.w; }, blk.q.w.rows(), blk.q.w.cols(), q_order));
      if (blk.q.has_bias()) b.vec(p + "attn_q.bias", reorder ? permute(blk.q.b, q_order) : blk.q.b);
      LB_TRY_VOID(b.mat(p + "attn_k.weight", bn.k, [&blk] { return blk.k.w; }, blk.k.w.rows(), blk.k.w.cols(), k_order));
      if (blk.k.has_bias()) b.vec(p + "attn_k.bias", reorder ? permute(blk.k.b, k_order) : blk.k.b);
      LB_TRY_VOID(b.mat(p + "attn_v.weight", bn.v, [&blk] { return blk.v.w; }, blk.v.w.rows(), blk.v.w.cols()));
      if (blk.v.has_bias()) b.vec(p + "attn_v.bias", blk.v.b);
    }
    if (c.qk_norm) {
      b.vec(p + "attn_q_norm.weight", blk.q_norm);
      b.vec(p + "attn_k_norm.weight", blk.k_norm);
    }
    LB_TRY_VOID(b.mat(p + "attn_output.weight", bn.o, [&blk] { return blk.o.w; }, blk.o.w.rows(), blk.o.w.cols()));
    if (blk.o.has_bias()) b.vec(p + "attn_output.bias", blk.o.b);
    b.vec(p + "ffn_norm.weight", blk.ffn_norm);
    b.vec(p + "ffn_norm.bias", blk.ffn_norm_b);
    if (!bn.gate_up.empty()) {
      // llama.cpp's phi3 splits its fused ffn_up as HF does: the first half is the gate.
      LB_TRY_VOID(b.mat(p + "ffn_up.weight", bn.gate_up, [&blk] { return stack({&blk.gate.w, &blk.up.w}); },
                        blk.gate.w.rows() + blk.up.w.rows(), hd));
    } else {
      if (blk.gate.w.size()) LB_TRY_VOID(b.mat(p + "ffn_gate.weight", bn.gate, [&blk] { return blk.gate.w; }, blk.gate.w.rows(), blk.gate.w.cols()));
      LB_TRY_VOID(b.mat(p + "ffn_up.weight", bn.up, [&blk] { return blk.up.w; }, blk.up.w.rows(), blk.up.w.cols()));
      if (blk.up.has_bias()) b.vec(p + "ffn_up.bias", blk.up.b);
    }
    LB_TRY_VOID(b.mat(p + "ffn_down.weight", bn.down, [&blk] { return blk.down.w; }, blk.down.w.rows(), blk.down.w.cols()));
    if (blk.down.has_bias()) b.vec(p + "ffn_down.bias", blk.down.b);
  }
  b.vec("output_norm.weight", w.final_norm);
  b.vec("output_norm.bias", w.final_norm_b);
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

Expected<GgufExportReport> export_gguf(const Model& source, const ModelWeights& w, const EncodedTensors& encoded,
                                       const std::filesystem::path& out, const GgufExportOptions& options, Progress* progress,
                                       const CancelToken* cancel) {
  const auto t0 = std::chrono::steady_clock::now();
  LB_TRY_VOID(check_not_source(source.checkpoint->path(), out));
  LB_TRY_ASSIGN(FilePlan plan, plan_file(source, w, encoded, nullptr, options));
  const Builder& b = *plan.b;
  const GgufMetadata& md = plan.md;
  GgufExportReport rep;
  rep.file_type = plan.file_type;
  rep.warnings = std::move(plan.warnings);
  std::vector<GgufTensorDecl> decls;
  for (const auto& it : b.items) decls.push_back(it.decl);
  LB_TRY_ASSIGN(GgufWriter writer, GgufWriter::create(out, md, std::move(decls)));
  for (size_t i = 0; i < b.items.size(); ++i) {
    if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "export cancelled; " + out.string() + " was not written");
    LB_TRY_ASSIGN(const std::vector<uint8_t> bytes, b.items[i].bytes());
    LB_TRY_VOID(writer.write(b.items[i].decl.name, bytes));
    if (progress) progress->report(static_cast<double>(i + 1) / static_cast<double>(b.items.size()), "writing " + b.items[i].decl.name);
  }
  LB_TRY_ASSIGN(rep.bytes, writer.finish());
  rep.path = out;
  rep.tensors = static_cast<int64_t>(b.items.size());
  rep.parameters = b.parameters;
  rep.bits_per_weight = b.parameters ? 8.0 * static_cast<double>(rep.bytes) / static_cast<double>(b.parameters) : 0;
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace lowbit
