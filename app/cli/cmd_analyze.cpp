// lowbit analyze MODEL --calib FILE [--samples N] [--ctx N] [--seed S] --out DIR [--threads N]
// Per-layer input Hessians and activation statistics of the calibration windows, saved in DIR in the
// format core/calib/analyze.h documents (the studio's Analyze reads it back).
#include <cstdio>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/terminal_progress.h"
#include "core/calib/analyze.h"
#include "core/export/imatrix.h"
#include "core/model/model.h"

namespace lowbit::cli {

int run_analyze(const std::vector<std::string>& argv) {
  std::string err;
  auto args = Args::parse(argv, {{"calib", "samples", "ctx", "seed", "out", "threads", "backend", "device", "imatrix"}, {"json", "quiet"}, {}}, err);
  const bool json = args && args->flag("json");
  if (!args) return usage_error("analyze", err, json);
  if (args->positional().size() != 1) return usage_error("analyze", "expects one MODEL", json);
  const auto calib_path = args->get("calib");
  if (!calib_path) return usage_error("analyze", "--calib FILE is required", json);
  const auto out = args->get("out");
  if (!out) return usage_error("analyze", "--out DIR is required", json);
  AnalyzeInfo info;
  info.model = args->positional()[0];
  info.text = *calib_path;
  info.calib.samples = args->get_int("samples", 128, err);
  info.calib.ctx = args->get_int("ctx", 256, err);
  info.calib.seed = static_cast<uint64_t>(args->get_int("seed", 0, err));
  const long long threads = args->get_int("threads", 0, err);
  if (!err.empty()) return usage_error("analyze", err, json);
  if (!apply_threads(threads, err)) return usage_error("analyze", err, json);
  if (auto v = info.calib.validate(); !v) return usage_error("analyze", v.error().message, json);
  if (args->get("backend").value_or("cpu") != "cpu")
    return fail({ErrorCode::Unsupported, "analyze runs on the CPU only for now (--backend vulkan is not implemented yet)"}, json);

  TerminalProgress term(args->flag("quiet"));
  Progress progress = term.sink();
  auto model = open_model(info.model, true);
  if (!model) return fail(model.error(), json);
  auto windows = calibration_windows(*model->tokenizer, *calib_path, info.calib);
  if (!windows) return fail(windows.error(), json);
  Progress load = progress.sub(0.0, 0.05);
  auto weights = load_model(*model->checkpoint, model->config, &load);
  if (!weights) return fail(weights.error(), json);
  Progress work = progress.sub(0.05, 1.0);
  auto r = analyze_to_folder(*weights, *windows, info, *out, &work, &interrupt_token());
  term.finish();
  if (!r) return fail(r.error(), json);
  // --imatrix FILE: the same statistics as llama.cpp's importance matrix (.dat: legacy, else GGUF).
  if (auto im = args->get("imatrix")) {
    auto set = CalibrationSet::open(*out);
    if (!set) return fail(set.error(), json);
    if (auto v = write_imatrix(*set, weights->config, tensor_names(weights->config, true), *im); !v) return fail(v.error(), json);
  }
  if (json) {
    nlohmann::json j = *r;
    j["ok"] = true;
    j["out"] = *out;
    j["peak_rss_mb"] = peak_rss_mb();
    print_json(j);
    return kOk;
  }
  std::printf("analyzed %lld blocks from %lld calibration tokens in %.1f s; saved in %s\n",
              static_cast<long long>((*r)["blocks"].get<int64_t>()), static_cast<long long>((*r)["tokens"].get<int64_t>()),
              (*r)["seconds"].get<double>(), out->c_str());
  for (const auto& in : (*r)["inputs"])
    if (in["outlier_channels"].get<int64_t>() > 0)
      std::printf("  block %lld %-7s %4lld of %lld channels above the max|x| fence %.3g (largest %.3g)\n",
                  static_cast<long long>(in["block"].get<int64_t>()), in["input"].get<std::string>().c_str(),
                  static_cast<long long>(in["outlier_channels"].get<int64_t>()), static_cast<long long>(in["channels"].get<int64_t>()),
                  in["max_abs_fence"].get<double>(), in["max_abs_max"].get<double>());
  return kOk;
}

}  // namespace lowbit::cli
