// lowbit analyze MODEL --calib FILE [--samples N] [--ctx N] [--seed S] --out DIR [--threads N] [--dry-run] [--resume]
//                [--backend cpu|vulkan [--device N] [--max-device-mb MB] (the calibration walk on the GPU; views:
//                 the Hessian and AWQ views' walks, α grids and clip searches and the scale views' passes too)]
//                [--views hessian,scale-hessian,landscape,awq,outliers [--view-bits 2,3,4] [--blocks 0,3]
//                 [--view-group G] [--fd-step H] [--scale-codes rerounded|fixed] [--landscape-points N]
//                 [--landscape-block K]]
// Per-layer input Hessians and activation statistics of the calibration windows, saved in DIR in the
// format core/calib/analyze.h documents (the studio's Analyze reads it back); with --views also the
// studio's views, in views.json and views.safetensors (core/analysis/views_file.h). --dry-run: the size
// of the statistics, peak memory and time, from a probe of block 0 (without --views) or of the first
// tenth of the run's progress (with them); nothing written.
// Without --views each finished block's state is kept in DIR.resume/ until the folder is written, and
// --resume continues an interrupted run from there (core/calib/analyze.h, AnalyzeResume).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/dry_run.h"
#include "app/cli/eval_device.h"
#include "app/cli/terminal_progress.h"
#include "core/analysis/views.h"
#include "core/calib/analyze.h"
#include "core/export/imatrix.h"
#include "core/quant/quantize_model.h"
#include "core/model/model.h"

namespace lowbit::cli {

namespace {

// "2,3,4" → {2, 3, 4}; false with `err` set on anything else.
template <class T>
bool parse_int_list(const std::string& list, const char* option, std::vector<T>& out, std::string& err) {
  out.clear();
  size_t start = 0;
  while (start <= list.size()) {
    const size_t end = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, end - start);
    char* stop = nullptr;
    const long long v = std::strtoll(item.c_str(), &stop, 10);
    if (item.empty() || *stop != '\0' || v < 0 || v > 1'000'000) {
      err = std::string("--") + option + " expects comma-separated non-negative integers, got '" + list + "'";
      return false;
    }
    out.push_back(static_cast<T>(v));
    start = end + 1;
  }
  return true;
}

// The --views options; nullopt (views empty) without --views.
bool parse_views(const Args& args, ViewsOptions& o, std::string& err) {
  const auto views = args.get("views");
  if (!views) {
    for (const char* opt : {"view-bits", "blocks", "view-group", "fd-step", "scale-codes", "landscape-points", "landscape-block"})
      if (args.get(opt)) {
        err = std::string("--") + opt + " needs --views";
        return false;
      }
    return true;
  }
  auto v = parse_view_list(*views);
  if (!v) {
    err = v.error().message;
    return false;
  }
  o.views = *v;
  if (auto b = args.get("view-bits"); b && !parse_int_list(*b, "view-bits", o.bits, err)) return false;
  if (auto b = args.get("blocks"); b && !parse_int_list(*b, "blocks", o.blocks, err)) return false;
  o.group = args.get_int("view-group", o.group, err);
  o.fd_step = args.get_double("fd-step", o.fd_step, err);
  const std::string codes = args.get("scale-codes").value_or("rerounded");
  if (codes != "rerounded" && codes != "fixed") {
    err = "--scale-codes expects rerounded or fixed, got '" + codes + "'";
    return false;
  }
  o.scale_fixed_codes = codes == "fixed";
  o.landscape_points = static_cast<int>(args.get_int("landscape-points", o.landscape_points, err));
  o.landscape_block = args.get_int("landscape-block", o.landscape_block, err);
  if (!err.empty()) return false;
  if (auto ok = o.validate(); !ok) {
    err = ok.error().message;
    return false;
  }
  return true;
}

}  // namespace

