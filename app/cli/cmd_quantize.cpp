// lowbit quantize MODEL --method rtn|gptq|awq|awq+gptq --format FMT [--calib FILE --samples N --ctx N --seed S]
//                       [--act-order] [--weighted-grids (gptq onto ggml types)]
//                       [--mse] [--no-clip (awq)] [--damp X] [--eval FILE] [--eval-ctx N]
#include <cstdio>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/terminal_progress.h"
#include "core/calib/calibration.h"
#include "core/eval/perplexity.h"
#include "core/io/mapped_file.h"
#include "core/model/model.h"
#include "core/quant/quantize_model.h"

namespace lowbit::cli {

int run_quantize(const std::vector<std::string>& argv) {
  std::string err;
  auto args = Args::parse(argv,
                          {{"method", "format", "calib", "samples", "ctx", "seed", "damp", "eval", "eval-ctx", "threads",
                            "out", "backend", "device", "layout"},
                           {"json", "act-order", "static-groups", "mse", "no-clip", "weighted-grids", "quiet", "quantize-embeddings", "resume", "dry-run"},
                           {}},
                          err);
  const bool json = args && args->flag("json");
  if (!args) return usage_error("quantize", err, json);
  if (args->positional().size() != 1) return usage_error("quantize", "expects one MODEL", json);
  QuantizeOptions opt;
  const auto method = quant_method_from_name(args->get("method").value_or("rtn"));
  if (!method) return usage_error("quantize", "--method must be rtn, gptq, awq or awq+gptq (cbq, onebit are not implemented yet)", json);
  opt.method = *method;
  const auto fmt_name = args->get("format");
  if (!fmt_name) return usage_error("quantize", "--format FMT is required (e.g. int4g128a, q4_k, q8_0)", json);
  const auto fmt = Format::parse(*fmt_name);
  if (!fmt) return usage_error("quantize", "unknown format '" + *fmt_name + "'", json);
  opt.format = *fmt;
  opt.mse_clip = args->flag("mse");
  opt.quantize_embeddings = args->flag("quantize-embeddings");
  opt.awq.clip = !args->flag("no-clip");
  opt.gptq.act_order = args->flag("act-order");
  opt.gptq.static_groups = args->flag("static-groups");
  opt.gptq.weighted_grids = args->flag("weighted-grids");
  opt.gptq.damp = args->get_double("damp", 0.01, err);
  opt.calib.samples = args->get_int("samples", 128, err);
  opt.calib.ctx = args->get_int("ctx", 256, err);
  opt.calib.seed = static_cast<uint64_t>(args->get_int("seed", 0, err));
  const int64_t eval_ctx = args->get_int("eval-ctx", 256, err);
  const long long threads = args->get_int("threads", 0, err);
  if (!err.empty()) return usage_error("quantize", err, json);
  if (!apply_threads(threads, err)) return usage_error("quantize", err, json);
  for (const char* unsupported : {"out", "layout", "backend", "device"})
    if (args->get(unsupported) && !(std::string(unsupported) == "backend" && args->get("backend") == "cpu"))
      return fail({ErrorCode::Unsupported, std::string("--") + unsupported + " is not implemented yet"}, json);
  for (const char* unsupported : {"resume", "dry-run"})
    if (args->flag(unsupported)) return fail({ErrorCode::Unsupported, std::string("--") + unsupported + " is not implemented yet"}, json);
  if (auto v = opt.validate(); !v) return fail(v.error(), json);
  const auto calib_path = args->get("calib");
  if (opt.method != QuantMethod::Rtn && !calib_path)
    return usage_error("quantize", std::string("--method ") + quant_method_name(opt.method) + " needs --calib FILE", json);

  TerminalProgress term(args->flag("quiet"));
  Progress progress = term.sink();
  // The tokenizer is needed only to read text (calibration, evaluation).
  auto model = open_model(args->positional()[0], calib_path.has_value() || args->get("eval").has_value());
  if (!model) return fail(model.error(), json);
  auto weights = load_model(*model->checkpoint, model->config);
  if (!weights) return fail(weights.error(), json);

  std::vector<int32_t> calib;
  if (calib_path && opt.method != QuantMethod::Rtn) {
    auto text = read_text_file(*calib_path);
    if (!text) return fail(text.error(), json);
    auto ids = tokenize_text(*model->tokenizer, *text, false, *calib_path);
    if (!ids) return fail(ids.error(), json);
    auto windows = draw_windows(*ids, opt.calib);
    if (!windows) return fail({windows.error().code, *calib_path + ": " + windows.error().message}, json);
    calib = std::move(*windows);
  }
  const bool eval = args->get("eval").has_value();
  Progress qprog = progress.sub(0.0, eval ? 0.6 : 1.0);
  auto r = quantize_model(*weights, opt, calib, &qprog, &interrupt_token());
  if (!r) {
    term.finish();
    return fail(r.error(), json);
  }
  std::optional<PplResult> ppl;
  if (eval) {
    auto text = read_text_file(*args->get("eval"));
    if (!text) return fail(text.error(), json);
    auto ids = tokenize_text(*model->tokenizer, *text, false, *args->get("eval"));
    if (!ids) return fail(ids.error(), json);
    PplOptions po;
    po.ctx = eval_ctx;
    Progress eprog = progress.sub(0.6, 1.0);
    auto p = evaluate_perplexity(*weights, *ids, po, &eprog, &interrupt_token());
    if (!p) {
      term.finish();
      return fail(p.error(), json);
    }
    ppl = *p;
  }
  term.finish();
  for (const auto& w : r->warnings) std::fprintf(stderr, "lowbit: warning: %s\n", w.c_str());

  if (json) {
    nlohmann::json layers = nlohmann::json::array();
    const bool awq = opt.method == QuantMethod::Awq || opt.method == QuantMethod::AwqGptq;
    for (const auto& l : r->layers) {
      nlohmann::json j = {{"tensor", l.tensor}, {"part", l.part}, {"format", l.format}, {"rows", l.rows}, {"cols", l.cols},
                          {"weight_rel_error", l.weight_rel_error}, {"output_rel_error", l.output_rel_error}, {"seconds", l.seconds}};
      if (awq) {
        j["awq_alpha"] = l.awq_alpha >= 0 ? nlohmann::json(l.awq_alpha) : nlohmann::json(nullptr);
        j["awq_clip"] = l.awq_clip >= 0 ? nlohmann::json(l.awq_clip) : nlohmann::json(nullptr);
      }
      if (!l.note.empty()) j["note"] = l.note;
      layers.push_back(std::move(j));
    }
    nlohmann::json out = {{"ok", true}, {"method", quant_method_name(opt.method)}, {"format", opt.format.name()},
                          {"bits_per_weight", r->bits_per_weight}, {"quantized_weights", r->quantized_weights},
                          {"seconds", r->seconds}, {"layers", layers}, {"warnings", r->warnings}, {"backend", "cpu"},
                          {"mse", opt.mse_clip}, {"quantize_embeddings", opt.quantize_embeddings},
                          {"peak_rss_mb", peak_rss_mb()}};
    if (opt.method != QuantMethod::Rtn)
      out["calibration"] = {{"file", *calib_path}, {"samples", opt.calib.samples}, {"ctx", opt.calib.ctx}, {"seed", opt.calib.seed},
                            {"act_order", opt.gptq.act_order}, {"damp", opt.gptq.damp},
                            {"weighted_grids", opt.gptq.weighted_grids}};
    if (awq) out["awq"] = {{"alpha_grid", opt.awq.alpha_grid}, {"clip", opt.awq.clip}, {"clip_min", opt.awq.clip_min}, {"clip_steps", opt.awq.clip_steps}};
    if (ppl) out["ppl"] = ppl->ppl, out["eval"] = {{"ctx", eval_ctx}, {"tokens_scored", ppl->tokens_scored}, {"windows", ppl->windows}};
    print_json(out);
    return kOk;
  }
  std::printf("%s %s: %lld weights in %zu layers at %.4f bits per weight, %.1f s, peak memory %.0f MB\n",
              quant_method_name(opt.method), opt.format.name().c_str(), static_cast<long long>(r->quantized_weights),
              r->layers.size(), r->bits_per_weight, r->seconds, peak_rss_mb());
  if (ppl) std::printf("ppl %.4f (strided, ctx %lld, %lld tokens scored)\n", ppl->ppl, static_cast<long long>(eval_ctx),
                       static_cast<long long>(ppl->tokens_scored));
  return kOk;
}

}  // namespace lowbit::cli
