#include "core/export/export_layout.h"

#include "core/eval/compare.h"
#include "core/export/gptq_checkpoint.h"

namespace lowbit {

const char* export_target_name(ExportTarget t) { return t == ExportTarget::Gguf ? "gguf" : "gptq"; }

std::optional<ExportTarget> export_target_from_name(const std::string& name) {
  if (name == "gguf") return ExportTarget::Gguf;
  if (name == "gptq") return ExportTarget::Gptq;
  return std::nullopt;
}

Expected<LayoutExportReport> export_layout(const Model& source, const ModelWeights& weights, const Layout& layout,
                                           const std::filesystem::path& out, std::span<const int32_t> calib_windows,
                                           const LayoutExportOptions& options, Progress* progress, const CancelToken* cancel) {
  LB_TRY_VOID(check_not_source(source.checkpoint->path(), out));
  LB_TRY_VOID(layout.validate(weights));
  ModelWeights w = weights;
  QuantizeOptions qo = layout.options(w);
  qo.keep_encoded = true;
  qo.fp16_scales = options.to == ExportTarget::Gptq;
  qo.calib = options.calib;
  LB_TRY_VOID(qo.validate());
  if (qo.method != QuantMethod::Rtn && calib_windows.empty())
    return make_error(ErrorCode::InvalidArgument,
                      std::string("export: the layout's method ") + quant_method_name(qo.method) + " needs calibration windows");
  Progress none;
  Progress& p = progress ? *progress : none;
  Progress qp = p.sub(0.0, 0.8);
  const std::vector<int32_t> windows(calib_windows.begin(), calib_windows.end());
  LB_TRY_ASSIGN(QuantizeResult q, quantize_model(w, qo, windows, &qp, cancel));
  LayoutExportReport r;
  r.to = options.to;
  r.quantize_seconds = q.seconds;
  r.warnings = q.warnings;
  Progress xp = p.sub(0.8, 1.0);
  if (options.to == ExportTarget::Gguf) {
    GgufExportOptions go;
    go.name = options.name;
    LB_TRY_ASSIGN(GgufExportReport x, export_gguf(source, w, q.encoded, out, go, &xp, cancel));
    r.path = x.path;
    r.bytes = x.bytes;
    r.tensors = x.tensors;
    r.write_seconds = x.seconds;
    r.warnings.insert(r.warnings.end(), x.warnings.begin(), x.warnings.end());
  } else {
    LB_TRY_ASSIGN(GptqExportReport x, export_gptq(source, w, q.encoded, out, &xp, cancel));
    r.path = x.path;
    r.bytes = x.bytes;
    r.tensors = x.tensors;
    r.write_seconds = x.seconds;
    r.warnings.insert(r.warnings.end(), x.warnings.begin(), x.warnings.end());
  }
  r.bits_per_weight = 8.0 * static_cast<double>(r.bytes) / static_cast<double>(std::max<int64_t>(1, checkpoint_parameters(source)));
  q.encoded.clear();
  r.quantized = std::move(q);
  return r;
}

}  // namespace lowbit