int run_analyze(const std::vector<std::string>& argv) {
  std::string err;
  auto args = Args::parse(argv,
                          {{"calib", "samples", "ctx", "seed", "out", "threads", "backend", "device", "max-device-mb", "imatrix", "views",
                            "view-bits", "blocks", "view-group", "fd-step", "scale-codes", "landscape-points", "landscape-block"},
                           {"json", "quiet", "dry-run", "resume"},
                           {}},
                          err);
  const bool json = args && args->flag("json");
  if (!args) return usage_error("analyze", err, json);
  if (args->positional().size() != 1) return usage_error("analyze", "expects one MODEL", json);
  if (auto clash = args->output_clash({"out", "imatrix"}, {"calib"}); !clash.empty()) return usage_error("analyze", clash, json);
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
  ViewsOptions views;
  if (!parse_views(*args, views, err)) return usage_error("analyze", err, json);
  if (args->flag("resume") && !views.views.empty())
    return fail({ErrorCode::Unsupported, "--resume continues analyze without --views; not yet with them"}, json);
  const auto backend = parse_backend(*args, err);
  if (!backend) return usage_error("analyze", err, json);
  // --backend vulkan: the calibration walk (gpu/model/vulkan_block_walker.h) on the GPU, and with
  // views the Hessian and AWQ views' walks, the AWQ view's α grids and clip searches and the scale views' forward
  // passes; the outlier histograms and the blocks' quantization run on the CPU.
  std::vector<std::string> warnings;
  EvalDevice device;
  if (const std::string bad = device.open(*backend, warnings); !bad.empty()) return usage_error("analyze", bad, json);
  views.awq.backend = device.awq_grid();
  views.awq.clip_backend = device.awq_clip();
  views.scale_runner = device.scale_loss();
  std::string walker_note, walker_used;
  auto on_backend = [&](BlockHooks h) { return walk_on(device, std::move(h), walker_note, walker_used); };

  TerminalProgress term(args->flag("quiet"));
  Progress progress = term.sink();
  auto model = open_model(info.model, true);
  if (!model) return fail(model.error(), json);
  auto windows = calibration_windows(*model->tokenizer, *calib_path, info.calib);
  if (!windows) return fail(windows.error(), json);
  Progress load = progress.sub(0.0, 0.05);
  // The statistics alone stream the model (one decoder block in memory at a time); the views need
  // it whole.
  const bool streaming = views.views.empty();
  const auto t_load = std::chrono::steady_clock::now();
  auto weights = load_model(*model->checkpoint, model->config, &load, !streaming);
  if (!weights) return fail(weights.error(), json);
  if (args->flag("dry-run") && !streaming) {
    // With views the model is held whole: the run itself into a scratch folder, probed on its
    // progress (ProgressProbe) for its first tenth, extrapolated at the rate of its stages' planned
    // shares; the statistics' size from the config (the views' files are not estimated).
    term.finish();
    const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
    const auto scratch = std::filesystem::temp_directory_path() / ("lowbit-dry-run-" + std::to_string(::getpid()));
    ProgressProbe probe(0.1, &interrupt_token());
    Progress p = probe.progress();
    auto r = analyze_views_to_folder(*weights, *windows, info, views, scratch, &p, probe.cancel(), on_backend({}));
    std::error_code ec;
    std::filesystem::remove_all(scratch, ec);
    auto e = probe.finish(r ? std::nullopt : std::optional<Error>(r.error()), load_seconds);
    if (!e) return fail(e.error(), json);
    e->blocks = static_cast<int64_t>(weights->blocks.size());
    e->bytes = analysis_stats_bytes(weights->config);
    return print_estimate("analyze", {{"samples", info.calib.samples}, {"ctx", info.calib.ctx}, {"views", views.views.size()}}, *e, *out,
                          "calibration folder", json);
  }
  if (args->flag("dry-run")) {
    // The probe: block 0 analyzed into a scratch folder, which goes; the output's size from the config.
    term.finish();
    const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
    const auto scratch = std::filesystem::temp_directory_path() / ("lowbit-dry-run-" + std::to_string(::getpid()));
    BlockProbe probe(*model->checkpoint, *weights);
    auto r = analyze_to_folder(*weights, *windows, info, scratch, nullptr, &interrupt_token(), on_backend(probe.hooks()));
    std::error_code ec;
    std::filesystem::remove_all(scratch, ec);
    auto e = probe.finish(r ? std::nullopt : std::optional<Error>(r.error()), load_seconds);
    if (!e) return fail(e.error(), json);
    e->bytes = analysis_stats_bytes(weights->config);
    return print_estimate("analyze", {{"samples", info.calib.samples}, {"ctx", info.calib.ctx}}, *e, *out, "calibration folder", json);
  }
  Progress work = progress.sub(0.05, 1.0);
  Expected<nlohmann::json> r = nlohmann::json();
  nlohmann::json view_summary;
  std::string resume_dir;
  if (streaming) {
    // Each finished block's state goes to OUT.resume/ until the folder is written; --resume reuses it.
    AnalyzeResume resume;
    resume.dir = std::filesystem::path(*out).lexically_normal().string();
    if (!resume.dir.has_filename()) resume.dir = resume.dir.parent_path();
    resume.dir += ".resume";
    resume.resume = args->flag("resume");
    resume.run_id = run_id(info.model, argv);
    resume_dir = resume.dir.string();
    r = analyze_to_folder(*weights, *windows, info, *out, &work, &interrupt_token(),
                          on_backend(hooks_of(stream_blocks(*model->checkpoint, *weights, nullptr))), resume);
    if (r) {
      std::error_code ec;
      std::filesystem::remove_all(resume.dir, ec);  // the folder is written: nothing left to resume
    }
  } else {
    auto both = analyze_views_to_folder(*weights, *windows, info, views, *out, &work, &interrupt_token(), on_backend({}));
    if (both) {
      r = (*both)["calibration"];
      view_summary = (*both)["views"];
      if (both->contains("scale_views_backend")) view_summary["scale_views_backend"] = (*both)["scale_views_backend"];
      if (both->contains("scale_views_note")) warnings.push_back("the scale views ran on the CPU: " + (*both)["scale_views_note"].get<std::string>());
    } else {
      r = Unexpected{both.error()};
    }
  }
  term.finish();
  if (!r) return fail(with_resume_note(r.error(), resume_dir), json);
  // --imatrix FILE: the same statistics as llama.cpp's importance matrix (.dat: legacy, else GGUF).
  if (auto im = args->get("imatrix")) {
    auto set = CalibrationSet::open(*out);
    if (!set) return fail(set.error(), json);
    if (auto v = write_imatrix(*set, weights->config, tensor_names(weights->config, true), *im); !v) return fail(v.error(), json);
  }
  if (!walker_note.empty()) warnings.push_back("calibration on the CPU: " + walker_note);
  if (json) {
    nlohmann::json j = *r;
    j["ok"] = true;
    j["out"] = *out;
    j["peak_rss_mb"] = peak_rss_mb();
    j["streamed"] = streaming;
    j["backend"] = walker_used.empty() ? "cpu" : walker_used;
    j["warnings"] = warnings;
    if (!view_summary.is_null()) j["views"] = view_summary;
    print_json(j);
    return kOk;
  }
  for (const auto& w : warnings) std::fprintf(stderr, "lowbit: warning: %s\n", w.c_str());
  std::printf("analyzed %lld blocks from %lld calibration tokens in %.1f s; saved in %s\n",
              static_cast<long long>((*r)["blocks"].get<int64_t>()), static_cast<long long>((*r)["tokens"].get<int64_t>()),
              (*r)["seconds"].get<double>(), out->c_str());
  if (!view_summary.is_null()) {
    std::printf("views written to %s/views.json and views.safetensors:", out->c_str());
    for (const auto& [name, secs] : view_summary["seconds"].items())
      if (name != "total" && name != "calibration") std::printf(" %s %.1f s;", name.c_str(), secs.get<double>());
    std::printf("\n");
  }
  for (const auto& in : (*r)["inputs"])
    if (in["outlier_channels"].get<int64_t>() > 0)
      std::printf("  block %lld %-7s %4lld of %lld channels above the max|x| fence %.3g (largest %.3g)\n",
                  static_cast<long long>(in["block"].get<int64_t>()), in["input"].get<std::string>().c_str(),
                  static_cast<long long>(in["outlier_channels"].get<int64_t>()), static_cast<long long>(in["channels"].get<int64_t>()),
                  in["max_abs_fence"].get<double>(), in["max_abs_max"].get<double>());
  return kOk;
}

}  // namespace lowbit::cli
