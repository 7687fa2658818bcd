// lowbit plan MODEL --budget-bpw X | --budget-size BYTES [--formats a,b,c] [--method M] [--block-level]
//                   [--sensitivity kld|hessian]
//                   [--no-embeddings] --calib FILE [--samples N --ctx N --seed S] [--text FILE] [--cache FILE]
//                   --out L.json [--dry-run] [--backend cpu|vulkan [--device N] [--max-device-mb MB]]
// --backend vulkan: the KLD sensitivity's forward passes and candidates' RTN (kld), or the calibration
// walk and the Hessian-weighted errors (hessian), on the GPU.
// Measures every tensor's sensitivity to every format of the menu on calibration windows (cached),
// chooses the layout of least total KL divergence within the budget of the whole file, and writes it
// with the predicted perplexity (on --text when given: its unquantized perplexity × exp(Σ ΔNLL)).
// The sensitivity cache is written after each tensor, so an interrupted plan resumes where it stopped
// when run again; --sensitivity hessian without --text streams the model block by block. --dry-run
// (without --text): peak memory and time, from a probe of block 0 (hessian) or of the first twentieth
// of the measurements (kld).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/dry_run.h"
#include "app/cli/eval_device.h"
#include "app/cli/terminal_progress.h"
#include "core/eval/perplexity.h"
#include "core/io/mapped_file.h"
#include "core/model/model.h"
#include "core/plan/planner.h"

namespace lowbit::cli {

std::optional<std::vector<Format>> parse_format_list(const std::string& list, std::string& error) {
  std::vector<Format> out;
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (name.empty()) continue;
    auto f = Format::parse(name);
    if (!f) {
      error = "unknown format '" + name + "'";
      return std::nullopt;
    }
    out.push_back(*f);
  }
  if (out.empty()) {
    error = "the format list is empty";
    return std::nullopt;
  }
  return out;
}

