#include "core/export/gptq_checkpoint.h"

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "core/export/checkpoint_folder.h"
#include "core/io/gptq_format.h"
#include "core/io/mapped_file.h"
#include "core/io/safetensors_writer.h"
#include "core/quant/int_quant.h"
#include "core/tensor/half.h"

namespace lowbit {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
using ojson = nlohmann::ordered_json;

// The settings one packed module is written with.
struct ModuleFormat {
  int bits = 4;
  int64_t group_size = -1;  // -1: per row
  bool sym = false;
  bool operator<(const ModuleFormat& o) const {
    return std::tie(bits, group_size, sym) < std::tie(o.bits, o.group_size, o.sym);
  }
  bool operator==(const ModuleFormat& o) const = default;
};

ModuleFormat module_format(const Format& f) {
  return {f.bits, f.group == 0 ? -1 : f.group, f.symmetric};
}

ojson format_json(const ModuleFormat& m) {
  return {{"bits", m.bits}, {"group_size", m.group_size}, {"sym", m.sym}, {"desc_act", false}};
}

// What the export writes for one quantized linear layer.
struct PackedModule {
  std::string tensor;  // checkpoint tensor name (<module>.weight)
  std::string module;
  Format declared;     // what the quantizer will (streaming) or did produce
  ModuleFormat format;
  int64_t in = 0, out = 0, groups = 0;
};

// Decides the packed modules from the format each tensor is (or will be) quantized to.
Expected<std::map<std::string, PackedModule>> plan_modules(const ModelWeights& w, const std::map<std::string, Format>& formats,
                                                           const std::map<std::string, std::vector<int64_t>>& shapes) {
  if (formats.empty())
    return make_error(ErrorCode::InvalidArgument,
                      "GPTQ export: no quantized tensors (quantize with keep_encoded first)");
  int64_t packable = 0;
  for (const auto& [name, f] : formats) packable += f.kind != Format::Kind::Float;
  if (packable == 0)
    return make_error(ErrorCode::InvalidArgument,
                      "GPTQ export: every tensor of the layout is in a float type; there is nothing to pack");
  std::set<std::string> linears;
  for (const auto& n : block_linear_tensors(w.names)) linears.insert(n);
  if (!w.names.lm_head.empty()) linears.insert(w.names.lm_head);
  const bool conv1d = w.config.conv1d_weights;
  std::map<std::string, PackedModule> mods;
  for (const auto& [name, f] : formats) {
    // A layer a layout keeps in a float type is stored unquantized (fp16), like one left out.
    if (f.kind == Format::Kind::Float) continue;
    if (!linears.count(name)) {
      if (name == w.names.tok_embd)
        return make_error(ErrorCode::Unsupported, "GPTQ export: the token embeddings ('" + name +
                                                      "') cannot be packed in a GPTQ checkpoint; quantize without "
                                                      "--quantize-embeddings, or export GGUF");
      return make_error(ErrorCode::InvalidArgument,
                        "GPTQ export: '" + name + "' is not a linear layer of this " + w.config.model_type + " model");
    }
    if (f.kind != Format::Kind::Int)
      return make_error(ErrorCode::Unsupported, "GPTQ export: tensor '" + name + "' is in format " + f.name() +
                                                    "; a GPTQ checkpoint holds only the int family (int{b}g{g}{a|s}); "
                                                    "export ggml types as GGUF");
    if (!gptq_bits_supported(f.bits))
      return make_error(ErrorCode::Unsupported, "GPTQ export: tensor '" + name + "' has " +
                                                    std::to_string(f.bits) + "-bit codes (" + f.name() +
                                                    "); the GPTQ format packs 2, 3, 4 or 8 bits");
    const auto& shape = shapes.at(name);
    PackedModule p;
    p.tensor = name;
    p.module =
        name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0 ? name.substr(0, name.size() - 7) : name;
    p.declared = f;
    p.format = module_format(f);
    p.out = conv1d ? shape[1] : shape[0];
    p.in = conv1d ? shape[0] : shape[1];
    p.groups = p.in / f.group_size(p.in);
    const int b = p.format.bits;
    if (p.in * b % 32 != 0 || p.out * b % 32 != 0)
      return make_error(ErrorCode::Unsupported, "GPTQ export: tensor '" + name + "' has " + std::to_string(p.in) +
                                                    " inputs and " + std::to_string(p.out) + " outputs; " +
                                                    std::to_string(b) + "-bit GPTQ packing needs both × " +
                                                    std::to_string(b) + " to be a multiple of 32");
    mods.emplace(name, std::move(p));
  }
  return mods;
}

// The codes of module `m` as the quantizer produced them, checked against its declaration.
Expected<const EncodedTensor*> module_codes(const PackedModule& m, const EncodedTensors& encoded) {
  auto it = encoded.find(m.tensor);
  if (it == encoded.end())
    return make_error(ErrorCode::InvalidArgument, "GPTQ export: the quantizer produced no codes for '" + m.tensor + "'");
  const EncodedTensor& e = it->second;
  if (!(e.format == m.declared) || e.rows != m.out || e.cols != m.in || e.ints.rows != e.rows || e.ints.cols != e.cols ||
      e.ints.codes.size() != static_cast<size_t>(e.rows * e.cols) ||
      e.ints.grids.size() != static_cast<size_t>(e.rows * e.ints.groups()))
    return make_error(ErrorCode::InvalidArgument, "GPTQ export: the codes of '" + m.tensor + "' (" + e.format.name() + ", " +
                                                      std::to_string(e.rows) + " × " + std::to_string(e.cols) +
                                                      ") do not match the model's tensor");
  return &e;
}

// The packed tensors of one module, as bytes in declaration order (qweight, qzeros, scales, g_idx).
struct PackedBytes {
  std::vector<uint32_t> qweight, qzeros;
  std::vector<uint16_t> scales;
  std::vector<int32_t> g_idx;
  int64_t rounded_scales = 0;  // scales that fp16 does not represent exactly
  int64_t zero_groups = 0;     // asymmetric groups whose zero point is 0
};

PackedBytes pack_module(const PackedModule& m, const EncodedTensor& e) {
  const IntTensor& t = e.ints;
  const int bits = m.format.bits;
  const int64_t in = m.in, out = m.out, G = m.groups, gs = t.format.group_size(in);
  const int64_t zwords = out * bits / 32;
  PackedBytes p;
  p.qweight.resize(static_cast<size_t>(in * bits / 32 * out));
  for (int64_t o = 0; o < out; ++o) gptq_pack(t.codes.data() + o * in, in, bits, p.qweight.data() + o, out);
  p.scales.resize(static_cast<size_t>(G * out));
  std::vector<uint8_t> zeros(static_cast<size_t>(G * out));
  for (int64_t g = 0; g < G; ++g)
    for (int64_t o = 0; o < out; ++o) {
      const IntGrid& grid = t.grids[static_cast<size_t>(o * G + g)];
      const size_t k = static_cast<size_t>(g * out + o);
      const float s = fp16_grid_scale(grid.scale);
      if (s != grid.scale) ++p.rounded_scales;
      p.scales[k] = f32_to_f16(s);
      zeros[k] = static_cast<uint8_t>(grid.zero);
      if (!m.format.sym && grid.zero == 0) ++p.zero_groups;
    }
  // v1 ("gptq") zeros: zero − 1, by whole words (core/io/gptq_format.h).
  p.qzeros.resize(static_cast<size_t>(G * zwords));
  for (int64_t g = 0; g < G; ++g) {
    uint32_t* row = p.qzeros.data() + g * zwords;
    gptq_pack(zeros.data() + g * out, out, bits, row, 1);
    gptq_zeros_to_v1(row, zwords, bits);
  }
  p.g_idx.resize(static_cast<size_t>(in));
  for (int64_t i = 0; i < in; ++i) p.g_idx[static_cast<size_t>(i)] = static_cast<int32_t>(i / gs);
  return p;
}

template <class T>
std::span<const uint8_t> as_bytes(const std::vector<T>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)};
}

