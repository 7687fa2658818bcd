#include "app/cli/dry_run.h"

#include <cstdio>

#include "app/cli/commands.h"
#include "core/export/estimate.h"

namespace lowbit::cli {

int dry_run_quantize(const Model& model, ModelWeights& skeleton, QuantizeOptions o, const std::vector<int32_t>& calib,
                     const DryRunTarget& target, bool json) {
  std::optional<ExportTarget> to;
  if (!target.out.empty()) to = export_target_from_name(target.to);
  if (!target.out.empty() && !to) return fail({ErrorCode::InvalidArgument, "--dry-run estimates GGUF and GPTQ outputs, not " + target.to}, json);
  const std::string method = quant_method_name(o.method), format = o.format.name();
  auto e = estimate_quantization(model, skeleton, std::move(o), calib, to, target.load_seconds, &interrupt_token());
  if (!e) return fail(e.error(), json);

  if (json) {
    nlohmann::json out = {{"ok", true},
                          {"dry_run", true},
                          {"method", method},
                          {"format", format},
                          {"streamed", e->streamed},
                          {"blocks", e->blocks},
                          {"estimate", {{"peak_rss_mb", e->peak_rss_mb}, {"seconds", e->seconds}}},
                          {"probe", {{"blocks", 1}, {"load_seconds", e->load_seconds}, {"setup_seconds", e->setup_seconds}, {"block_seconds", e->block_seconds}}}};
    if (e->bytes) out["output"] = {{"path", target.out}, {"to", target.to}, {"bytes", *e->bytes}};
    print_json(out);
    return kOk;
  }
  std::printf("dry run: %s %s over %lld blocks%s\n", method.c_str(), format.c_str(), static_cast<long long>(e->blocks),
              e->streamed ? ", streamed block by block" : ", every block held in memory (no --out)");
  if (e->bytes) std::printf("output %s (%s): %.3f GB\n", target.out.c_str(), target.to.c_str(), static_cast<double>(*e->bytes) / 1e9);
  std::printf("estimated peak memory %.0f MiB, time %.0f s (probe: model-wide tensors %.1f s, setup %.1f s, one block %.1f s)\n",
              e->peak_rss_mb, e->seconds, e->load_seconds, e->setup_seconds, e->block_seconds);
  return kOk;
}

}  // namespace lowbit::cli
