// Benchmark of CBQ (`lowbit quantize --method cbq`) on kjv-llama-8m: quantize_model with method cbq
// onto an int format from 128 calibration windows of 256 tokens of kjv-train.txt (seed 0, as
// `lowbit quantize` draws them), then the strided perplexity of kjv-valid.txt at ctx 256; writes the
// options, per-window probe errors and loss curves, wall time and perplexity as JSON.
// usage: cbq_bench [--shared DIR] [--threads N] [--out FILE.json] [--format int2g64a] [--iters N]
//                  [--lr X] [--scale-lr X] [--lambda X] [--kappa X] [--batch N] [--window K] [--rank R]
//                  [--kl X] [--samples N] [--cfp 0|1] [--init-clip 0|1] [--warmup X] [--curves 0|1]
#include <cstring>
#include <string>

#include "bench_support.h"
#include "core/calib/calibration.h"
#include "core/eval/perplexity.h"
#include "core/io/mapped_file.h"
#include "core/model/forward.h"
#include "core/model/model.h"
#include "core/quant/quantize_model.h"

using namespace lowbit;

int main(int argc, char** argv) {
  std::string shared = "../shared", out = "cbq_bench.json", format = "int2g64a";
  int threads = 2;
  bool curves = false;
  QuantizeOptions o;
  o.method = QuantMethod::Cbq;
  CbqOptions& c = o.cbq;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--shared") shared = v;
    else if (k == "--threads") threads = std::stoi(v);
    else if (k == "--out") out = v;
    else if (k == "--format") format = v;
    else if (k == "--iters") c.iterations = std::stoll(v);
    else if (k == "--lr") c.lr = std::stod(v);
    else if (k == "--scale-lr") c.scale_lr = std::stod(v);
    else if (k == "--lambda") c.lambda = std::stod(v);
    else if (k == "--kappa") c.kappa_end = std::stod(v);
    else if (k == "--batch") c.batch = std::stoll(v);
    else if (k == "--window") c.window = std::stoll(v);
    else if (k == "--rank") c.rank = std::stoll(v);
    else if (k == "--kl") c.kl_weight = std::stod(v);
    else if (k == "--samples") c.samples = std::stoll(v);
    else if (k == "--warmup") c.warmup = std::stod(v);
    else if (k == "--cfp") c.cfp_weights = c.cfp_activations = v != "0";
    else if (k == "--cfp-weights") c.cfp_weights = v != "0";
    else if (k == "--init-clip") c.init_clip = v != "0";
    else if (k == "--curves") curves = v != "0";
    else {
      std::fprintf(stderr, "cbq_bench: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  auto f = Format::parse(format);
  if (!f) {
    std::fprintf(stderr, "cbq_bench: unknown format %s\n", format.c_str());
    return 2;
  }
  o.format = *f;
  set_compute_threads(threads);
  auto fail = [](const Error& e) {
    std::fprintf(stderr, "cbq_bench: %s\n", e.message.c_str());
    return 1;
  };
  auto model = open_model(shared + "/models/kjv-llama-8m", true);
  if (!model) return fail(model.error());
  auto w = load_model(*model->checkpoint, model->config);
  if (!w) return fail(w.error());
  auto train = read_text_file(shared + "/data/kjv-train.txt");
  auto valid = read_text_file(shared + "/data/kjv-valid.txt");
  if (!train || !valid) return fail(train ? valid.error() : train.error());
  auto train_ids = tokenize_text(*model->tokenizer, *train, false, "kjv-train.txt");
  auto valid_ids = tokenize_text(*model->tokenizer, *valid, false, "kjv-valid.txt");
  if (!train_ids || !valid_ids) return fail(train_ids ? valid_ids.error() : train_ids.error());
  auto calib = draw_windows(*train_ids, o.calib);
  if (!calib) return fail(calib.error());

  const auto t0 = std::chrono::steady_clock::now();
  Progress progress([](const ProgressUpdate& u) {
    static int n = 0;
    if (++n % 50 == 0) std::fprintf(stderr, "%5.1f %% %s (%.0f s)\n", 100 * u.fraction, u.stage.c_str(), u.elapsed_s);
  });
  auto r = quantize_model(*w, o, *calib, &progress);
  if (!r) return fail(r.error());
  const double q_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  PplOptions po;
  po.ctx = 256;
  auto p = evaluate_perplexity(*w, *valid_ids, po);
  if (!p) return fail(p.error());

  nlohmann::json windows = nlohmann::json::array();
  for (const auto& win : r->cbq.windows) {
    nlohmann::json j = {{"first_block", win.first_block}, {"mse_start", win.mse_start}, {"mse_final", win.mse_final},
                        {"kl_start", win.kl_start}, {"kl_final", win.kl_final}, {"weight_outliers", win.weight_outliers},
                        {"activation_outlier_channels", win.activation_outlier_channels}, {"seconds", win.seconds},
                        {"prepare_seconds", win.prepare_seconds}, {"train_seconds", win.train_seconds},
                        {"loss_first", win.loss.empty() ? 0.0f : win.loss.front()},
                        {"loss_last", win.loss.empty() ? 0.0f : win.loss.back()}};
    if (curves) j["loss"] = win.loss, j["recon"] = win.recon;
    windows.push_back(std::move(j));
  }
  nlohmann::json j = {{"benchmark", "cbq"},
                      {"machine", bench::machine()},
                      {"threads", threads},
                      {"model", "kjv-llama-8m"},
                      {"format", o.format.name()},
                      {"calibration", {{"file", "kjv-train.txt"}, {"samples", o.calib.samples}, {"ctx", o.calib.ctx}, {"seed", o.calib.seed}}},
                      {"options",
                       {{"window", c.window}, {"iterations", c.iterations}, {"batch", c.batch}, {"samples", c.samples}, {"lr", c.lr},
                        {"scale_lr", c.scale_lr}, {"rank", c.rank}, {"lambda", c.lambda}, {"beta", {c.beta_start, c.beta_end}},
                        {"warmup", c.warmup}, {"kappa_end", c.kappa_end}, {"kl_weight", c.kl_weight}, {"init_clip", c.init_clip},
                        {"cfp_weights", c.cfp_weights}, {"cfp_activations", c.cfp_activations}}},
                      {"quantize_seconds", q_s},
                      {"ppl", p->ppl},
                      {"eval", {{"text", "kjv-valid.txt"}, {"ctx", 256}, {"tokens_scored", p->tokens_scored}}},
                      {"bits_per_weight", r->bits_per_weight},
                      {"windows", windows},
                      {"peak_rss_mb", bench::peak_rss_mb()}};
  bench::write_result(out, j);
  return 0;
}