int run_plan(const std::vector<std::string>& argv) {
  std::string err;
  auto args = Args::parse(argv,
                          {{"budget-bpw", "budget-size", "formats", "method", "calib", "samples", "ctx", "seed", "text", "cache", "sensitivity",
                            "out", "threads", "backend", "device", "max-device-mb"},
                           {"json", "quiet", "block-level", "no-embeddings", "dry-run"},
                           {}},
                          err);
  const bool json = args && args->flag("json");
  if (!args) return usage_error("plan", err, json);
  if (args->positional().size() != 1) return usage_error("plan", "expects one MODEL", json);
  if (auto clash = args->output_clash({"out", "cache"}, {"calib", "text"}); !clash.empty()) return usage_error("plan", clash, json);
  PlanOptions po;
  auto formats = parse_format_list(args->get("formats").value_or("q2_k,q3_k,q4_k,q5_k,q6_k,q8_0"), err);
  if (!formats) return usage_error("plan", "--formats: " + err, json);
  po.formats = *formats;
  if (args->get("budget-bpw")) {
    const double bpw = args->get_double("budget-bpw", 0, err);
    po.budget_bpw = bpw;
    if (err.empty() && !(bpw > 0 && std::isfinite(bpw)))
      return usage_error("plan", "--budget-bpw must be a positive number of bits per weight, got " + *args->get("budget-bpw"), json);
  }
  if (args->get("budget-size")) {
    const long long bytes = args->get_int("budget-size", 0, err);
    if (err.empty() && bytes <= 0) return usage_error("plan", "--budget-size must be a positive number of bytes, got " + *args->get("budget-size"), json);
    po.budget_bytes = static_cast<uint64_t>(bytes);
  }
  po.block_level = args->flag("block-level");
  po.embeddings = !args->flag("no-embeddings");
  const auto method = quant_method_from_name(args->get("method").value_or("rtn"));
  if (!method) return usage_error("plan", "--method must be rtn, gptq, awq or awq+gptq", json);
  po.method = *method;
  CalibOptions co;
  co.samples = args->get_int("samples", 16, err);
  co.ctx = args->get_int("ctx", 256, err);
  co.seed = static_cast<uint64_t>(args->get_int("seed", 0, err));
  const long long threads = args->get_int("threads", 0, err);
  if (!err.empty()) return usage_error("plan", err, json);
  if (!apply_threads(threads, err)) return usage_error("plan", err, json);
  if (auto v = po.validate(); !v) return usage_error("plan", v.error().message, json);
  if (auto v = co.validate(); !v) return usage_error("plan", v.error().message, json);
  const auto calib_path = args->get("calib");
  const auto out_path = args->get("out");
  if (!calib_path) return usage_error("plan", "--calib FILE is required (sensitivities are measured on it)", json);
  if (!out_path) return usage_error("plan", "--out L.json is required", json);
  const auto backend = parse_backend(*args, err);
  if (!backend) return usage_error("plan", err, json);
  // --backend vulkan: the KLD sensitivity's forward passes, or the Hessian sensitivity's calibration walk, on the GPU.
  std::vector<std::string> warnings;
  EvalDevice device;
  if (const std::string bad = device.open(*backend, warnings); !bad.empty()) return usage_error("plan", bad, json);
  std::string walker_note, walker_used;

  TerminalProgress term(args->flag("quiet"));
  Progress progress = term.sink();
  SensitivityOptions so;
  const std::string kind = args->get("sensitivity").value_or("kld");
  if (kind != "kld" && kind != "hessian") return usage_error("plan", "--sensitivity must be kld or hessian", json);
  so.kind = kind == "kld" ? SensitivityKind::Kld : SensitivityKind::Hessian;
  // The Hessian kind streams the model (one decoder block in memory at a time) unless --text asks for
  // the unquantized perplexity, which needs it whole; the KLD kind reruns later blocks per candidate.
  const bool streaming = so.kind == SensitivityKind::Hessian && !args->get("text");
  const bool dry_run = args->flag("dry-run");
  if (dry_run && args->get("text"))
    return fail({ErrorCode::Unsupported, "--dry-run estimates the sensitivity pass; not yet --text's evaluation (drop --text)"}, json);
  auto model = open_model(args->positional()[0], true);
  if (!model) return fail(model.error(), json);
  const auto t_load = std::chrono::steady_clock::now();
  auto weights = load_model(*model->checkpoint, model->config, nullptr, !streaming);
  if (!weights) return fail(weights.error(), json);
  const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
  auto windows = calibration_windows(*model->tokenizer, *calib_path, co);
  if (!windows) return fail(windows.error(), json);
  if (streaming) so.hooks = hooks_of(stream_blocks(*model->checkpoint, *weights, nullptr));
  if (so.kind == SensitivityKind::Hessian) so.hooks = walk_on(device, so.hooks, walker_note, walker_used);
  else so.kld_backend = device.kld();
  so.rtn_backend = device.rtn();
  so.error_backend = device.awq_grid();
  if (dry_run && !streaming) {
    // The KLD sensitivity, probed on its progress: its reference pass and the first twentieth of the
    // candidates' measurements, without the cache; the planning itself takes no time.
    so.formats = po.formats;
    so.embeddings = po.embeddings;
    ProgressProbe probe(0.05, &interrupt_token());
    Progress p = probe.progress();
    auto r = measure_sensitivity(*weights, *windows, co.ctx, so, &p, probe.cancel());
    auto e = probe.finish(r ? std::nullopt : std::optional<Error>(r.error()), load_seconds);
    if (!e) return fail(e.error(), json);
    e->blocks = static_cast<int64_t>(weights->blocks.size());
    return print_estimate("plan", {{"sensitivity", kind}, {"formats", po.formats.size()}}, *e, "", "", json);
  }
  if (dry_run) {
    // The probe: the Hessian sensitivities of block 0, streamed; the planning itself takes no time.
    so.formats = po.formats;
    BlockProbe probe(*model->checkpoint, *weights);
    so.hooks = walk_on(device, probe.hooks(), walker_note, walker_used);
    auto r = measure_sensitivity(*weights, *windows, co.ctx, so, nullptr, &interrupt_token());
    auto e = probe.finish(r ? std::nullopt : std::optional<Error>(r.error()), load_seconds);
    if (!e) return fail(e.error(), json);
    return print_estimate("plan", {{"sensitivity", kind}, {"formats", po.formats.size()}}, *e, "", "", json);
  }
  // What needs no measurement first: the budget against the sizes, the evaluation text.
  if (auto v = check_plan_feasible(*model, *weights, so.kind, po); !v) return fail(v.error(), json);
  std::optional<std::vector<int32_t>> text_ids;
  if (auto text_path = args->get("text")) {
    auto ids = tokenize_file(*model->tokenizer, *text_path);
    if (!ids) return fail(ids.error(), json);
    if (auto v = one_window_of_text(ids->size(), co.ctx, *text_path); !v) return fail(v.error(), json);
    text_ids = std::move(*ids);
  }
  so.formats = po.formats;
  so.embeddings = po.embeddings;
  so.model_id = std::filesystem::weakly_canonical(args->positional()[0]).string();
  so.cache = args->get("cache").value_or((std::filesystem::path(*out_path).parent_path() / ".lowbit-sensitivity.json").string());
  Progress sprog = progress.sub(0.0, args->get("text") ? 0.85 : 1.0);
  auto sens = measure_sensitivity(*weights, *windows, co.ctx, so, &sprog, &interrupt_token());
  if (!sens) {
    term.finish();
    return fail(sens.error(), json);
  }
  auto plan = plan_layout(*model, *weights, *sens, po);
  if (!plan) {
    term.finish();
    return fail(plan.error(), json);
  }
  double predicted = plan->predicted_ppl(sens->nll_ref);
  std::optional<double> baseline;
  if (text_ids) {
    PplOptions pp;
    pp.ctx = co.ctx;
    Progress eprog = progress.sub(0.85, 1.0);
    auto base = evaluate_perplexity(*weights, *text_ids, pp, &eprog, &interrupt_token());
    if (!base) {
      term.finish();
      return fail(base.error(), json);
    }
    baseline = base->ppl;
    predicted = base->ppl * std::exp(plan->total_dnll);  // NaN for the Hessian kind: no prediction
  }
  term.finish();
  const bool predicts = !std::isnan(predicted);
  plan->layout.predicted = {{"ppl", predicts ? nlohmann::json(predicted) : nlohmann::json(nullptr)},
                            {"sensitivity", kind},
                            {"ppl_text", args->get("text").value_or("")},
                            {"ppl_unquantized", baseline ? nlohmann::json(*baseline) : predicts ? nlohmann::json(std::exp(sens->nll_ref)) : nlohmann::json(nullptr)},
                            {"file_bytes", plan->file_bytes},
                            {"exact_size", plan->exact_size},
                            {"bits_per_weight", plan->bits_per_weight},
                            {"budget_bytes", plan->budget_bytes},
                            {"cost_sum", plan->total_kld},
                            {"dnll_sum", plan->total_dnll},
                            {"calibration", {{"file", *calib_path}, {"samples", co.samples}, {"ctx", co.ctx}, {"seed", co.seed}}}};
  if (auto v = write_layout(plan->layout, *out_path); !v) return fail(v.error(), json);
  if (!walker_note.empty()) warnings.push_back("calibration on the CPU: " + walker_note);
  warnings.insert(warnings.end(), sens->warnings.begin(), sens->warnings.end());
  const std::string used = so.kind == SensitivityKind::Kld ? sens->backend : walker_used.empty() ? "cpu" : walker_used;
  warnings.insert(warnings.end(), plan->warnings.begin(), plan->warnings.end());
  for (const auto& w : warnings) std::fprintf(stderr, "lowbit: warning: %s\n", w.c_str());
  if (json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : plan->rows)
      rows.push_back({{"tensor", r.tensor}, {"block", r.block}, {"rows", r.rows}, {"cols", r.cols}, {"format", r.format},
                      {"bytes", r.bytes}, {"kld", r.kld}, {"dnll", r.dnll}});
    print_json({{"ok", true}, {"layout", *out_path}, {"file_bytes", plan->file_bytes}, {"bits_per_weight", plan->bits_per_weight},
                {"budget_bytes", plan->budget_bytes}, {"predicted_ppl", predicts ? nlohmann::json(predicted) : nlohmann::json(nullptr)},
                {"sensitivity_kind", kind}, {"cost_sum", plan->total_kld},
                {"sensitivity", {{"measured", sens->measured}, {"cached", sens->cached}, {"seconds", sens->seconds}, {"cache", so.cache.string()}}},
                {"tensors", rows}, {"warnings", warnings}, {"backend", used}, {"streamed", streaming},
                {"peak_rss_mb", peak_rss_mb()}});
    return kOk;
  }
  std::printf("layout %s: %.0f bytes, %.4f bits per weight (budget %llu bytes)", out_path->c_str(),
              static_cast<double>(plan->file_bytes), plan->bits_per_weight, static_cast<unsigned long long>(plan->budget_bytes));
  if (predicts) std::printf(", predicted ppl %.4f", predicted);
  std::printf("\n");
  std::printf("sensitivity: %lld measured, %lld cached, %.1f s\n", static_cast<long long>(sens->measured),
              static_cast<long long>(sens->cached), sens->seconds);
  return kOk;
}

}  // namespace lowbit::cli
