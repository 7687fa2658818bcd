#include "core/plan/layout.h"

#include "core/io/mapped_file.h"

namespace lowbit {

std::optional<std::pair<int64_t, int64_t>> quantizable_shape(const ModelWeights& m, const std::string& tensor) {
  if (tensor == m.names.tok_embd) return std::pair{static_cast<int64_t>(m.tok_embd.rows()), static_cast<int64_t>(m.tok_embd.cols())};
  if (!m.names.lm_head.empty() && tensor == m.names.lm_head)
    return std::pair{static_cast<int64_t>(m.lm_head.rows()), static_cast<int64_t>(m.lm_head.cols())};
  std::optional<std::pair<int64_t, int64_t>> shape;
  for (const LinearRef& r : block_linears(m)) {
    if (r.tensor != tensor) continue;
    const auto [rows, cols] = linear_shape(m.config, r.slot);  // from the config: the blocks may not be loaded
    if (!shape) shape = std::pair<int64_t, int64_t>{0, cols};
    shape->first += rows;
  }
  return shape;
}

Layout Layout::uniform(const ModelWeights& m, const Format& f, QuantMethod method, bool embeddings) {
  Layout l;
  l.method = method;
  for (const LinearRef& r : block_linears(m)) l.tensors[r.tensor] = f;
  if (embeddings) {
    l.tensors[m.names.tok_embd] = f;
    if (!m.names.lm_head.empty()) l.tensors[m.names.lm_head] = f;
  }
  return l;
}

Expected<void> Layout::validate(const ModelWeights& m) const {
  for (const auto& [name, f] : tensors) {
    const auto shape = quantizable_shape(m, name);
    if (!shape) return make_error(ErrorCode::Format, "layout: " + name + " is not a quantizable tensor of this model");
    if (f.kind == Format::Kind::OneBit) return make_error(ErrorCode::Unsupported, "layout: " + name + ": format onebit is not implemented yet");
    if (!f.fits(shape->second))
      return make_error(ErrorCode::Unsupported, "layout: " + name + ": rows of " + std::to_string(shape->second) + " do not fit format " + f.name());
  }
  for (const LinearRef& r : block_linears(m))
    if (!tensors.count(r.tensor)) return make_error(ErrorCode::Format, "layout: no format for " + r.tensor);
  return {};
}

QuantizeOptions Layout::options(const ModelWeights& m) const {
  QuantizeOptions o;
  o.method = method;
  o.per_tensor = tensors;
  for (const LinearRef& r : block_linears(m))
    if (auto it = tensors.find(r.tensor); it != tensors.end()) {
      o.format = it->second;
      break;
    }
  const bool embd = tensors.count(m.names.tok_embd) > 0;
  const bool head = !m.names.lm_head.empty() && tensors.count(m.names.lm_head) > 0;
  o.quantize_embeddings = embd || head;
  // The one of the two the layout leaves out stays as it is (f32 in memory holds every source value).
  if (o.quantize_embeddings && !embd) o.per_tensor[m.names.tok_embd] = Format::float_type(DType::F32);
  if (o.quantize_embeddings && !head && !m.names.lm_head.empty()) o.per_tensor[m.names.lm_head] = Format::float_type(DType::F32);
  return o;
}

nlohmann::json Layout::to_json() const {
  nlohmann::json t = nlohmann::json::object();
  for (const auto& [name, f] : tensors) t[name] = f.name();
  nlohmann::json j = {{"format", "lowbit-layout"}, {"version", 1}, {"model", model}, {"method", quant_method_name(method)}, {"tensors", t}};
  if (!predicted.is_null()) j["predicted"] = predicted;
  return j;
}

Expected<Layout> Layout::from_json(const nlohmann::json& j, const std::string& source) {
  auto bad = [&](const std::string& what) { return make_error(ErrorCode::Format, source + ": " + what); };
  // Not j.value("format", ""): it throws when "format" is there but not a string.
  const auto format = j.is_object() ? j.find("format") : j.end();
  if (format == j.end() || !format->is_string() || format->get_ref<const std::string&>() != "lowbit-layout")
    return bad("not a lowbit layout (\"format\": \"lowbit-layout\" missing)");
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int64_t>() != 1)
    return bad("unsupported layout version (1 is read)");
  Layout l;
  if (j.contains("model") && j["model"].is_string()) l.model = j["model"].get<std::string>();
  const std::string method = j.contains("method") && j["method"].is_string() ? j["method"].get<std::string>() : "rtn";
  const auto m = quant_method_from_name(method);
  if (!m) return bad("unknown method '" + method + "' (rtn, gptq, awq, awq+gptq)");
  l.method = *m;
  if (!j.contains("tensors") || !j["tensors"].is_object()) return bad("\"tensors\" must be an object of tensor name → format");
  for (const auto& [name, v] : j["tensors"].items()) {
    if (!v.is_string()) return bad("the format of " + name + " must be a string");
    const auto f = Format::parse(v.get<std::string>());
    if (!f) return bad(name + ": unknown format '" + v.get<std::string>() + "'");
    l.tensors[name] = *f;
  }
  if (j.contains("predicted")) l.predicted = j["predicted"];
  return l;
}

Expected<Layout> read_layout(const std::filesystem::path& path) {
  LB_TRY_ASSIGN(const std::string text, read_text_file(path));
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error(ErrorCode::Format, path.string() + ": not valid JSON");
  return Layout::from_json(j, path.string());
}

Expected<void> write_layout(const Layout& layout, const std::filesystem::path& path) {
  return write_text_file_atomic(path, layout.to_json().dump(2) + "\n");
}

}  // namespace lowbit
