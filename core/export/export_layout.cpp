#include "core/export/export_layout.h"

#include "core/eval/compare.h"
#include "core/export/gptq_checkpoint.h"

#include <optional>

namespace lowbit {

const char* export_target_name(ExportTarget t) { return t == ExportTarget::Gguf ? "gguf" : "gptq"; }

std::optional<ExportTarget> export_target_from_name(const std::string& name) {
  if (name == "gguf") return ExportTarget::Gguf;
  if (name == "gptq") return ExportTarget::Gptq;
  return std::nullopt;
}

bool layout_streams(QuantMethod m) {
  return m == QuantMethod::Rtn || m == QuantMethod::Gptq || m == QuantMethod::Awq || m == QuantMethod::AwqGptq;
}

Expected<QuantizeOptions> layout_quantize_options(const Layout& layout, const ModelWeights& w, const LayoutExportOptions& options,
                                                  std::span<const int32_t> calib_windows) {
  LB_TRY_VOID(layout.validate(w));
  QuantizeOptions qo = layout.options(w);
  qo.keep_encoded = true;
  qo.fp16_scales = options.to == ExportTarget::Gptq;
  qo.calib = options.calib;
  options.backends.apply_to(qo);
  if (!options.resume_dir.empty() && layout_streams(qo.method) && qo.method != QuantMethod::Rtn) {
    qo.resume_dir = options.resume_dir;
    qo.resume_if_same = true;
    qo.run_id = options.run_id;
  }
  LB_TRY_VOID(qo.validate());
  if (qo.method != QuantMethod::Rtn && calib_windows.empty())
    return make_error(ErrorCode::InvalidArgument,
                      std::string("export: the layout's method ") + quant_method_name(qo.method) + " needs calibration windows");
  return qo;
}

namespace {

// Quantizes `w` by `qo` and writes the codes through the target's stream: block by block as each is
// final when `ck` is given (w holds no blocks yet), else every block after the quantization.
Expected<LayoutExportReport> quantize_and_write(const Model& source, ModelWeights& w, QuantizeOptions qo, const Checkpoint* ck,
                                                const std::filesystem::path& out, std::span<const int32_t> calib_windows,
                                                const LayoutExportOptions& options, Progress* progress, const CancelToken* cancel) {
  const auto formats = planned_formats(w, qo);
  std::optional<GgufStream> gguf;
  std::optional<GptqStream> gptq;
  if (options.to == ExportTarget::Gguf) {
    GgufExportOptions go;
    go.name = options.name;
    LB_TRY_ASSIGN(GgufStream st, GgufStream::begin(source, w, formats, out, go));
    gguf.emplace(std::move(st));
  } else {
    LB_TRY_ASSIGN(GptqStream st, GptqStream::begin(source, w, formats, out));
    gptq.emplace(std::move(st));
  }
  auto write = [&](int64_t b, const EncodedTensors& enc) { return gguf ? gguf->write_block(b, enc) : gptq->write_block(b, enc); };
  if (ck) qo.stream = stream_blocks(*ck, w, write);
  Progress none;
  Progress& p = progress ? *progress : none;
  Progress qp = p.sub(0.0, 0.8);
  const std::vector<int32_t> windows(calib_windows.begin(), calib_windows.end());
  LB_TRY_ASSIGN(QuantizeResult q, quantize_model(w, qo, windows, &qp, cancel));
  if (!ck)
    for (int64_t b = 0; b < static_cast<int64_t>(w.blocks.size()); ++b) LB_TRY_VOID(write(b, q.encoded));
  LayoutExportReport r;
  r.to = options.to;
  r.quantize_seconds = q.seconds;
  r.warnings = q.warnings;
  Progress xp = p.sub(0.8, 1.0);
  auto absorb = [&r](const auto& x) {
    r.path = x.path;
    r.bytes = x.bytes;
    r.tensors = x.tensors;
    r.write_seconds = x.seconds;
    r.warnings.insert(r.warnings.end(), x.warnings.begin(), x.warnings.end());
  };
  if (gguf) {
    LB_TRY_ASSIGN(GgufExportReport x, gguf->finish(q.encoded, &xp, cancel));
    absorb(x);
  } else {
    LB_TRY_ASSIGN(GptqExportReport x, gptq->finish(q.encoded, &xp, cancel));
    absorb(x);
  }
  r.bits_per_weight = 8.0 * static_cast<double>(r.bytes) / static_cast<double>(std::max<int64_t>(1, checkpoint_parameters(source)));
  q.encoded.clear();
  r.quantized = std::move(q);
  return r;
}

}  // namespace

Expected<LayoutExportReport> export_layout(const Model& source, const ModelWeights& weights, const Layout& layout,
                                           const std::filesystem::path& out, std::span<const int32_t> calib_windows,
                                           const LayoutExportOptions& options, Progress* progress, const CancelToken* cancel) {
  LB_TRY_VOID(check_not_source(source.checkpoint->path(), out));
  ModelWeights w = weights;
  LB_TRY_ASSIGN(QuantizeOptions qo, layout_quantize_options(layout, w, options, calib_windows));
  return quantize_and_write(source, w, std::move(qo), nullptr, out, calib_windows, options, progress, cancel);
}

Expected<LayoutExportReport> export_layout_streamed(const Model& source, const Layout& layout, const std::filesystem::path& out,
                                                    std::span<const int32_t> calib_windows, const LayoutExportOptions& options,
                                                    Progress* progress, const CancelToken* cancel) {
  LB_TRY_VOID(check_not_source(source.checkpoint->path(), out));
  const bool streams = layout_streams(layout.method);
  Progress none;
  Progress& p = progress ? *progress : none;
  Progress lp = p.sub(0.0, streams ? 0.01 : 0.05);
  LB_TRY_ASSIGN(ModelWeights w, load_model(*source.checkpoint, source.config, &lp, !streams));
  LB_TRY_ASSIGN(QuantizeOptions qo, layout_quantize_options(layout, w, options, calib_windows));
  Progress rest = p.sub(streams ? 0.01 : 0.05, 1.0);
  return quantize_and_write(source, w, std::move(qo), streams ? source.checkpoint.get() : nullptr, out, calib_windows, options, &rest,
                            cancel);
}

}  // namespace lowbit
