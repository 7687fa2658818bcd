// lowbit compare MODEL --layouts A.json B.json ... [--uniform q3_k,q4_k] --text FILE [--ctx N] [--max-windows N]
//                      [--calib FILE --samples N --calib-ctx N --seed S] [--quantize-embeddings]
// Evaluates several layouts (and uniform formats) of one model in one run: for each, the size of its
// GGUF export (exact; an estimate for int formats), bits per weight of the whole file, perplexity and
// KL divergence against the unquantized model on the same windows, and the time it took.
#include <chrono>
#include <cstdio>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/terminal_progress.h"
#include "core/eval/perplexity.h"
#include "core/export/gguf_export.h"
#include "core/io/mapped_file.h"
#include "core/model/model.h"
#include "core/plan/layout.h"

namespace lowbit::cli {

int run_compare(const std::vector<std::string>& argv) {
  std::string err;
  auto args = Args::parse(argv,
                          {{"text", "ctx", "max-windows", "uniform", "calib", "samples", "calib-ctx", "seed", "threads", "method",
                            "backend", "device"},
                           {"json", "quiet", "quantize-embeddings"},
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
  if (args->get("backend").value_or("cpu") != "cpu") return fail({ErrorCode::Unsupported, "--backend vulkan is not implemented for compare yet"}, json);

  TerminalProgress term(args->flag("quiet"));
  Progress progress = term.sink();
  auto model = open_model(args->positional()[0], true);
  if (!model) return fail(model.error(), json);
  auto original = load_model(*model->checkpoint, model->config);
  if (!original) return fail(original.error(), json);
  // The candidates: the layouts as given, then the uniform formats.
  std::vector<std::pair<std::string, Layout>> candidates;
  for (const auto& p : layout_paths) {
    auto l = read_layout(p);
    if (!l) return fail(l.error(), json);
    if (auto v = l->validate(*original); !v) return fail({v.error().code, p + ": " + v.error().message}, json);
    candidates.emplace_back(p, std::move(*l));
  }
  for (const Format& f : uniform)
    candidates.emplace_back(f.name(), Layout::uniform(*original, f, *uniform_method, args->flag("quantize-embeddings")));

  auto text = read_text_file(*text_path);
  if (!text) return fail(text.error(), json);
  auto ids = tokenize_text(*model->tokenizer, *text, false, *text_path);
  if (!ids) return fail(ids.error(), json);
  std::vector<int32_t> windows;
  bool need_calib = false;
  for (const auto& [name, l] : candidates) need_calib = need_calib || l.method != QuantMethod::Rtn;
  if (need_calib) {
    const auto calib_path = args->get("calib");
    if (!calib_path) return usage_error("compare", "a layout's method needs --calib FILE", json);
    auto w = calibration_windows(*model->tokenizer, *calib_path, co);
    if (!w) return fail(w.error(), json);
    windows = std::move(*w);
  }

  nlohmann::json rows = nlohmann::json::array();
  const double n = static_cast<double>(candidates.size());
  int64_t params = 0;
  for (const auto& t : model->checkpoint->tensors()) params += t.numel();
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto& [name, layout] = candidates[i];
    const auto t0 = std::chrono::steady_clock::now();
    ModelWeights w = *original;
    QuantizeOptions qo = layout.options(w);
    qo.calib = co;
    if (auto v = qo.validate(); !v) return fail({v.error().code, name + ": " + v.error().message}, json);
    Progress qp = progress.sub(static_cast<double>(i) / n, (static_cast<double>(i) + 0.5) / n);
    auto q = quantize_model(w, qo, windows, &qp, &interrupt_token());
    if (!q) {
      term.finish();
      return fail({q.error().code, name + ": " + q.error().message}, json);
    }
    Progress ep = progress.sub((static_cast<double>(i) + 0.5) / n, (static_cast<double>(i) + 1) / n);
    auto r = evaluate_perplexity(w, *ids, po, &ep, &interrupt_token(), &*original);
    if (!r) {
      term.finish();
      return fail({r.error().code, name + ": " + r.error().message}, json);
    }
    auto size = gguf_file_size(*model, *original, layout.tensors);
    nlohmann::json row = {{"name", name}, {"method", quant_method_name(layout.method)}, {"ppl", r->ppl}, {"ppl_stderr", r->ppl_stderr},
                          {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
    if (size) {
      row["file_bytes"] = *size;
      row["bits_per_weight"] = 8.0 * static_cast<double>(*size) / static_cast<double>(params);
    } else {
      row["file_bytes"] = nullptr;
      row["bits_per_weight_linear"] = q->bits_per_weight;
    }
    if (r->kld) row["kld"] = {{"mean", r->kld->mean}, {"p99", r->kld->p99}, {"top1_agreement", r->kld->top1_agreement}};
    if (!layout.predicted.is_null() && layout.predicted.contains("ppl")) row["predicted_ppl"] = layout.predicted["ppl"];
    rows.push_back(std::move(row));
  }
  term.finish();
  if (json) {
    print_json({{"ok", true}, {"text", *text_path}, {"ctx", po.ctx}, {"parameters", params}, {"results", rows}, {"backend", "cpu"}});
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
