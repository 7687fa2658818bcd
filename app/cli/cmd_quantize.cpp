// lowbit quantize MODEL --method rtn|gptq|awq|awq+gptq (--format FMT | --layout L.json) [--calib FILE --samples N
//                       --ctx N --seed S] [--act-order] [--weighted-grids (gptq onto ggml types)]
//                       [--mse] [--no-clip (awq)] [--awq-grid N (awq: α points)] [--damp X] [--eval FILE] [--eval-ctx N] [--out PATH [--to gguf|gptq]]
//                       [--resume (gptq, awq, awq+gptq: continue an interrupted run from PATH.resume/)] [--dry-run]
//                       [--backend cpu|vulkan [--device N] [--max-device-mb MB] (rtn, gptq's sweep, awq's α grid and clip
//                        search and the calibration on the GPU)] [--calib-backend cpu|vulkan (the calibration's own; default --backend)]
//                       [--factor-backend cpu|vulkan (GPTQ's inverse Cholesky factor; default --backend)]
// lowbit quantize MODEL --method onebit [--format onebit] --calib FILE [--onebit-iters N (per block; 0: SVID alone)]
//                       [--onebit-lr X] [--onebit-latent-lr X] [--onebit-batch N] [--onebit-kd [--onebit-kd-weight X]]
//                       [--eval FILE] [--out DIR (a onebit checkpoint folder, core/io/onebit_format.h)]
// lowbit quantize MODEL --method cbq --format int{b}g{g}{a|s} --calib FILE [--cbq-window K] [--cbq-iters N (per window)]
//                       [--cbq-lr X] [--cbq-scale-lr X] [--cbq-rank R] [--cbq-lambda X] [--cbq-batch N] [--cbq-samples N]
//                       [--cbq-kl X] [--cbq-kappa X] [--no-cfp] [--eval FILE] [--out PATH (gptq)]
// lowbit export   MODEL --layout L.json --to gguf|gptq --out PATH [--calib FILE ...]: the same run, the
//                       layout's method, and the file written is the point.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/dry_run.h"
#include "app/cli/eval_device.h"
#include "app/cli/terminal_progress.h"
#include "core/calib/calibration.h"
#include "core/eval/perplexity.h"
#include "core/export/gguf_export.h"
#include "core/export/gptq_checkpoint.h"
#include "core/export/onebit_checkpoint.h"
#include "core/io/mapped_file.h"
#include "core/model/model.h"
#include "core/plan/layout.h"
#include "core/quant/quantize_model.h"

