#include "core/export/estimate.h"

#include <sys/resource.h>

#include <chrono>

#include "core/export/gguf_export.h"
#include "core/export/gptq_checkpoint.h"

namespace lowbit {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// fp32 bytes of one decoder block's weights (its linears; norms and biases are negligible).
double block_fp32_bytes(const ModelConfig& c) {
  double n = 0;
  for (LinearSlot s : {LinearSlot::Q, LinearSlot::K, LinearSlot::V, LinearSlot::O, LinearSlot::Gate, LinearSlot::Up, LinearSlot::Down}) {
    if (s == LinearSlot::Gate && c.arch == Arch::Gpt2) continue;
    const auto [r, k] = linear_shape(c, s);
    n += static_cast<double>(r) * static_cast<double>(k);
  }
  return 4 * n;
}

}  // namespace

double process_peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

Expected<JobEstimate> estimate_quantization(const Model& model, ModelWeights& skeleton, QuantizeOptions o,
                                            const std::vector<int32_t>& calib, std::optional<ExportTarget> to, double load_seconds,
                                            const CancelToken* cancel) {
  if (!layout_streams(o.method))
    return make_error(ErrorCode::Unsupported, std::string("estimates cover methods rtn, gptq, awq and awq+gptq; not yet ") +
                                                  quant_method_name(o.method));
  JobEstimate e;
  const auto formats = planned_formats(skeleton, o);
  if (to) {
    LB_TRY_ASSIGN(const uint64_t bytes, *to == ExportTarget::Gguf ? gguf_file_size(model, skeleton, formats)
                                                                  : gptq_weights_file_size(skeleton, formats));
    e.bytes = bytes;
  }

  // The probe: the first block through the job's own pipeline, streamed; the second load ends it.
  e.blocks = static_cast<int64_t>(skeleton.blocks.size());
  o.resume_dir.clear();
  o.resume = false;
  o.keep_encoded = true;
  Clock::time_point t0 = Clock::now(), first_load{}, first_done{};
  BlockStream inner = stream_blocks(*model.checkpoint, skeleton, nullptr);
  const std::string probe_end = "estimate probe complete";
  o.stream.load = [&](int64_t b) -> Expected<void> {
    if (b >= 1) return make_error(ErrorCode::Cancelled, probe_end);
    first_load = Clock::now();
    return inner.load(b);
  };
  o.stream.done = [&](int64_t b, EncodedTensors& enc) -> Expected<void> {
    if (b == 0) first_done = Clock::now();
    return inner.done(b, enc);
  };
  auto r = quantize_model(skeleton, o, calib, nullptr, cancel);
  if (!r && r.error().message != probe_end) return Unexpected{r.error()};
  if (first_done == Clock::time_point{}) return make_error(ErrorCode::InvalidArgument, "estimate: the probe did not finish a block");
  e.load_seconds = load_seconds;
  e.setup_seconds = seconds_between(t0, first_load);
  e.block_seconds = seconds_between(first_load, first_done);
  e.seconds = load_seconds + e.setup_seconds + static_cast<double>(e.blocks) * e.block_seconds + load_seconds;
  e.streamed = to.has_value();
  e.peak_rss_mb = process_peak_rss_mb();
  if (!e.streamed) e.peak_rss_mb += static_cast<double>(e.blocks - 1) * block_fp32_bytes(skeleton.config) / (1024.0 * 1024.0);
  return e;
}

Expected<JobEstimate> estimate_layout_export(const Model& source, const Layout& layout, std::span<const int32_t> calib_windows,
                                             const LayoutExportOptions& options, const CancelToken* cancel) {
  const auto t0 = Clock::now();
  LB_TRY_ASSIGN(ModelWeights w, load_model(*source.checkpoint, source.config, nullptr, false));
  const double load_seconds = seconds_between(t0, Clock::now());
  LB_TRY_ASSIGN(QuantizeOptions qo, layout_quantize_options(layout, w, options, calib_windows));
  const std::vector<int32_t> windows(calib_windows.begin(), calib_windows.end());
  return estimate_quantization(source, w, std::move(qo), windows, options.to, load_seconds, cancel);
}

}  // namespace lowbit
