#include "core/eval/compare.h"

#include <chrono>

#include "core/export/gguf_export.h"

namespace lowbit {

Expected<void> CompareOptions::validate() const { return ppl.validate(); }

// {"name", "method", "ppl", "ppl_stderr", "seconds", "file_bytes" (null when unknown),
//  "bits_per_weight" (whole file) or "bits_per_weight_linear", "kld": {"mean", "p99", "top1_agreement"},
//  "predicted_ppl", "warnings"}; the last three only when known.
nlohmann::json compare_row_to_json(const CompareRow& r) {
  nlohmann::json row = {{"name", r.name}, {"method", quant_method_name(r.method)}, {"ppl", r.ppl}, {"ppl_stderr", r.ppl_stderr},
                        {"seconds", r.seconds}};
  row["file_bytes"] = r.file_bytes ? nlohmann::json(*r.file_bytes) : nlohmann::json(nullptr);
  row[r.bits_whole_file ? "bits_per_weight" : "bits_per_weight_linear"] = r.bits_per_weight;
  if (r.kld) row["kld"] = {{"mean", r.kld->mean}, {"p99", r.kld->p99}, {"top1_agreement", r.kld->top1_agreement}};
  if (r.predicted_ppl) row["predicted_ppl"] = *r.predicted_ppl;
  if (!r.backend.empty()) row["backend"] = r.backend;
  if (!r.warnings.empty()) row["warnings"] = r.warnings;
  return row;
}

Expected<CompareRow> compare_row_from_json(const nlohmann::json& j, const std::string& source) {
  auto bad = [&source](const std::string& what) {
    return make_error(ErrorCode::Format, source + ": comparison row: " + what);
  };
  if (!j.is_object()) return bad("not an object");
  CompareRow r;
  if (!j.contains("name") || !j["name"].is_string()) return bad("\"name\" must be a string");
  r.name = j["name"].get<std::string>();
  if (j.contains("method") && !j["method"].is_string()) return bad("\"method\" must be a string in row '" + r.name + "'");
  const auto method = quant_method_from_name(j.value("method", std::string("rtn")));
  if (!method) return bad("unknown method in row '" + r.name + "'");
  r.method = *method;
  for (const char* key : {"ppl", "ppl_stderr", "seconds"})
    if (j.contains(key) && !j[key].is_number()) return bad(std::string("\"") + key + "\" must be a number in row '" + r.name + "'");
  if (!j.contains("ppl")) return bad("row '" + r.name + "' has no \"ppl\"");
  r.ppl = j["ppl"].get<double>();
  r.ppl_stderr = j.value("ppl_stderr", 0.0);
  r.seconds = j.value("seconds", 0.0);
  if (j.contains("file_bytes") && j["file_bytes"].is_number_unsigned()) r.file_bytes = j["file_bytes"].get<uint64_t>();
  if (j.contains("bits_per_weight") && j["bits_per_weight"].is_number()) {
    r.bits_per_weight = j["bits_per_weight"].get<double>();
    r.bits_whole_file = true;
  } else if (j.contains("bits_per_weight_linear") && j["bits_per_weight_linear"].is_number()) {
    r.bits_per_weight = j["bits_per_weight_linear"].get<double>();
  }
  if (j.contains("kld")) {
    const auto& k = j["kld"];
    if (!k.is_object() || !k.value("mean", nlohmann::json()).is_number()) return bad("\"kld\" of row '" + r.name + "' is malformed");
    KldStats s;
    s.mean = k["mean"].get<double>();
    if (k.contains("p99") && k["p99"].is_number()) s.p99 = k["p99"].get<double>();
    if (k.contains("top1_agreement") && k["top1_agreement"].is_number()) s.top1_agreement = k["top1_agreement"].get<double>();
    r.kld = s;
  }
  if (j.contains("predicted_ppl") && j["predicted_ppl"].is_number()) r.predicted_ppl = j["predicted_ppl"].get<double>();
  if (j.contains("backend") && j["backend"].is_string()) r.backend = j["backend"].get<std::string>();
  if (j.contains("warnings") && j["warnings"].is_array())
    for (const auto& w : j["warnings"])
      if (w.is_string()) r.warnings.push_back(w.get<std::string>());
  return r;
}

bool compare_needs_calibration(const std::vector<CompareCandidate>& candidates) {
  for (const auto& c : candidates)
    if (c.layout.method != QuantMethod::Rtn) return true;
  return false;
}

int64_t checkpoint_parameters(const Model& model) {
  int64_t params = 0;
  for (const auto& t : model.checkpoint->tensors()) params += t.numel();
  return params;
}

Expected<std::vector<CompareRow>> compare_layouts(const Model& model, const ModelWeights& original,
                                                  const std::vector<CompareCandidate>& candidates,
                                                  std::span<const int32_t> eval_tokens, std::span<const int32_t> calib_windows,
                                                  const CompareOptions& options, Progress* progress,
                                                  const CancelToken* cancel) {
  LB_TRY_VOID(options.validate());
  if (compare_needs_calibration(candidates) && calib_windows.empty())
    return make_error(ErrorCode::InvalidArgument, "compare: a candidate's method needs calibration windows and none were given");
  Progress none;
  Progress& p = progress ? *progress : none;
  const std::vector<int32_t> windows(calib_windows.begin(), calib_windows.end());
  const double params = static_cast<double>(checkpoint_parameters(model));
  const double n = static_cast<double>(candidates.size());
  std::vector<CompareRow> rows;
  // The reference's backend is made once; each candidate's holds its quantized weights.
  std::string fallback;
  LB_TRY_ASSIGN(std::unique_ptr<ForwardBackend> reference, make_forward(options.forward, original, &fallback));
  for (size_t i = 0; i < candidates.size(); ++i) {
    const CompareCandidate& c = candidates[i];
    const auto t0 = std::chrono::steady_clock::now();
    const double at = static_cast<double>(i);
    ModelWeights w = original;
    QuantizeOptions qo = c.layout.options(w);
    qo.calib = options.calib;
    options.quantize.apply_to(qo);
    if (auto v = qo.validate(); !v) return make_error(v.error().code, c.name + ": " + v.error().message);
    Progress qp = p.sub(at / n, (at + 0.5) / n);
    auto q = quantize_model(w, qo, windows, &qp, cancel);
    if (!q) return make_error(q.error().code, c.name + ": " + q.error().message);
    Progress ep = p.sub((at + 0.5) / n, (at + 1) / n);
    std::string note;
    auto engine = make_forward(options.forward, w, &note);
    if (!engine) return make_error(engine.error().code, c.name + ": " + engine.error().message);
    auto r = evaluate_perplexity(**engine, eval_tokens, options.ppl, &ep, cancel, reference.get());
    if (!r) return make_error(r.error().code, c.name + ": " + r.error().message);
    CompareRow row;
    row.name = c.name;
    row.method = c.layout.method;
    row.ppl = r->ppl;
    row.ppl_stderr = r->ppl_stderr;
    row.kld = r->kld;
    row.warnings = q->warnings;
    row.backend = (*engine)->name();
    for (const std::string* n : {&fallback, &note})
      if (!n->empty()) row.warnings.push_back(*n);
    if (auto size = gguf_file_size(model, original, c.layout.tensors)) {
      row.file_bytes = *size;
      row.bits_per_weight = 8.0 * static_cast<double>(*size) / params;
      row.bits_whole_file = true;
    } else {
      row.bits_per_weight = q->bits_per_weight;
    }
    if (c.layout.predicted.is_object() && c.layout.predicted.contains("ppl") && c.layout.predicted["ppl"].is_number())
      row.predicted_ppl = c.layout.predicted["ppl"].get<double>();
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace lowbit