namespace lowbit::cli {

namespace {

int quantize_or_export(const std::vector<std::string>& argv, const std::string& command) {
  std::string err;
  auto args = Args::parse(argv,
                          {{"method", "format", "calib", "samples", "ctx", "seed", "damp", "awq-grid", "eval", "eval-ctx", "threads",
                            "out", "backend", "calib-backend", "factor-backend", "device", "max-device-mb", "layout", "to", "name",
                            "onebit-iters", "onebit-lr", "onebit-latent-lr", "onebit-batch", "onebit-kd-weight",
                            "cbq-window", "cbq-iters", "cbq-lr", "cbq-scale-lr", "cbq-rank", "cbq-lambda", "cbq-batch",
                            "cbq-samples", "cbq-kl", "cbq-kappa"},
                           {"json", "act-order", "static-groups", "mse", "no-clip", "weighted-grids", "quiet", "quantize-embeddings", "resume", "dry-run", "onebit-kd", "no-cfp"},
                           {}},
                          err);
  const bool json = args && args->flag("json");
  const char* cmd = command.c_str();
  if (!args) return usage_error(cmd, err, json);
  if (args->positional().size() != 1) return usage_error(cmd, "expects one MODEL", json);
  if (auto clash = args->output_clash({"out"}, {"calib", "eval", "layout"}); !clash.empty()) return usage_error(cmd, clash, json);
  const bool is_export = command == "export";
  std::optional<Layout> layout;
  if (auto lp = args->get("layout")) {
    if (args->get("format")) return usage_error(cmd, "give --format or --layout, not both", json);
    auto l = read_layout(*lp);
    if (!l) return fail(l.error(), json);
    layout = std::move(*l);
  } else if (is_export) {
    return usage_error(cmd, "--layout L.json is required", json);
  }
  QuantizeOptions opt;
  const auto method = quant_method_from_name(args->get("method").value_or(layout ? quant_method_name(layout->method) : "rtn"));
  if (!method) return usage_error(cmd, "--method must be rtn, gptq, awq, awq+gptq, onebit or cbq", json);
  if (layout && args->get("method") && *method != layout->method)
    return usage_error(cmd, std::string("--method ") + quant_method_name(*method) + " differs from the layout's method " +
                                quant_method_name(layout->method), json);
  opt.method = *method;
  if (!layout && opt.method == QuantMethod::OneBit && !args->get("format")) opt.format = *Format::parse("onebit");
  if (!layout && !(opt.method == QuantMethod::OneBit && !args->get("format"))) {
    const auto fmt_name = args->get("format");
    if (!fmt_name) return usage_error(cmd, "--format FMT or --layout L.json is required (e.g. int4g128a, q4_k, q8_0)", json);
    const auto fmt = Format::parse(*fmt_name);
    if (!fmt) return usage_error(cmd, "unknown format '" + *fmt_name + "'", json);
    opt.format = *fmt;
  }
  // Where the result goes: --to, or from the name (a .gguf file, else a GPTQ checkpoint folder).
  const auto out_path = args->get("out");
  const bool onebit = opt.method == QuantMethod::OneBit;
  std::string to = args->get("to").value_or(onebit ? "onebit" : out_path && std::filesystem::path(*out_path).extension() == ".gguf" ? "gguf" : "gptq");
  if (is_export && !args->get("to")) return usage_error(cmd, "--to gguf|gptq is required", json);
  if (is_export && !out_path) return usage_error(cmd, "--out PATH is required", json);
  if (to != "gguf" && to != "gptq" && to != "onebit") return usage_error(cmd, "--to must be gguf, gptq or onebit", json);
  if ((to == "onebit") != onebit) return usage_error(cmd, "--method onebit writes (only) a onebit checkpoint folder (--to onebit)", json);
  if (out_path && out_path->empty()) return usage_error(cmd, "--out needs a path", json);
  if (out_path) {  // what is at --out, checked before the work rather than by the writer after it
    std::error_code ec;
    std::filesystem::path out = std::filesystem::path(*out_path).lexically_normal();
    if (!out.has_filename()) out = out.parent_path();  // "dir/" names the folder dir
    const auto parent = out.has_parent_path() ? out.parent_path() : std::filesystem::path(".");
    if (to == "gguf" && std::filesystem::is_directory(out, ec))
      return usage_error(cmd, *out_path + ": is a folder; a GGUF export is a file", json);
    if (to != "gguf" && std::filesystem::exists(out, ec) && !std::filesystem::is_directory(out, ec))
      return usage_error(cmd, *out_path + ": is a file; a " + to + " checkpoint is a folder", json);
    if (!std::filesystem::is_directory(parent, ec))
      return usage_error(cmd, *out_path + ": the folder " + parent.string() + " does not exist", json);
  }
  if (out_path && to == "gptq" && !args->get("to")) {  // a name without .gguf: a GPTQ checkpoint folder, which holds int formats only
    bool ggml = !layout && opt.format.kind == Format::Kind::Ggml;
    if (layout)
      for (const auto& [tensor, f] : layout->tensors) ggml = ggml || f.kind == Format::Kind::Ggml;
    if (ggml)
      return usage_error(cmd, *out_path + ": ggml types are written as GGUF: name the file *.gguf or give --to gguf (a name without .gguf "
                                          "is a GPTQ checkpoint folder, for int formats)", json);
  }
  opt.mse_clip = args->flag("mse");
  opt.quantize_embeddings = args->flag("quantize-embeddings");
  opt.keep_encoded = out_path.has_value();
  // A GPTQ checkpoint stores fp16 scales: choose the codes on fp16 grids so the file is the model evaluated.
  opt.fp16_scales = out_path.has_value() && to == "gptq";
  opt.awq.clip = !args->flag("no-clip");
  const long long awq_grid = args->get_int("awq-grid", opt.awq.alpha_grid, err);
  if (err.empty() && (awq_grid < 1 || awq_grid > 1000)) err = "--awq-grid must be 1 … 1000 points";
  opt.awq.alpha_grid = static_cast<int>(std::clamp(awq_grid, 1LL, 1000LL));
  opt.gptq.act_order = args->flag("act-order");
  opt.gptq.static_groups = args->flag("static-groups");
  opt.gptq.weighted_grids = args->flag("weighted-grids");
  opt.gptq.damp = args->get_double("damp", 0.01, err);
  opt.calib.samples = args->get_int("samples", 128, err);
  opt.calib.ctx = args->get_int("ctx", 256, err);
  opt.calib.seed = static_cast<uint64_t>(args->get_int("seed", 0, err));
  opt.onebit.iterations = args->get_int("onebit-iters", opt.onebit.iterations, err);
  opt.onebit.lr = args->get_double("onebit-lr", opt.onebit.lr, err);
  opt.onebit.latent_lr = args->get_double("onebit-latent-lr", opt.onebit.latent_lr, err);
  opt.onebit.batch = args->get_int("onebit-batch", opt.onebit.batch, err);
  opt.onebit.kd = args->flag("onebit-kd");
  opt.onebit.kd_weight = args->get_double("onebit-kd-weight", opt.onebit.kd_weight, err);
  opt.onebit.seed = opt.calib.seed;
  opt.cbq.window = args->get_int("cbq-window", opt.cbq.window, err);
  opt.cbq.iterations = args->get_int("cbq-iters", opt.cbq.iterations, err);
  opt.cbq.lr = args->get_double("cbq-lr", opt.cbq.lr, err);
  opt.cbq.scale_lr = args->get_double("cbq-scale-lr", opt.cbq.scale_lr, err);
  opt.cbq.rank = args->get_int("cbq-rank", opt.cbq.rank, err);
  opt.cbq.lambda = args->get_double("cbq-lambda", opt.cbq.lambda, err);
  opt.cbq.batch = args->get_int("cbq-batch", opt.cbq.batch, err);
  opt.cbq.samples = args->get_int("cbq-samples", opt.cbq.samples, err);
  opt.cbq.kl_weight = args->get_double("cbq-kl", opt.cbq.kl_weight, err);
  opt.cbq.kappa_end = args->get_double("cbq-kappa", opt.cbq.kappa_end, err);
  opt.cbq.cfp_weights = opt.cbq.cfp_activations = !args->flag("no-cfp");
  opt.cbq.seed = opt.calib.seed;
  const int64_t eval_ctx = args->get_int("eval-ctx", 256, err);
  const long long threads = args->get_int("threads", 0, err);
  if (!err.empty()) return usage_error(cmd, err, json);
  if (eval_ctx < 4) return usage_error(cmd, "--eval-ctx must be at least 4, got " + std::to_string(eval_ctx), json);
  if (!apply_threads(threads, err)) return usage_error(cmd, err, json);
  // --backend vulkan: GPTQ's inverse factor and sweep (gpu/ops/gptq_factor_op.h, gptq_op.h), AWQ's α grid (gpu/ops/awq_op.h) and clip
  // search (gpu/ops/awq_clip_op.h) and the
  // calibration walk (gpu/model/vulkan_block_walker.h) on the GPU; --calib-backend cpu keeps the walk
  // on the CPU (its Hessians, hence the checkpoint, are then the CPU run's bit for bit).
  const auto backend = parse_backend(*args, err);
  if (!backend) return usage_error(cmd, err, json);
  const bool gpu_method = opt.method == QuantMethod::Rtn || opt.method == QuantMethod::Gptq || opt.method == QuantMethod::Awq ||
                          opt.method == QuantMethod::AwqGptq;
  if (backend->vulkan && !gpu_method)
    return fail({ErrorCode::Unsupported, std::string("--backend vulkan runs RTN, GPTQ's sweep and AWQ's α grid and clip search; method ") +
                                             quant_method_name(opt.method) + " runs on the CPU only for now"}, json);
  std::vector<std::string> device_warnings;
  EvalDevice device;
  if (backend->vulkan) {
    if (const std::string bad = device.open(*backend, device_warnings); !bad.empty()) return usage_error(cmd, bad, json);
    opt.rtn_backend = device.rtn();
    opt.awq.backend = device.awq_grid();
    opt.awq.clip_backend = device.awq_clip();
  }
  const std::string calib_backend = args->get("calib-backend").value_or(backend->vulkan ? "vulkan" : "cpu");
  if (calib_backend != "cpu" && calib_backend != "vulkan") return usage_error(cmd, "--calib-backend takes cpu or vulkan", json);
  if (calib_backend == "vulkan" && !backend->vulkan) return usage_error(cmd, "--calib-backend vulkan needs --backend vulkan", json);
  if (calib_backend == "vulkan") opt.calib_walker = device.block_walker();
  // GPTQ's inverse factor (gpu/ops/gptq_factor_op.h) on the GPU by default; --factor-backend cpu keeps
  // the CPU's, so that with --calib-backend cpu too the codes are the CPU run's bit for bit.
  const std::string factor_backend = args->get("factor-backend").value_or(backend->vulkan ? "vulkan" : "cpu");
  if (factor_backend != "cpu" && factor_backend != "vulkan") return usage_error(cmd, "--factor-backend takes cpu or vulkan", json);
  if (factor_backend == "vulkan" && !backend->vulkan) return usage_error(cmd, "--factor-backend vulkan needs --backend vulkan", json);
  if (backend->vulkan) opt.gptq.backend = device.gptq(factor_backend == "vulkan");
  const bool eval = args->get("eval").has_value();
  // Methods that go block by block stream the model when nothing needs it whole (an evaluation
  // does): one decoder block in memory at a time, written to the output as soon as it is final.
  const bool block_method = opt.method == QuantMethod::Rtn || opt.method == QuantMethod::Gptq || opt.method == QuantMethod::Awq ||
                            opt.method == QuantMethod::AwqGptq;
  const bool streaming = out_path && block_method && !eval;
  const bool dry_run = args->flag("dry-run");
  if (dry_run && eval) return usage_error(cmd, "--dry-run estimates a quantization, not an evaluation: drop --eval", json);
  if (args->flag("resume") && !out_path) return usage_error(cmd, "--resume needs --out PATH (the run's results are kept in PATH.resume)", json);
  if (!layout)
    if (auto v = opt.validate(); !v) return fail(v.error(), json);
  // Options this method does not read: said in a warning rather than ignored without a word.
  std::vector<std::string> unused;
  auto not_read = [&](std::initializer_list<QuantMethod> by, std::initializer_list<const char*> options, bool flags) {
    if (std::find(by.begin(), by.end(), opt.method) == by.end()) return;
    for (const char* o : options)
      if (flags ? args->flag(o) : args->get(o).has_value()) unused.push_back(std::string("--") + o);
  };
  not_read({QuantMethod::Rtn}, {"calib", "samples", "ctx", "seed", "calib-backend"}, false);
  not_read({QuantMethod::Rtn, QuantMethod::Awq, QuantMethod::OneBit}, {"damp", "factor-backend"}, false);
  not_read({QuantMethod::Rtn, QuantMethod::Awq, QuantMethod::OneBit}, {"act-order", "static-groups"}, true);
  not_read({QuantMethod::Rtn, QuantMethod::Gptq, QuantMethod::OneBit}, {"awq-grid"}, false);
  not_read({QuantMethod::Rtn, QuantMethod::Gptq, QuantMethod::OneBit}, {"no-clip"}, true);
  std::string unused_note;
  for (const std::string& o : unused) unused_note += (unused_note.empty() ? "" : ", ") + o;
  if (!unused_note.empty()) unused_note = std::string("--method ") + quant_method_name(opt.method) + " does not use " + unused_note;
  const auto calib_path = args->get("calib");
  if (opt.method != QuantMethod::Rtn && !calib_path && !(onebit && opt.onebit.iterations == 0))
    return usage_error(cmd, std::string("--method ") + quant_method_name(opt.method) + " needs --calib FILE", json);
  if (out_path)
    if (auto v = check_not_source(args->positional()[0], *out_path); !v) return fail(v.error(), json);

  TerminalProgress term(args->flag("quiet"));
  Progress progress = term.sink();
  // The tokenizer is needed only to read text (calibration, evaluation).
  auto model = open_model(args->positional()[0], calib_path.has_value() || args->get("eval").has_value());
  if (!model) return fail(model.error(), json);
  Expected<std::vector<int32_t>> ids = std::vector<int32_t>{};  // --eval's text, read before the quantization
  if (eval) {
    ids = tokenize_file(*model->tokenizer, *args->get("eval"));
    if (!ids) return fail(ids.error(), json);
    if (auto v = one_window_of_text(ids->size(), eval_ctx, *args->get("eval")); !v) return fail(v.error(), json);
  }
  const auto t_load = std::chrono::steady_clock::now();
  // A dry run of a streamed method probes block 0 alone; cbq and onebit hold the whole model.
  auto weights = load_model(*model->checkpoint, model->config, nullptr, !(streaming || (dry_run && block_method)));
  if (!weights) return fail(weights.error(), json);
  const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
  if (layout) {
    if (auto v = layout->validate(*weights); !v) return fail({v.error().code, *args->get("layout") + ": " + v.error().message}, json);
    QuantizeOptions lo = layout->options(*weights);
    lo.method = opt.method;
    lo.mse_clip = opt.mse_clip;
    lo.keep_encoded = opt.keep_encoded;
    lo.fp16_scales = opt.fp16_scales;
    lo.awq = opt.awq;
    lo.gptq = opt.gptq;
    lo.onebit = opt.onebit;
    lo.cbq = opt.cbq;
    lo.calib = opt.calib;
    opt = std::move(lo);
    if (auto v = opt.validate(); !v) return fail(v.error(), json);
  }
  // Export needs the tokenizer too (it goes into the file); open it when the source has one.
  if (out_path && !model->tokenizer && !model->checkpoint->tokenizer_json().empty()) {
    auto with_tok = open_model(args->positional()[0], true);
    if (!with_tok) return fail(with_tok.error(), json);
    model->tokenizer = with_tok->tokenizer;
  }

  // GPTQ and AWQ keep every finished block in OUT.resume/ until the file is written; --resume reuses them.
  std::filesystem::path resume_dir;
  if (out_path && block_method && opt.method != QuantMethod::Rtn) {
    resume_dir = *out_path + ".resume";
    opt.resume_dir = resume_dir;
    opt.resume = args->flag("resume");
    opt.run_id = run_id(args->positional()[0], argv);
  } else if (args->flag("resume")) {
    return fail({ErrorCode::Unsupported, std::string("--resume is supported for methods gptq, awq and awq+gptq, not ") + quant_method_name(opt.method)}, json);
  }

  std::vector<int32_t> calib;
  if (calib_path && opt.method != QuantMethod::Rtn) {
    auto windows = calibration_windows(*model->tokenizer, *calib_path, opt.calib);
    if (!windows) return fail(windows.error(), json);
    calib = std::move(*windows);
  }
  if (dry_run) {
    term.finish();
    return dry_run_quantize(*model, *weights, opt, calib, DryRunTarget{out_path.value_or(""), to, load_seconds}, json);
  }

  // Streaming: the output is declared now, from the formats the quantizer will produce, and each
  // block is written, then freed, as soon as the quantizer is done with it.
  std::optional<GgufStream> gguf_stream;
  std::optional<GptqStream> gptq_stream;
  if (streaming) {
    const auto formats = planned_formats(*weights, opt);
    if (to == "gguf") {
      GgufExportOptions xo;
      xo.name = args->get("name").value_or("");
      auto st = GgufStream::begin(*model, *weights, formats, *out_path, xo);
      if (!st) return fail(st.error(), json);
      gguf_stream.emplace(std::move(*st));
    } else {
      auto st = GptqStream::begin(*model, *weights, formats, *out_path);
      if (!st) return fail(st.error(), json);
      gptq_stream.emplace(std::move(*st));
    }
    opt.stream = stream_blocks(*model->checkpoint, *weights, [&](int64_t b, const EncodedTensors& enc) {
      return gguf_stream ? gguf_stream->write_block(b, enc) : gptq_stream->write_block(b, enc);
    });
  }
  const double q_end = out_path ? (eval ? 0.5 : 0.8) : (eval ? 0.6 : 1.0);
  Progress qprog = progress.sub(0.0, q_end);
  auto r = quantize_model(*weights, opt, calib, &qprog, &interrupt_token());
  if (!r) {
    term.finish();
    return fail(with_resume_note(r.error(), resume_dir.string()), json);
  }
  std::optional<PplResult> ppl;
  if (eval) {
    PplOptions po;
    po.ctx = eval_ctx;
    Progress eprog = progress.sub(q_end, out_path ? 0.8 : 1.0);
    auto p = evaluate_perplexity(*weights, *ids, po, &eprog, &interrupt_token());
    if (!p) {
      term.finish();
      return fail(p.error(), json);
    }
    ppl = *p;
  }
  std::optional<GgufExportReport> exported;
  double onebit_file_bpw = 0;  // bytes of the 1-bit layers' tensors in the file per weight
  // The fields every writer's report shares, in the GGUF report's shape.
  auto common_report = [](const auto& x) {
    GgufExportReport rep;
    rep.path = x.path;
    rep.bytes = x.bytes;
    rep.tensors = x.tensors;
    rep.seconds = x.seconds;
    return rep;
  };
  if (out_path) {
    Progress xprog = progress.sub(0.8, 1.0);
    if (to == "onebit") {
      auto x = export_onebit(*model, *weights, r->onebit.layers, *out_path, &xprog, &interrupt_token());
      if (!x) {
        term.finish();
        return fail(x.error(), json);
      }
      for (const auto& w : x->warnings) r->warnings.push_back(w);
      GgufExportReport rep = common_report(*x);
      for (const auto& t : checkpoint_tensors(*weights)) {
        int64_t n = 1;
        for (int64_t d : t.shape) n *= d;
        rep.parameters += n;
      }
      rep.bits_per_weight = rep.parameters ? 8.0 * static_cast<double>(rep.bytes) / static_cast<double>(rep.parameters) : 0;
      onebit_file_bpw = x->onebit_weights ? 8.0 * static_cast<double>(x->onebit_bytes) / static_cast<double>(x->onebit_weights) : 0;
      exported = std::move(rep);
    } else if (to == "gguf") {
      GgufExportOptions xo;
      xo.name = args->get("name").value_or("");
      auto x = gguf_stream ? gguf_stream->finish(r->encoded, &xprog, &interrupt_token())
                           : export_gguf(*model, *weights, r->encoded, *out_path, xo, &xprog, &interrupt_token());
      if (!x) {
        term.finish();
        return fail(x.error(), json);
      }
      for (const auto& w : x->warnings) r->warnings.push_back(w);
      exported = std::move(*x);
    } else {
      auto x = gptq_stream ? gptq_stream->finish(r->encoded, &xprog, &interrupt_token())
                           : export_gptq(*model, *weights, r->encoded, *out_path, &xprog, &interrupt_token());
      if (!x) {
        term.finish();
        return fail(x.error(), json);
      }
      for (const auto& w : x->warnings) r->warnings.push_back(w);
      exported = common_report(*x);
    }
  }
  term.finish();
  if (!resume_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(resume_dir, ec);  // the file is written: nothing left to resume
  }
  for (const auto& w : device_warnings) r->warnings.push_back(w);
  if (!unused_note.empty()) r->warnings.push_back(unused_note);
  if (r->cpu_fallback_layers > 0)
    r->warnings.push_back(opt.method == QuantMethod::Rtn
                              ? std::to_string(r->cpu_fallback_layers) + " layers ran RTN on the CPU (the device handles the int family "
                                "and every ggml block type, --mse included)"
                              : std::to_string(r->cpu_fallback_layers) + " layers ran GPTQ on the CPU (the Vulkan sweep handles the int "
                                "family — act-order and static groups included — and every ggml block type with --weighted-grids or "
                                "without, but not ggml types with act-order or static groups)");
  for (const auto& w : r->warnings) std::fprintf(stderr, "lowbit: warning: %s\n", w.c_str());
  if (r->resumed_blocks > 0)
    std::fprintf(stderr, "lowbit: resumed: %lld block(s) restored from %s\n", static_cast<long long>(r->resumed_blocks),
                 resume_dir.string().c_str());

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
                          {"seconds", r->seconds}, {"layers", layers}, {"warnings", r->warnings}, {"backend", device.is_open() ? "vulkan" : "cpu"},
                          {"calibration_backend", r->calibration_backend.empty() ? nlohmann::json() : nlohmann::json(r->calibration_backend)},
                          {"mse", opt.mse_clip}, {"quantize_embeddings", opt.quantize_embeddings},
                          {"peak_rss_mb", peak_rss_mb()}, {"streamed", streaming}};
    if (!resume_dir.empty()) out["resumed_blocks"] = r->resumed_blocks;
    if (opt.method != QuantMethod::Rtn && calib_path)
      out["calibration"] = {{"file", *calib_path}, {"samples", opt.calib.samples}, {"ctx", opt.calib.ctx}, {"seed", opt.calib.seed},
                            {"act_order", opt.gptq.act_order}, {"damp", opt.gptq.damp},
                            {"factor_backend", device.is_open() ? factor_backend : std::string("cpu")},
                            {"weighted_grids", opt.gptq.weighted_grids}};
    if (awq) out["awq"] = {{"alpha_grid", opt.awq.alpha_grid}, {"clip", opt.awq.clip}, {"clip_min", opt.awq.clip_min}, {"clip_steps", opt.awq.clip_steps}};
    if (ppl) out["ppl"] = ppl->ppl, out["eval"] = {{"ctx", eval_ctx}, {"tokens_scored", ppl->tokens_scored}, {"windows", ppl->windows}};
    if (layout) out["layout"] = *args->get("layout"), out["format"] = "layout";
    if (onebit) {
      nlohmann::json blocks = nlohmann::json::array();
      for (const auto& b : r->onebit.blocks) {
        nlohmann::json j = {{"block", b.block}, {"mse_svid", b.mse_svid}, {"mse_final", b.mse_final}, {"steps", b.steps},
                            {"seconds", b.seconds}, {"reverted", b.reverted}};
        if (b.kl_svid >= 0) j["kl_svid"] = b.kl_svid, j["kl_final"] = b.kl_final;
        blocks.push_back(std::move(j));
      }
      out["onebit"] = {{"iterations", opt.onebit.iterations}, {"lr", opt.onebit.lr}, {"latent_lr", opt.onebit.latent_lr},
                       {"batch", opt.onebit.batch}, {"kd", opt.onebit.kd}, {"kd_weight", opt.onebit.kd_weight}, {"blocks", blocks}};
      if (exported) out["onebit"]["file_bits_per_weight"] = onebit_file_bpw;
    }
    if (opt.method == QuantMethod::Cbq) {
      const CbqOptions& co = opt.cbq;
      nlohmann::json windows = nlohmann::json::array();
      for (const auto& w : r->cbq.windows) {
        nlohmann::json j = {{"first_block", w.first_block}, {"blocks", w.blocks}, {"loss", w.loss}, {"recon", w.recon},
                            {"mse_start", w.mse_start}, {"mse_final", w.mse_final}, {"weight_outliers", w.weight_outliers},
                            {"activation_outlier_channels", w.activation_outlier_channels}, {"seconds", w.seconds}};
        if (w.kl_final >= 0) j["kl_start"] = w.kl_start, j["kl_final"] = w.kl_final;
        windows.push_back(std::move(j));
      }
      out["cbq"] = {{"window", r->cbq.window}, {"iterations", co.iterations}, {"batch", r->cbq.batch}, {"samples", r->cbq.samples},
                    {"lr", co.lr}, {"scale_lr", co.scale_lr}, {"rank", co.rank}, {"lambda", co.lambda}, {"kappa_end", co.kappa_end},
                    {"kl_weight", co.kl_weight}, {"cfp", co.cfp_weights}, {"windows", windows}};
    }
    if (exported)
      out["export"] = {{"to", to}, {"path", exported->path.string()}, {"bytes", exported->bytes}, {"tensors", exported->tensors},
                       {"parameters", exported->parameters}, {"bits_per_weight", exported->bits_per_weight},
                       {"file_type", exported->file_type}, {"seconds", exported->seconds}};
    print_json(out);
    return kOk;
  }
  std::printf("%s %s: %lld weights in %zu layers at %.4f bits per weight, %.1f s, peak memory %.0f MB\n",
              quant_method_name(opt.method), layout ? "layout" : opt.format.name().c_str(), static_cast<long long>(r->quantized_weights),
              r->layers.size(), r->bits_per_weight, r->seconds, peak_rss_mb());
  for (const auto& b : r->onebit.blocks)
    std::printf("onebit block %lld: hidden-state rel. MSE %.5f after SVID, %.5f after %lld steps%s, %.1f s\n",
                static_cast<long long>(b.block), b.mse_svid, b.mse_final, static_cast<long long>(b.steps),
                b.reverted ? " (reverted to SVID)" : "", b.seconds);
  for (const auto& w : r->cbq.windows)
    std::printf("cbq window blocks %lld-%lld: probe rel. MSE %.5f at the start, %.5f after %zu steps%s, %.1f s\n",
                static_cast<long long>(w.first_block), static_cast<long long>(w.first_block + w.blocks - 1), w.mse_start,
                w.mse_final, w.loss.size(), w.kl_final >= 0 ? (", KL " + std::to_string(w.kl_start) + " -> " + std::to_string(w.kl_final)).c_str() : "",
                w.seconds);
  if (ppl) std::printf("ppl %.4f (strided, ctx %lld, %lld tokens scored)\n", ppl->ppl, static_cast<long long>(eval_ctx),
                       static_cast<long long>(ppl->tokens_scored));
  if (exported)
    std::printf("wrote %s: %.2f MB, %lld tensors, %.4f bits per weight (whole file)\n", exported->path.string().c_str(),
                static_cast<double>(exported->bytes) / 1e6, static_cast<long long>(exported->tensors), exported->bits_per_weight);
  return kOk;
}

}  // namespace

int run_quantize(const std::vector<std::string>& argv) { return quantize_or_export(argv, "quantize"); }
int run_export(const std::vector<std::string>& argv) { return quantize_or_export(argv, "export"); }

}  // namespace lowbit::cli
