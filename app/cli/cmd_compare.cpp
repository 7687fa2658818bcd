// lowbit compare MODEL --layouts A.json B.json ... [--uniform q3_k,q4_k] --text FILE [--ctx N] [--max-windows N]
//                      [--calib FILE --samples N --calib-ctx N --seed S] [--quantize-embeddings]
//                      [--backend cpu|vulkan [--device N] [--max-device-mb MB]] [--dry-run]
// Evaluates several layouts (and uniform formats) of one model in one run: for each, the size of its
// GGUF export (exact; an estimate for int formats), bits per weight of the whole file, perplexity and
// KL divergence against the unquantized model on the same windows, and the time it took. With
// --backend vulkan the candidates' quantization (RTN, GPTQ's sweep, AWQ's α grid and clip search, the calibration walk)
// and the evaluations run on the device (the CPU, with a warning, when there is none or it does not
// support the model; per layer where a quantizer has no shader).
#include <chrono>
#include <cstdio>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/dry_run.h"
#include "app/cli/eval_device.h"
#include "app/cli/terminal_progress.h"
#include "core/eval/compare.h"
#include "core/io/mapped_file.h"
#include "core/model/model.h"
#include "core/plan/layout.h"

namespace lowbit::cli {

int run_compare(const std::vector<std::string>& argv) {
  std::string err;
  auto args = Args::parse(argv,
                          {{"text", "ctx", "max-windows", "uniform", "calib", "samples", "calib-ctx", "seed", "threads", "method",
                            "backend", "device", "max-device-mb"},
                           {"json", "quiet", "quantize-embeddings", "dry-run"},
                           {"layouts"}},
                          err);
  const bool json = args && args->flag("json");
  if (!args) return usage_error("compare", err, json);
  if (args->positional().size() != 1) return usage_error("compare", "expects one MODEL", json);
  const auto text_path = args->get("text");
  if (!text_path) return usage_error("compare", "--text FILE is required", json);
  PplOptions po;
  po.ctx = args->get_int("ctx", 256, err);
  po.max_windows = args->get_int("max-windows", 0, err);
  CalibOptions co;
  co.samples = args->get_int("samples", 128, err);
  co.ctx = args->get_int("calib-ctx", 256, err);
  co.seed = static_cast<uint64_t>(args->get_int("seed", 0, err));
  const long long threads = args->get_int("threads", 0, err);
  if (!err.empty()) return usage_error("compare", err, json);
  const auto backend = parse_backend(*args, err);
  if (!backend) return usage_error("compare", err, json);
  if (!apply_threads(threads, err)) return usage_error("compare", err, json);
  const auto uniform_method = quant_method_from_name(args->get("method").value_or("rtn"));
  if (!uniform_method) return usage_error("compare", "--method must be rtn, gptq, awq or awq+gptq", json);
  std::vector<Format> uniform;
  if (auto u = args->get("uniform")) {
    auto f = parse_format_list(*u, err);
    if (!f) return usage_error("compare", "--uniform: " + err, json);
    uniform = *f;
  }
  const auto layout_paths = args->get_all("layouts");
  if (layout_paths.empty() && uniform.empty()) return usage_error("compare", "give --layouts A.json ... and/or --uniform FMT,...", json);

  TerminalProgress term(args->flag("quiet"));
  Progress progress = term.sink();
  auto model = open_model(args->positional()[0], true);
  if (!model) return fail(model.error(), json);
  const auto t_load = std::chrono::steady_clock::now();
  auto original = load_model(*model->checkpoint, model->config);
  if (!original) return fail(original.error(), json);
  const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
  // The candidates: the layouts as given, then the uniform formats.
  std::vector<CompareCandidate> candidates;
  for (const auto& p : layout_paths) {
    auto l = read_layout(p);
    if (!l) return fail(l.error(), json);
    if (auto v = l->validate(*original); !v) return fail({v.error().code, p + ": " + v.error().message}, json);
    candidates.push_back({p, std::move(*l)});
  }
  for (const Format& f : uniform)
    candidates.push_back({f.name(), Layout::uniform(*original, f, *uniform_method, args->flag("quantize-embeddings"))});

  auto ids = tokenize_file(*model->tokenizer, *text_path);
  if (!ids) return fail(ids.error(), json);
  if (auto v = one_window_of_text(ids->size(), po.ctx, *text_path); !v) return fail(v.error(), json);
  std::vector<int32_t> windows;
  if (compare_needs_calibration(candidates)) {
    const auto calib_path = args->get("calib");
    if (!calib_path) return usage_error("compare", "a layout's method needs --calib FILE", json);
    auto w = calibration_windows(*model->tokenizer, *calib_path, co);
    if (!w) return fail(w.error(), json);
    windows = std::move(*w);
  }

  // The candidates' quantization (RTN, GPTQ's sweep, AWQ's grid, the calibration walk) and the
  // evaluations on the Vulkan device when one is open.
  std::vector<std::string> warnings;
  EvalDevice device;
  if (const std::string bad = device.open(*backend, warnings); !bad.empty()) return usage_error("compare", bad, json);
  CompareOptions cmp;
  cmp.ppl = po;
  cmp.calib = co;
  cmp.forward = device.forward();
  cmp.quantize = device.quantize();
  if (args->flag("dry-run")) {
    // The run itself, probed on its progress: through the first candidate into the second, whose
    // rate the others are taken to share; a single candidate is quantized whole and a tenth of its
    // evaluation run.
    term.finish();
    const double n = static_cast<double>(candidates.size());
    ProgressProbe probe(n > 1 ? 1.0 / n : 0.55, &interrupt_token(), n > 1 ? 0.0 : 0.5);
    Progress p = probe.progress();
    auto r = compare_layouts(*model, *original, candidates, *ids, windows, cmp, &p, probe.cancel());
    auto e = probe.finish(r ? std::nullopt : std::optional<Error>(r.error()), load_seconds);
    if (!e) return fail(e.error(), json);
    e->blocks = static_cast<int64_t>(original->blocks.size());
    return print_estimate("compare", {{"candidates", candidates.size()}, {"warnings", warnings}}, *e, "", "", json);
  }
  auto result = compare_layouts(*model, *original, candidates, *ids, windows, cmp, &progress, &interrupt_token());
  if (!result) {
    term.finish();
    return fail(result.error(), json);
  }
  const int64_t params = checkpoint_parameters(*model);
  nlohmann::json rows = nlohmann::json::array();
  for (const CompareRow& r : *result) rows.push_back(compare_row_to_json(r));
  term.finish();
  for (const auto& w : warnings) std::fprintf(stderr, "lowbit: warning: %s\n", w.c_str());
  if (json) {
    print_json({{"ok", true}, {"text", *text_path}, {"ctx", po.ctx}, {"parameters", params}, {"results", rows},
                {"backend", result->empty() ? std::string("cpu") : result->front().backend}, {"warnings", warnings}});
    return kOk;
  }
  std::printf("%-28s %12s %8s %10s %10s %8s\n", "layout", "bytes", "bpw", "ppl", "KLD", "top-1");
  for (const auto& r : rows)
    std::printf("%-28s %12s %8s %10.4f %10.6f %7.2f%%\n", r["name"].get<std::string>().c_str(),
                r["file_bytes"].is_null() ? "-" : std::to_string(r["file_bytes"].get<uint64_t>()).c_str(),
                r.contains("bits_per_weight") ? std::to_string(r["bits_per_weight"].get<double>()).substr(0, 6).c_str() : "-",
                r["ppl"].get<double>(), r.contains("kld") ? r["kld"]["mean"].get<double>() : 0.0,
                r.contains("kld") ? 100.0 * r["kld"]["top1_agreement"].get<double>() : 0.0);
  return kOk;
}

}  // namespace lowbit::cli