// Declarations, in load order; a packed module takes its weight's place.
std::vector<SafetensorsDecl> declarations(const std::vector<CheckpointTensor>& tensors,
                                          const std::map<std::string, PackedModule>& modules) {
  std::vector<SafetensorsDecl> decls;
  for (const auto& t : tensors) {
    auto it = modules.find(t.name);
    if (it == modules.end()) {
      decls.push_back({t.name, DType::F16, t.shape});
      continue;
    }
    const PackedModule& m = it->second;
    const int b = m.format.bits;
    decls.push_back({m.module + ".qweight", DType::I32, {m.in * b / 32, m.out}});
    decls.push_back({m.module + ".qzeros", DType::I32, {m.groups, m.out * b / 32}});
    decls.push_back({m.module + ".scales", DType::F16, {m.groups, m.out}});
    decls.push_back({m.module + ".g_idx", DType::I32, {m.in}});
  }
  return decls;
}

const std::map<std::string, std::string> kFileMetadata = {{"format", "pt"}, {"quantizer", "lowbit-studio"}};

}  // namespace

Expected<uint64_t> gptq_weights_file_size(const ModelWeights& weights, const std::map<std::string, Format>& formats) {
  const auto tensors = checkpoint_tensors(weights);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& t : tensors) shapes[t.name] = t.shape;
  LB_TRY_ASSIGN(const auto modules, plan_modules(weights, formats, shapes));
  return SafetensorsWriter::size_of(declarations(tensors, modules), kFileMetadata);
}

