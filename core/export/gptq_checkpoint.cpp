#include "core/export/gptq_checkpoint.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

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

// Files of the source folder a GPTQ folder needs beside the weights (tokenizer, generation settings).
constexpr const char* kCopiedFiles[] = {"tokenizer.json",
                                        "tokenizer_config.json",
                                        "special_tokens_map.json",
                                        "generation_config.json",
                                        "tokenizer.model",
                                        "vocab.json",
                                        "merges.txt",
                                        "added_tokens.json"};

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// Whether `inner` is `outer` or lies inside it (both canonical).
bool within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin(), o = outer.begin();
  for (; o != outer.end(); ++o, ++i)
    if (i == inner.end() || *i != *o) return false;
  return true;
}

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

// A temporary sibling folder, removed unless released.
class TempFolder {
 public:
  explicit TempFolder(fs::path p) : path_(std::move(p)) {}
  ~TempFolder() {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const fs::path& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  fs::path path_;
};

Expected<void> write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return make_error(ErrorCode::Io, p.string() + ": cannot be written");
  return {};
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

// Puts the finished temporary folder at `out`; an earlier GPTQ folder there is replaced.
Expected<void> move_into_place(const fs::path& temp, const fs::path& out) {
  std::error_code ec;
  if (present(out)) {
    fs::path old = out;
    old += ".lowbit-old-" + std::to_string(::getpid());
    fs::rename(out, old, ec);
    if (ec)
      return make_error(ErrorCode::Io, out.string() + ": the earlier export cannot be moved aside: " + ec.message());
    fs::rename(temp, out, ec);
    if (ec) {
      std::error_code ec2;
      fs::rename(old, out, ec2);
      return make_error(ErrorCode::Io, out.string() + ": cannot be replaced: " + ec.message());
    }
    fs::remove_all(old, ec);
    return {};
  }
  fs::rename(temp, out, ec);
  if (ec) return make_error(ErrorCode::Io, out.string() + ": the export cannot be moved into place: " + ec.message());
  return {};
}

// Whether an existing target may be replaced: an empty folder, or a GPTQ checkpoint folder.
Expected<void> check_target(const fs::path& out, const fs::path& out_canon, const fs::path& src_canon) {
  if (out_canon == src_canon || within(src_canon, out_canon))
    return make_error(ErrorCode::InvalidArgument, out.string() +
                                                      ": is the source checkpoint's folder (or holds it); "
                                                      "the export would overwrite its input");
  if (!present(out)) return {};
  std::error_code ec;
  if (!fs::is_directory(out, ec))
    return make_error(ErrorCode::InvalidArgument, out.string() + ": exists and is not a folder");
  if (fs::is_empty(out, ec)) return {};
  auto text = read_text_file(out / "config.json");
  if (text) {
    const auto j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_discarded() && is_gptq_config(j)) return {};
  }
  return make_error(ErrorCode::InvalidArgument,
                    out.string() + ": exists and is not a GPTQ checkpoint folder; choose an empty or new folder");
}

}  // namespace

Expected<GptqExportReport> export_gptq(const Model& source, const ModelWeights& weights, const EncodedTensors& encoded,
                                       const fs::path& out_dir, Progress* progress, const CancelToken* cancel) {
  const auto t0 = Clock::now();
  if (!source.checkpoint) return make_error(ErrorCode::InvalidArgument, "GPTQ export: no source checkpoint");
  const Checkpoint& ck = *source.checkpoint;
  if (ck.kind() == Checkpoint::Kind::Gguf)
    return make_error(ErrorCode::Unsupported, "GPTQ export: " + ck.path().string() +
                                                  " is a GGUF file; a GPTQ checkpoint needs a Hugging Face source "
                                                  "(config.json and its tensor names)");
  const fs::path src_dir = ck.kind() == Checkpoint::Kind::HfFolder ? ck.path() : ck.path().parent_path();
  const fs::path src_config = (src_dir.empty() ? fs::path(".") : src_dir) / "config.json";
  if (!present(src_config))
    return make_error(ErrorCode::Unsupported, "GPTQ export: " + ck.path().string() + " has no config.json beside it");
  if (out_dir.empty()) return make_error(ErrorCode::InvalidArgument, "GPTQ export: no output folder given");

  std::error_code ec;
  const fs::path src_canon = fs::weakly_canonical(src_dir.empty() ? fs::path(".") : src_dir, ec);
  fs::path out_canon = fs::weakly_canonical(fs::absolute(out_dir, ec), ec);
  if (ec) return make_error(ErrorCode::Io, out_dir.string() + ": cannot resolve the path: " + ec.message());
  if (out_canon.filename().empty()) out_canon = out_canon.parent_path();  // a trailing separator
  LB_TRY_VOID(check_target(out_dir, out_canon, src_canon));

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
  LB_TRY_ASSIGN(const std::string config_text, read_text_file(src_config));
  ojson config = ojson::parse(config_text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object())
    return make_error(ErrorCode::Format, src_config.string() + ": not a JSON object");
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

  const fs::path parent = out_canon.parent_path();
  fs::create_directories(parent, ec);
  if (ec) return make_error(ErrorCode::Io, parent.string() + ": cannot create the folder: " + ec.message());
  TempFolder temp(parent / ("." + out_canon.filename().string() + ".lowbit-partial-" + std::to_string(::getpid())));
  fs::remove_all(temp.path(), ec);
  fs::create_directories(temp.path(), ec);
  if (ec) return make_error(ErrorCode::Io, temp.path().string() + ": cannot create the folder: " + ec.message());

  const int64_t ndecl = static_cast<int64_t>(decls.size());
  LB_TRY_ASSIGN(SafetensorsWriter writer,
                SafetensorsWriter::create(temp.path() / "model.safetensors", std::move(decls),
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
  LB_TRY_VOID(write_text(temp.path() / "config.json", config.dump(2) + "\n"));
  LB_TRY_VOID(write_text(temp.path() / "quantize_config.json", qc_text));
  for (const char* f : kCopiedFiles) {
    const fs::path from = (src_dir.empty() ? fs::path(".") : src_dir) / f;
    if (!present(from)) continue;
    fs::copy_file(from, temp.path() / f, fs::copy_options::overwrite_existing, ec);
    if (ec) return make_error(ErrorCode::Io, from.string() + ": cannot be copied into the export: " + ec.message());
    // The copy is the user's to change, even when the source's files are read-only.
    fs::permissions(temp.path() / f, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add, ec);
  }
  if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "GPTQ export cancelled");
  for (auto it = fs::directory_iterator(temp.path(), ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    const auto size = it->file_size(size_ec);
    if (!size_ec) rep.bytes += size;
  }
  LB_TRY_VOID(move_into_place(temp.path(), out_canon));
  temp.release();
  rep.tensors = ndecl;
  rep.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return rep;
}

}  // namespace lowbit
