#include "core/export/onebit_checkpoint.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "core/export/checkpoint_folder.h"
#include "core/io/onebit_format.h"
#include "core/io/safetensors_writer.h"
#include "core/tensor/half.h"

namespace lowbit {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
using ojson = nlohmann::ordered_json;

template <class T>
std::span<const uint8_t> as_bytes(const std::vector<T>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)};
}

std::vector<uint16_t> to_f16(const std::vector<float>& v) {
  std::vector<uint16_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = f32_to_f16(v[i]);
  return out;
}

// A plain tensor in `dtype` (F32, F16 or BF16); `rounded` tells whether a value changed.
std::vector<uint8_t> encode_plain(const std::vector<float>& v, DType dtype, bool& rounded) {
  rounded = false;
  if (dtype == DType::F32) return {reinterpret_cast<const uint8_t*>(v.data()), reinterpret_cast<const uint8_t*>(v.data() + v.size())};
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    h[i] = dtype == DType::F16 ? f32_to_f16(v[i]) : f32_to_bf16(v[i]);
    const float back = dtype == DType::F16 ? f16_to_f32(h[i]) : bf16_to_f32(h[i]);
    rounded = rounded || (back != v[i] && !(std::isnan(back) && std::isnan(v[i])));
  }
  const auto b = as_bytes(h);
  return {b.begin(), b.end()};
}

}  // namespace

Expected<OneBitExportReport> export_onebit(const Model& source, const ModelWeights& weights,
                                           const std::map<std::string, OneBitLayer>& layers, const fs::path& out_dir,
                                           Progress* progress, const CancelToken* cancel) {
  const auto t0 = Clock::now();
  if (layers.empty()) return make_error(ErrorCode::InvalidArgument, "onebit export: no 1-bit layers (quantize with --method onebit first)");
  LB_TRY_ASSIGN(FolderExport folder,
                FolderExport::begin(source, out_dir, "onebit", [](const nlohmann::json& j) { return is_onebit_config(j); }));
  const Checkpoint& ck = *source.checkpoint;

  // Every layer must be a block linear tensor of this model whose in-memory weight is its Ŵ exactly.
  const bool conv1d = weights.config.conv1d_weights;
  const auto tensors = checkpoint_tensors(weights);
  std::set<std::string> linears;
  for (const auto& n : block_linear_tensors(weights.names)) linears.insert(n);
  for (const auto& [name, l] : layers) {
    if (!linears.count(name))
      return make_error(ErrorCode::InvalidArgument, "onebit export: '" + name + "' is not a linear layer of a decoder block of this model");
    const std::string& tensor_name = name;  // clang 14 cannot capture a structured binding
    auto it = std::find_if(tensors.begin(), tensors.end(), [&](const CheckpointTensor& t) { return t.name == tensor_name; });
    const std::vector<int64_t> expect = conv1d ? std::vector<int64_t>{l.cols, l.rows} : std::vector<int64_t>{l.rows, l.cols};
    if (it == tensors.end() || it->shape != expect || l.signs.size() != static_cast<size_t>(l.rows * onebit_row_bytes(l.cols)) ||
        l.g.size() != static_cast<size_t>(l.cols) || l.h.size() != static_cast<size_t>(l.rows))
      return make_error(ErrorCode::InvalidArgument, "onebit export: the 1-bit layer '" + name + "' (" + std::to_string(l.rows) + " × " +
                                                        std::to_string(l.cols) + ") does not match the model's tensor");
    LB_TRY_ASSIGN(const std::vector<float> w, get_tensor(weights, name));
    std::vector<float> d(w.size());
    onebit_dequantize(l.signs.data(), l.g.data(), l.h.data(), l.rows, l.cols, d.data(), conv1d);
    if (std::memcmp(d.data(), w.data(), w.size() * sizeof(float)) != 0)
      return make_error(ErrorCode::InvalidArgument, "onebit export: the weights of '" + name + "' are not its 1-bit layer's Ŵ (changed after quantization?)");
  }
  // The dtype each plain tensor had in the source (F32 for anything not a plain float type).
  auto source_dtype = [&](const std::string& name) {
    const TensorInfo* t = ck.find(name);
    return t && (t->dtype == DType::F16 || t->dtype == DType::BF16) ? t->dtype : DType::F32;
  };

  LB_TRY_ASSIGN(ojson config, folder.source_config());
  config["quantization_config"] = {{"quant_method", kOneBitQuantMethod}, {"version", kOneBitVersion}};

  std::vector<SafetensorsDecl> decls;
  for (const auto& t : tensors) {
    auto it = layers.find(t.name);
    if (it == layers.end()) {
      decls.push_back({t.name, source_dtype(t.name), t.shape});
      continue;
    }
    const OneBitLayer& l = it->second;
    decls.push_back({t.name + kOneBitSignsSuffix, DType::U8, {l.rows, onebit_row_bytes(l.cols)}});
    decls.push_back({t.name + kOneBitGSuffix, DType::F16, {l.cols}});
    decls.push_back({t.name + kOneBitHSuffix, DType::F16, {l.rows}});
  }

  OneBitExportReport rep;
  rep.path = out_dir;
  rep.tensors = static_cast<int64_t>(decls.size());
  LB_TRY_ASSIGN(SafetensorsWriter writer, SafetensorsWriter::create(folder.temp() / "model.safetensors", std::move(decls),
                                                                    {{"format", "pt"}, {"quantizer", "lowbit-studio"}}));
  int64_t rounded_tensors = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "onebit export cancelled");
    const auto& t = tensors[i];
    if (auto it = layers.find(t.name); it != layers.end()) {
      const OneBitLayer& l = it->second;
      LB_TRY_VOID(writer.write(t.name + kOneBitSignsSuffix, std::span<const uint8_t>(l.signs)));
      LB_TRY_VOID(writer.write(t.name + kOneBitGSuffix, as_bytes(to_f16(l.g))));
      LB_TRY_VOID(writer.write(t.name + kOneBitHSuffix, as_bytes(to_f16(l.h))));
      rep.onebit_layers += 1;
      rep.onebit_weights += l.rows * l.cols;
      rep.onebit_bytes += l.signs.size() + 2 * (l.g.size() + l.h.size());
    } else {
      LB_TRY_ASSIGN(const std::vector<float> v, get_tensor(weights, t.name));
      bool rounded = false;
      const std::vector<uint8_t> bytes = encode_plain(v, source_dtype(t.name), rounded);
      rounded_tensors += rounded;
      LB_TRY_VOID(writer.write(t.name, std::span<const uint8_t>(bytes)));
    }
    if (progress) progress->report(static_cast<double>(i + 1) / static_cast<double>(tensors.size()), "writing " + t.name);
  }
  LB_TRY_VOID(writer.finish());
  if (rounded_tensors)
    rep.warnings.push_back(std::to_string(rounded_tensors) + " unquantized tensors differ from the source and were rounded to its dtype");

  LB_TRY_VOID(folder.write_text("config.json", config.dump(2) + "\n"));
  if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "onebit export cancelled");
  LB_TRY_ASSIGN(rep.bytes, folder.finish());
  rep.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return rep;
}

}  // namespace lowbit
