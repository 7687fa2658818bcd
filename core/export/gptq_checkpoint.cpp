#include "core/export/gptq_checkpoint.h"

#include <chrono>
#include <cmath>
#include <map>
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
  const EncodedTensor* enc = nullptr;
  ModuleFormat format;
  int64_t in = 0, out = 0, groups = 0;
};

// Validates `encoded` against the model and decides the packed modules.
Expected<std::map<std::string, PackedModule>> plan_modules(const ModelWeights& w, const EncodedTensors& encoded,
                                                           const std::map<std::string, std::vector<int64_t>>& shapes) {
  if (encoded.empty())
    return make_error(ErrorCode::InvalidArgument,
                      "GPTQ export: no quantized tensors (quantize with keep_encoded first)");
  int64_t packable = 0;
  for (const auto& [name, e] : encoded) packable += e.format.kind != Format::Kind::Float;
  if (packable == 0)
    return make_error(ErrorCode::InvalidArgument,
                      "GPTQ export: every tensor of the layout is in a float type; there is nothing to pack");
  std::set<std::string> linears;
  for (const auto& n : block_linear_tensors(w.names)) linears.insert(n);
  if (!w.names.lm_head.empty()) linears.insert(w.names.lm_head);
  const bool conv1d = w.config.conv1d_weights;
  std::map<std::string, PackedModule> mods;
  for (const auto& [name, e] : encoded) {
    // A layer a layout keeps in a float type is stored unquantized (fp16), like one left out.
    if (e.format.kind == Format::Kind::Float) continue;
    if (!linears.count(name)) {
      if (name == w.names.tok_embd)
        return make_error(ErrorCode::Unsupported, "GPTQ export: the token embeddings ('" + name +
                                                      "') cannot be packed in a GPTQ checkpoint; quantize without "
                                                      "--quantize-embeddings, or export GGUF");
      return make_error(ErrorCode::InvalidArgument,
                        "GPTQ export: '" + name + "' is not a linear layer of this " + w.config.model_type + " model");
    }
    if (e.format.kind != Format::Kind::Int)
      return make_error(ErrorCode::Unsupported, "GPTQ export: tensor '" + name + "' is in format " + e.format.name() +
                                                    "; a GPTQ checkpoint holds only the int family (int{b}g{g}{a|s}); "
                                                    "export ggml types as GGUF");
    if (!gptq_bits_supported(e.format.bits))
      return make_error(ErrorCode::Unsupported, "GPTQ export: tensor '" + name + "' has " +
                                                    std::to_string(e.format.bits) + "-bit codes (" + e.format.name() +
                                                    "); the GPTQ format packs 2, 3, 4 or 8 bits");
    const auto& shape = shapes.at(name);
    const std::vector<int64_t> expect =
        conv1d ? std::vector<int64_t>{e.cols, e.rows} : std::vector<int64_t>{e.rows, e.cols};
    if (shape != expect || e.ints.rows != e.rows || e.ints.cols != e.cols ||
        e.ints.codes.size() != static_cast<size_t>(e.rows * e.cols) ||
        e.ints.grids.size() != static_cast<size_t>(e.rows * e.ints.groups()))
      return make_error(ErrorCode::InvalidArgument, "GPTQ export: the codes of '" + name + "' (" +
                                                        std::to_string(e.rows) + " × " + std::to_string(e.cols) +
                                                        ") do not match the model's tensor");
    PackedModule p;
    p.tensor = name;
    p.module =
        name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0 ? name.substr(0, name.size() - 7) : name;
    p.enc = &e;
    p.format = module_format(e.format);
    p.out = e.rows;
    p.in = e.cols;
    p.groups = e.ints.groups();
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

// The packed tensors of one module, as bytes in declaration order (qweight, qzeros, scales, g_idx).
struct PackedBytes {
  std::vector<uint32_t> qweight, qzeros;
  std::vector<uint16_t> scales;
  std::vector<int32_t> g_idx;
  int64_t rounded_scales = 0;  // scales that fp16 does not represent exactly
  int64_t zero_groups = 0;     // asymmetric groups whose zero point is 0
};

PackedBytes pack_module(const PackedModule& m) {
  const IntTensor& t = m.enc->ints;
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

}  // namespace

Expected<GptqExportReport> export_gptq(const Model& source, const ModelWeights& weights, const EncodedTensors& encoded,
                                       const fs::path& out_dir, Progress* progress, const CancelToken* cancel) {
  const auto t0 = Clock::now();
  LB_TRY_ASSIGN(FolderExport folder,
                FolderExport::begin(source, out_dir, "GPTQ", [](const nlohmann::json& j) { return is_gptq_config(j); }));

  // What goes into model.safetensors: every checkpoint tensor of the model, in load order.
  const auto tensors = checkpoint_tensors(weights);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& t : tensors) shapes[t.name] = t.shape;
  LB_TRY_ASSIGN(auto modules, plan_modules(weights, encoded, shapes));

  // The most common module format is the base; the others go into `dynamic`.
  std::map<ModuleFormat, int64_t> counts;
  for (const auto& [name, m] : modules) ++counts[m.format];
  ModuleFormat base = counts.begin()->first;
  for (const auto& [f, n] : counts)
    if (n > counts[base]) base = f;

  GptqExportReport rep;
  rep.path = out_dir;
  ojson dynamic = ojson::object();
  int64_t unquantized = 0;
  std::set<std::string> linears;
  for (const auto& n : block_linear_tensors(weights.names)) linears.insert(n);
  for (const auto& t : tensors) {
    auto it = modules.find(t.name);
    if (it != modules.end()) {
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

  ojson qc = {{"quant_method", "gptq"},
              {"bits", base.bits},
              {"group_size", base.group_size},
              {"desc_act", false},
              {"sym", base.sym},
              {"lm_head", !weights.names.lm_head.empty() && modules.count(weights.names.lm_head) > 0},
              {"checkpoint_format", "gptq"},
              {"pack_dtype", "int32"}};
  if (!dynamic.empty()) qc["dynamic"] = dynamic;
  qc["meta"] = {{"quantizer", {"lowbit-studio"}}};

  // config.json: the source's, in its own key order, with the quantization config.
  LB_TRY_ASSIGN(ojson config, folder.source_config());
  config["quantization_config"] = qc;
  if (config.contains("dtype"))
    config["dtype"] = "float16";
  else
    config["torch_dtype"] = "float16";

  // Declarations, in load order; a packed module takes its weight's place.
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

  const int64_t ndecl = static_cast<int64_t>(decls.size());
  LB_TRY_ASSIGN(SafetensorsWriter writer,
                SafetensorsWriter::create(folder.temp() / "model.safetensors", std::move(decls),
                                          {{"format", "pt"}, {"quantizer", "lowbit-studio"}}));
  int64_t rounded_modules = 0, zero_groups = 0, asym_groups = 0, rounded_tensors = 0, clamped = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "GPTQ export cancelled");
    const auto& t = tensors[i];
    auto it = modules.find(t.name);
    if (it != modules.end()) {
      const PackedModule& m = it->second;
      const PackedBytes p = pack_module(m);
      LB_TRY_VOID(writer.write(m.module + ".qweight", as_bytes(p.qweight)));
      LB_TRY_VOID(writer.write(m.module + ".qzeros", as_bytes(p.qzeros)));
      LB_TRY_VOID(writer.write(m.module + ".scales", as_bytes(p.scales)));
      LB_TRY_VOID(writer.write(m.module + ".g_idx", as_bytes(p.g_idx)));
      if (p.rounded_scales) ++rounded_modules;
      zero_groups += p.zero_groups;
      if (!m.format.sym) asym_groups += m.groups * m.out;
      ++rep.quantized_modules;
    } else {
      LB_TRY_ASSIGN(const std::vector<float> v, get_tensor(weights, t.name));
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
      LB_TRY_VOID(writer.write(t.name, as_bytes(h)));
    }
    if (progress)
      progress->report(static_cast<double>(i + 1) / static_cast<double>(tensors.size()), "writing " + t.name);
  }
  LB_TRY_VOID(writer.finish());

  if (rounded_modules)
    rep.warnings.push_back("scales rounded to fp16; the file differs slightly from the in-memory model (" +
                           std::to_string(rounded_modules) + " of " + std::to_string(rep.quantized_modules) +
                           " layers; quantize with fp16 scales to avoid it)");
  if (zero_groups)
    rep.warnings.push_back(
        std::to_string(zero_groups) + " of " + std::to_string(asym_groups) +
        " asymmetric groups have zero point 0; the GPTQ v1 format stores zero − 1, which GPTQModel "
        "and lowbit restore exactly, but loaders that unpack zeros field by field (AutoGPTQ, exllama, "
        "vLLM) misread those groups");
  if (rounded_tensors)
    rep.warnings.push_back(std::to_string(rounded_tensors) +
                           " unquantized tensors (norms, embeddings, biases) were rounded to fp16");
  if (clamped) rep.warnings.push_back(std::to_string(clamped) + " values beyond fp16's range were clamped to ±65504");

  const std::string qc_text = qc.dump(2) + "\n";
  LB_TRY_VOID(folder.write_text("config.json", config.dump(2) + "\n"));
  LB_TRY_VOID(folder.write_text("quantize_config.json", qc_text));
  if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "GPTQ export cancelled");
  LB_TRY_ASSIGN(rep.bytes, folder.finish());
  rep.tensors = ndecl;
  rep.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return rep;
}

}  // namespace lowbit
