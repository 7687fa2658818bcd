// lowbit ppl MODEL --text FILE [--ctx N] [--method strided|llama.cpp] [--reference MODEL2] [--kld]
//                  [--layout L.json [--calib FILE --samples N --calib-ctx N --seed S]]
//                  [--backend cpu|vulkan [--device N] [--max-device-mb MB]] [--stream [--dry-run]] ...
// With --layout the model is quantized in memory as the layout says before it is evaluated (on the
// Vulkan backend: its dequantized weights in fp32). A Vulkan device that cannot be opened, or a model
// the Vulkan forward pass does not support, falls back to the CPU with one warning; running out of
// device memory or losing the device during the job fails it. --stream (and, on its own, a model whose
// fp32 weights would not fit in memory) reads the model block by block from its checkpoint for every
// batch of windows: one decoder block in memory.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/dry_run.h"
#include "app/cli/eval_device.h"
#include "app/cli/terminal_progress.h"
#include "core/eval/perplexity.h"
#include "core/io/mapped_file.h"
#include "core/model/forward.h"
#include "core/model/model.h"
#include "core/plan/layout.h"

namespace lowbit::cli {
namespace {

// The model's (and reference's) backend: Vulkan where the device is open and supports the model
// (the reference then on the same backend), else the CPU with a warning. Errors other than an
// unsupported model (out of device memory, a lost device) fail.
struct Backends {
  std::unique_ptr<ForwardBackend> model, reference;
};

Expected<void> make_backends(Backends& b, const EvalDevice& device, const ModelWeights& model, const ModelWeights* reference,
                             std::vector<std::string>& warnings) {
  std::string note;
  LB_TRY_ASSIGN(b.model, make_forward(device.forward(), model, &note));
  if (!note.empty()) warnings.push_back("the Vulkan forward pass does not support this model (" + note + ")");
  if (reference) {
    LB_TRY_ASSIGN(b.reference, make_forward(b.model->name() == "cpu" ? ForwardFactory() : device.forward(), *reference));
  }
  return {};
}

}  // namespace

int run_ppl(const std::vector<std::string>& argv) {
  std::string err;
  auto args = Args::parse(argv, {{"text", "ctx", "method", "reference", "backend", "threads", "max-windows", "device", "layout", "calib", "samples",
                                  "calib-ctx", "seed", "max-device-mb"},
                                 {"json", "kld", "quiet", "stream", "dry-run"}, {}},
                          err);
  const bool json = args && args->flag("json");
  if (!args) return usage_error("ppl", err, json);
  if (args->positional().size() != 1) return usage_error("ppl", "expects one MODEL", json);
  const auto text_path = args->get("text");
  if (!text_path) return usage_error("ppl", "--text FILE is required", json);
  PplOptions opt;
  opt.ctx = args->get_int("ctx", 256, err);
  opt.max_windows = args->get_int("max-windows", 0, err);
  CalibOptions calib_opt;
  calib_opt.samples = args->get_int("samples", 128, err);
  calib_opt.ctx = args->get_int("calib-ctx", 256, err);
  calib_opt.seed = static_cast<uint64_t>(args->get_int("seed", 0, err));
  const long long threads = args->get_int("threads", 0, err);
  if (!err.empty()) return usage_error("ppl", err, json);
  if (!apply_threads(threads, err)) return usage_error("ppl", err, json);
  const auto method = ppl_method_from_name(args->get("method").value_or("strided"));
  if (!method) return usage_error("ppl", "--method must be strided or llama.cpp", json);
  opt.method = *method;
  const auto backend = parse_backend(*args, err);
  if (!backend) return usage_error("ppl", err, json);
  if (args->flag("kld") && !args->get("reference"))
    return usage_error("ppl", "--kld needs --reference MODEL2 (the model to compare against)", json);
  if (auto v = opt.validate(); !v) return usage_error("ppl", v.error().message, json);

  std::vector<std::string> warnings;
  EvalDevice device;  // declared before the engines made on it, so it outlives them
  Backends backends;
  if (const std::string bad = device.open(*backend, warnings); !bad.empty()) return usage_error("ppl", bad, json);

  TerminalProgress term(args->flag("quiet"));
  Progress progress = term.sink();
  auto model = open_model(args->positional()[0], true);
  if (!model) return fail(model.error(), json);
  auto text = read_text_file(*text_path);
  if (!text) return fail(text.error(), json);
  // llama.cpp's method tokenizes with the special tokens its tokenizer adds (BOS); strided never does.
  const bool add_bos = opt.method == PplMethod::LlamaCpp && model->tokenizer->adds_bos();
  if (opt.method == PplMethod::LlamaCpp && model->tokenizer->adds_bos()) opt.bos = model->tokenizer->bos_id();
  auto ids = tokenize_text(*model->tokenizer, *text, add_bos, *text_path);
  if (!ids) return fail(ids.error(), json);
  if (auto v = one_window_of_text(ids->size(), opt.ctx, *text_path); !v) return fail(v.error(), json);
  if (!model->config.learned_positions && model->config.max_positions > 0 && opt.ctx > model->config.max_positions)
    warnings.push_back("--ctx " + std::to_string(opt.ctx) + " is beyond the " + std::to_string(model->config.max_positions) +
                       " positions the model was trained on (max_position_embeddings): its perplexity there is not its quality");

  // Streaming (one decoder block in memory at a time, StreamedCpuForward): --stream, or on its own
  // when the model's fp32 weights would take more than 60 % of this machine's memory.
  const bool plain = !args->get("layout") && !args->get("reference") && !backend->vulkan;
  if (args->flag("stream") && !plain)
    return usage_error("ppl", "--stream evaluates the model as stored on the CPU: not with --layout, --reference or --backend vulkan", json);
  double fp32_bytes = 0;
  for (const auto& t : model->checkpoint->tensors()) fp32_bytes += 4.0 * static_cast<double>(t.numel());
  const double memory = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  const bool streaming = plain && (args->flag("stream") || fp32_bytes > 0.6 * memory);
  if (streaming && !args->flag("stream"))
    warnings.push_back("the model's fp32 weights (" + std::to_string(static_cast<int64_t>(fp32_bytes / 1e9)) +
                       " GB) would not fit in memory: evaluated block by block from the checkpoint");
  if (streaming && opt.batch_windows == 0) opt.batch_windows = std::clamp<int64_t>(8192 / opt.ctx, 1, 64);  // blocks are read once per batch
  // --dry-run of a resident evaluation: the run itself, probed on its progress (ProgressProbe), until
  // a tenth of the evaluation has passed (the layout's quantization, if any, is run whole).
  std::optional<ProgressProbe> probe;
  const bool quantizing = args->get("layout").has_value();
  if (args->flag("dry-run") && !streaming) {
    term.finish();
    probe.emplace(quantizing ? 0.46 : 0.145, &interrupt_token(), quantizing ? 0.4 : 0.05);
    progress = probe->progress();
  }
  const CancelToken* cancel = probe ? probe->cancel() : &interrupt_token();
  Progress load_progress = progress.sub(0.0, 0.05);
  const auto t_load = std::chrono::steady_clock::now();
  auto weights = load_model(*model->checkpoint, model->config, &load_progress, !streaming);
  if (!weights) return fail(weights.error(), json);
  if (args->flag("dry-run") && streaming) {
    term.finish();
    const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
    auto e = estimate_streamed_perplexity(*model->checkpoint, *weights, *ids, opt, load_seconds);
    if (!e) return fail(e.error(), json);
    return print_estimate("ppl", {{"ctx", opt.ctx}, {"batch_windows", opt.batch_windows}}, *e, "", "", json);
  }
  std::optional<ModelWeights> reference;
  if (auto ref_path = args->get("reference")) {
    auto ref_model = open_model(*ref_path, false);
    if (!ref_model) return fail(ref_model.error(), json);
    auto rw = load_model(*ref_model->checkpoint, ref_model->config);
    if (!rw) return fail(rw.error(), json);
    reference = std::move(*rw);
  }
  std::optional<QuantizeResult> quantized;
  if (auto lp = args->get("layout")) {
    auto layout = read_layout(*lp);
    if (!layout) return fail(layout.error(), json);
    if (auto v = layout->validate(*weights); !v) return fail({v.error().code, *lp + ": " + v.error().message}, json);
    QuantizeOptions qo = layout->options(*weights);
    qo.calib = calib_opt;
    if (auto v = qo.validate(); !v) return fail(v.error(), json);
    std::vector<int32_t> windows;
    if (qo.method != QuantMethod::Rtn) {
      const auto calib_path = args->get("calib");
      if (!calib_path) return usage_error("ppl", std::string("the layout's method ") + quant_method_name(qo.method) + " needs --calib FILE", json);
      auto w = calibration_windows(*model->tokenizer, *calib_path, calib_opt);
      if (!w) return fail(w.error(), json);
      windows = std::move(*w);
    }
    Progress qp = progress.sub(0.05, 0.4);
    auto q = quantize_model(*weights, qo, windows, &qp, cancel);
    if (!q) {
      term.finish();
      return fail(q.error(), json);
    }
    for (const auto& w : q->warnings) warnings.push_back(w);
    quantized = std::move(*q);
  }
  if (streaming) {
    backends.model = std::make_unique<StreamedCpuForward>(*model->checkpoint, *weights);
  } else if (auto made = make_backends(backends, device, *weights, reference ? &*reference : nullptr, warnings); !made) {
    term.finish();
    return fail(made.error(), json);
  }
  Progress eval_progress = progress.sub(quantized ? 0.4 : 0.05, 1.0);
  auto r = evaluate_perplexity(*backends.model, *ids, opt, &eval_progress, cancel, backends.reference.get());
  term.finish();
  if (probe) {
    auto e = probe->finish(r ? std::nullopt : std::optional<Error>(r.error()), 0);
    if (!e) return fail(e.error(), json);
    e->blocks = static_cast<int64_t>(weights->blocks.size());
    return print_estimate("ppl", {{"ctx", opt.ctx}, {"backend", backends.model->name()}, {"warnings", warnings}}, *e, "", "", json);
  }
  if (!r) return fail(r.error(), json);

  for (const auto& w : warnings) std::fprintf(stderr, "lowbit: warning: %s\n", w.c_str());
  if (json) {
    nlohmann::json out = {{"ok", true},
                          {"ppl", r->ppl},
                          {"ppl_stderr", r->ppl_stderr},
                          {"nll_mean", r->nll_mean},
                          {"tokens_scored", r->tokens_scored},
                          {"windows", r->windows},
                          {"ctx", opt.ctx},
                          {"method", ppl_method_name(r->method)},
                          {"text_tokens", ids->size()},
                          {"seconds", r->seconds},
                          {"tokens_per_second", r->tokens_per_second},
                          {"backend", backends.model->name()},
                          {"device", backends.model->device()},
                          {"threads", compute_threads()},
                          {"streamed", streaming},
                          {"peak_rss_mb", peak_rss_mb()},
                          {"warnings", warnings}};
    if (quantized) out["layout"] = {{"file", *args->get("layout")}, {"bits_per_weight", quantized->bits_per_weight},
                                    {"quantized_weights", quantized->quantized_weights}, {"seconds", quantized->seconds}};
    if (r->kld)
      out["kld"] = {{"mean", r->kld->mean}, {"p99", r->kld->p99}, {"top1_agreement", r->kld->top1_agreement},
                    {"positions", r->kld->positions}};
    print_json(out);
    return kOk;
  }
  std::printf("ppl %.4f ± %.4f  (%s, ctx %lld, %lld windows, %lld tokens scored)\n", r->ppl, r->ppl_stderr,
              ppl_method_name(r->method), static_cast<long long>(opt.ctx), static_cast<long long>(r->windows),
              static_cast<long long>(r->tokens_scored));
  std::printf("%.1f s, %.0f tokens/s on %s (%s)\n", r->seconds, r->tokens_per_second, backends.model->name().c_str(),
              backends.model->device().c_str());
  if (r->kld)
    std::printf("KLD mean %.6f, p99 %.6f, top-1 agreement %.2f%%\n", r->kld->mean, r->kld->p99, 100.0 * r->kld->top1_agreement);
  return kOk;
}

}  // namespace lowbit::cli