struct GptqStream::State {
  Clock::time_point t0;
  std::optional<FolderExport> folder;
  std::vector<CheckpointTensor> tensors;  // every checkpoint tensor of the model, in load order
  std::map<std::string, PackedModule> modules;
  std::optional<SafetensorsWriter> writer;
  const ModelWeights* weights = nullptr;
  GptqExportReport rep;
  ojson qc, config;
  int64_t ndecl = 0, written = 0;
  int64_t rounded_modules = 0, zero_groups = 0, asym_groups = 0, rounded_tensors = 0, clamped = 0;

  Expected<void> write_tensor(const CheckpointTensor& t, const EncodedTensors& encoded) {
    auto it = modules.find(t.name);
    if (it != modules.end()) {
      const PackedModule& m = it->second;
      LB_TRY_ASSIGN(const EncodedTensor* e, module_codes(m, encoded));
      const PackedBytes p = pack_module(m, *e);
      LB_TRY_VOID(writer->write(m.module + ".qweight", as_bytes(p.qweight)));
      LB_TRY_VOID(writer->write(m.module + ".qzeros", as_bytes(p.qzeros)));
      LB_TRY_VOID(writer->write(m.module + ".scales", as_bytes(p.scales)));
      LB_TRY_VOID(writer->write(m.module + ".g_idx", as_bytes(p.g_idx)));
      if (p.rounded_scales) ++rounded_modules;
      zero_groups += p.zero_groups;
      if (!m.format.sym) asym_groups += m.groups * m.out;
      ++rep.quantized_modules;
      return {};
    }
    LB_TRY_ASSIGN(const std::vector<float> v, get_tensor(*weights, t.name));
    std::vector<uint16_t> h(v.size());
    bool rounded = false;
    for (size_t k = 0; k < v.size(); ++k) {
      float x = v[k];
      if (std::fabs(x) > 65504.0f && std::isfinite(x)) {
        x = std::copysign(65504.0f, x);
        ++clamped;
      }
      h[k] = f32_to_f16(x);
      rounded = rounded || f16_to_f32(h[k]) != v[k];
    }
    if (rounded) ++rounded_tensors;
    return writer->write(t.name, as_bytes(h));
  }

  Expected<void> write_tensors(int64_t block, const EncodedTensors& encoded, Progress* progress, const CancelToken* cancel) {
    for (const auto& t : tensors) {
      if (t.block != block) continue;
      if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "GPTQ export cancelled");
      LB_TRY_VOID(write_tensor(t, encoded));
      ++written;
      if (progress)
        progress->report(static_cast<double>(written) / static_cast<double>(tensors.size()), "writing " + t.name);
    }
    return {};
  }
};

GptqStream::GptqStream() = default;
GptqStream::GptqStream(GptqStream&&) noexcept = default;
GptqStream& GptqStream::operator=(GptqStream&&) noexcept = default;
GptqStream::~GptqStream() = default;

