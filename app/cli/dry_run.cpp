#include "app/cli/dry_run.h"

#include <cstdio>

#include "app/cli/commands.h"
#include "core/export/estimate.h"

namespace lowbit::cli {

int print_estimate(const std::string& command, const nlohmann::json& fields, const JobEstimate& e, const std::string& out,
                   const std::string& to, bool json) {
  if (json) {
    nlohmann::json j = {{"ok", true},
                        {"dry_run", true},
                        {"command", command},
                        {"streamed", e.streamed},
                        {"blocks", e.blocks},
                        {"estimate", {{"peak_rss_mb", e.peak_rss_mb}, {"seconds", e.seconds}}},
                        {"probe", e.probed_fraction > 0
                                      ? nlohmann::json{{"fraction", e.probed_fraction}, {"load_seconds", e.load_seconds}, {"setup_seconds", e.setup_seconds}}
                                      : nlohmann::json{{"blocks", 1}, {"load_seconds", e.load_seconds}, {"setup_seconds", e.setup_seconds},
                                                       {"block_seconds", e.block_seconds}}}};
    j.update(fields);
    if (e.bytes) j["output"] = {{"path", out}, {"to", to}, {"bytes", *e.bytes}};
    print_json(j);
    return kOk;
  }
  std::printf("dry run: %s over %lld blocks%s\n", command.c_str(), static_cast<long long>(e.blocks),
              e.streamed ? ", streamed block by block" : ", every block held in memory");
  if (e.bytes) std::printf("output %s (%s): %.3f GB\n", out.c_str(), to.c_str(), static_cast<double>(*e.bytes) / 1e9);
  if (e.probed_fraction > 0)
    std::printf("estimated peak memory %.0f MiB, time %.0f s (probe: loading %.1f s, setup %.1f s, then %.1f %% of the work)\n",
                e.peak_rss_mb, e.seconds, e.load_seconds, e.setup_seconds, 100 * e.probed_fraction);
  else
    std::printf("estimated peak memory %.0f MiB, time %.0f s (probe: model-wide tensors %.1f s, setup %.1f s, one block %.1f s)\n",
                e.peak_rss_mb, e.seconds, e.load_seconds, e.setup_seconds, e.block_seconds);
  return kOk;
}

int dry_run_quantize(const Model& model, ModelWeights& skeleton, QuantizeOptions o, const std::vector<int32_t>& calib,
                     const DryRunTarget& target, bool json) {
  std::optional<ExportTarget> to;
  if (!target.out.empty()) to = export_target_from_name(target.to);
  if (!target.out.empty() && !to && target.to != "onebit") return fail({ErrorCode::InvalidArgument, "--dry-run estimates GGUF and GPTQ outputs, not " + target.to}, json);
  const std::string method = quant_method_name(o.method), format = o.format.name();
  auto e = estimate_quantization(model, skeleton, std::move(o), calib, to, target.load_seconds, &interrupt_token());
  if (!e) return fail(e.error(), json);
  return print_estimate("quantize " + method + " " + format, {{"method", method}, {"format", format}}, *e, target.out, target.to, json);
}

}  // namespace lowbit::cli
