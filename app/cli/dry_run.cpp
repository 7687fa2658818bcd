#include "app/cli/dry_run.h"

#include <chrono>
#include <cstdio>

#include "app/cli/commands.h"
#include "core/export/gguf_export.h"
#include "core/export/gptq_checkpoint.h"

namespace lowbit::cli {

namespace {

using Clock = std::chrono::steady_clock;

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

int dry_run_quantize(const Model& model, ModelWeights& skeleton, QuantizeOptions o, const std::vector<int32_t>& calib,
                     const DryRunTarget& target, bool json) {
  const auto formats = planned_formats(skeleton, o);
  std::optional<uint64_t> bytes;
  if (!target.out.empty()) {
    auto size = target.to == "gguf" ? gguf_file_size(model, skeleton, formats) : gptq_weights_file_size(skeleton, formats);
    if (!size) return fail(size.error(), json);
    bytes = *size;
  }

  // The probe: the first block through the run's own pipeline, streamed; the second load ends it.
  const int64_t nblocks = static_cast<int64_t>(skeleton.blocks.size());
  o.resume_dir.clear();
  o.resume = false;
  o.keep_encoded = true;
  Clock::time_point t0 = Clock::now(), first_load{}, first_done{};
  BlockStream inner = stream_blocks(*model.checkpoint, skeleton, nullptr);
  const std::string probe_end = "dry-run probe complete";
  o.stream.load = [&](int64_t b) -> Expected<void> {
    if (b >= 1) return make_error(ErrorCode::Cancelled, probe_end);
    first_load = Clock::now();
    return inner.load(b);
  };
  o.stream.done = [&](int64_t b, EncodedTensors& enc) -> Expected<void> {
    if (b == 0) first_done = Clock::now();
    return inner.done(b, enc);
  };
  auto r = quantize_model(skeleton, o, calib, nullptr, &interrupt_token());
  if (!r && r.error().message != probe_end) return fail(r.error(), json);
  if (first_done == Clock::time_point{})
    return fail({ErrorCode::InvalidArgument, "--dry-run: the probe did not finish a block"}, json);
  const double setup = std::chrono::duration<double>(first_load - t0).count();
  const double block = std::chrono::duration<double>(first_done - first_load).count();
  const double seconds = target.load_seconds + setup + static_cast<double>(nblocks) * block + target.load_seconds;
  const bool streamed = !target.out.empty();
  double peak = peak_rss_mb();
  if (!streamed) peak += static_cast<double>(nblocks - 1) * block_fp32_bytes(skeleton.config) / 1e6;

  if (json) {
    nlohmann::json out = {{"ok", true},
                          {"dry_run", true},
                          {"method", quant_method_name(o.method)},
                          {"format", o.format.name()},
                          {"streamed", streamed},
                          {"blocks", nblocks},
                          {"estimate", {{"peak_rss_mb", peak}, {"seconds", seconds}}},
                          {"probe", {{"blocks", 1}, {"load_seconds", target.load_seconds}, {"setup_seconds", setup}, {"block_seconds", block}}}};
    if (bytes) out["output"] = {{"path", target.out}, {"to", target.to}, {"bytes", *bytes}};
    print_json(out);
    return kOk;
  }
  std::printf("dry run: %s %s over %lld blocks%s\n", quant_method_name(o.method), o.format.name().c_str(), static_cast<long long>(nblocks),
              streamed ? ", streamed block by block" : ", every block held in memory (no --out)");
  if (bytes)
    std::printf("output %s (%s): %.3f GB\n", target.out.c_str(), target.to.c_str(), static_cast<double>(*bytes) / 1e9);
  std::printf("estimated peak memory %.0f MB, time %.0f s (probe: model-wide tensors %.1f s, setup %.1f s, one block %.1f s)\n", peak,
              seconds, target.load_seconds, setup, block);
  return kOk;
}

}  // namespace lowbit::cli