Expected<GptqStream> GptqStream::begin(const Model& source, const ModelWeights& weights, const std::map<std::string, Format>& formats,
                                       const fs::path& out_dir) {
  GptqStream st;
  st.s_ = std::make_unique<State>();
  State& s = *st.s_;
  s.t0 = Clock::now();
  s.weights = &weights;
  LB_TRY_ASSIGN(FolderExport folder,
                FolderExport::begin(source, out_dir, "GPTQ", [](const nlohmann::json& j) { return is_gptq_config(j); }));
  s.folder.emplace(std::move(folder));

  // What goes into model.safetensors: every checkpoint tensor of the model, in load order.
  s.tensors = checkpoint_tensors(weights);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& t : s.tensors) shapes[t.name] = t.shape;
  LB_TRY_ASSIGN(s.modules, plan_modules(weights, formats, shapes));

  // The most common module format is the base; the others go into `dynamic`.
  std::map<ModuleFormat, int64_t> counts;
  for (const auto& [name, m] : s.modules) ++counts[m.format];
  ModuleFormat base = counts.begin()->first;
  for (const auto& [f, n] : counts)
    if (n > counts[base]) base = f;

  GptqExportReport& rep = s.rep;
  rep.path = out_dir;
  ojson dynamic = ojson::object();
  int64_t unquantized = 0;
  std::set<std::string> linears;
  for (const auto& n : block_linear_tensors(weights.names)) linears.insert(n);
  for (const auto& t : s.tensors) {
    auto it = s.modules.find(t.name);
    if (it != s.modules.end()) {
      if (!(it->second.format == base))
        dynamic[gptq_dynamic_key(it->second.module, true)] = format_json(it->second.format);
    } else if (linears.count(t.name)) {
      const std::string module = t.name.substr(0, t.name.size() - 7);
      dynamic[gptq_dynamic_key(module, false)] = ojson::object();
      ++unquantized;
    }
  }
  if (unquantized)
    rep.warnings.push_back(std::to_string(unquantized) +
                           " linear layers were not quantized; they are stored as fp16 "
                           "weights and excluded through quantization_config.dynamic");

  s.qc = {{"quant_method", "gptq"},
          {"bits", base.bits},
          {"group_size", base.group_size},
          {"desc_act", false},
          {"sym", base.sym},
          {"lm_head", !weights.names.lm_head.empty() && s.modules.count(weights.names.lm_head) > 0},
          {"checkpoint_format", "gptq"},
          {"pack_dtype", "int32"}};
  if (!dynamic.empty()) s.qc["dynamic"] = dynamic;
  s.qc["meta"] = {{"quantizer", {"lowbit-studio"}}};

  // config.json: the source's, in its own key order, with the quantization config.
  LB_TRY_ASSIGN(s.config, s.folder->source_config());
  s.config["quantization_config"] = s.qc;
  if (s.config.contains("dtype"))
    s.config["dtype"] = "float16";
  else
    s.config["torch_dtype"] = "float16";

  std::vector<SafetensorsDecl> decls = declarations(s.tensors, s.modules);
  s.ndecl = static_cast<int64_t>(decls.size());
  LB_TRY_ASSIGN(SafetensorsWriter writer,
                SafetensorsWriter::create(s.folder->temp() / "model.safetensors", std::move(decls), kFileMetadata));
  s.writer.emplace(std::move(writer));
  return st;
}

Expected<void> GptqStream::write_block(int64_t block, const EncodedTensors& encoded) {
  return s_->write_tensors(block, encoded, nullptr, nullptr);
}

Expected<GptqExportReport> GptqStream::finish(const EncodedTensors& encoded, Progress* progress, const CancelToken* cancel) {
  State& s = *s_;
  LB_TRY_VOID(s.write_tensors(-1, encoded, progress, cancel));
  LB_TRY_VOID(s.writer->finish());
  GptqExportReport rep = s.rep;
  if (s.rounded_modules)
    rep.warnings.push_back("scales rounded to fp16; the file differs slightly from the in-memory model (" +
                           std::to_string(s.rounded_modules) + " of " + std::to_string(rep.quantized_modules) +
                           " layers; quantize with fp16 scales to avoid it)");
  if (s.zero_groups)
    rep.warnings.push_back(
        std::to_string(s.zero_groups) + " of " + std::to_string(s.asym_groups) +
        " asymmetric groups have zero point 0; the GPTQ v1 format stores zero − 1, which GPTQModel "
        "and lowbit restore exactly, but loaders that unpack zeros field by field (AutoGPTQ, exllama, "
        "vLLM) misread those groups");
  if (s.rounded_tensors)
    rep.warnings.push_back(std::to_string(s.rounded_tensors) +
                           " unquantized tensors (norms, embeddings, biases) were rounded to fp16");
  if (s.clamped) rep.warnings.push_back(std::to_string(s.clamped) + " values beyond fp16's range were clamped to ±65504");

  const std::string qc_text = s.qc.dump(2) + "\n";
  LB_TRY_VOID(s.folder->write_text("config.json", s.config.dump(2) + "\n"));
  LB_TRY_VOID(s.folder->write_text("quantize_config.json", qc_text));
  if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "GPTQ export cancelled");
  LB_TRY_ASSIGN(rep.bytes, s.folder->finish());
  rep.tensors = s.ndecl;
  rep.seconds = std::chrono::duration<double>(Clock::now() - s.t0).count();
  return rep;
}

Expected<GptqExportReport> export_gptq(const Model& source, const ModelWeights& weights, const EncodedTensors& encoded,
                                       const fs::path& out_dir, Progress* progress, const CancelToken* cancel) {
  std::map<std::string, Format> formats;
  for (const auto& [name, e] : encoded) formats.emplace(name, e.format);
  LB_TRY_ASSIGN(GptqStream stream, GptqStream::begin(source, weights, formats, out_dir));
  for (int64_t b = 0; b < weights.config.n_layers; ++b) LB_TRY_VOID(stream.s_->write_tensors(b, encoded, progress, cancel));
  return stream.finish(encoded, progress, cancel);
}

}  // namespace lowbit
