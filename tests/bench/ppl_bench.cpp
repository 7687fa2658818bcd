// Benchmark of `lowbit ppl` (the CPU forward pass + scoring) on kjv-llama-8m (strided, ctx 256) and
// stories260K (llama.cpp method, ctx 256), with a given number of threads (default 2, the CI machine).
// usage: ppl_bench [--shared DIR] [--threads N] [--out FILE.json]
#include <cstring>
#include <string>

#include "bench_support.h"
#include "core/eval/perplexity.h"
#include "core/io/mapped_file.h"
#include "core/model/forward.h"
#include "core/model/model.h"

using namespace lowbit;

namespace {

nlohmann::json run(const std::string& model_path, const std::string& text_path, PplMethod method, int64_t ctx) {
  auto model = open_model(model_path, true);
  if (!model) return {{"error", model.error().message}};
  auto text = read_text_file(text_path);
  if (!text) return {{"error", text.error().message}};
  const bool bos = method == PplMethod::LlamaCpp && model->tokenizer->adds_bos();
  const auto t0 = std::chrono::steady_clock::now();
  auto ids = model->tokenizer->encode(*text, bos);
  const double tok_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!ids) return {{"error", ids.error().message}};
  auto w = load_model(*model->checkpoint, model->config);
  if (!w) return {{"error", w.error().message}};
  PplOptions opt;
  opt.ctx = ctx;
  opt.method = method;
  if (bos) opt.bos = model->tokenizer->bos_id();
  auto r = evaluate_perplexity(*w, *ids, opt);
  if (!r) return {{"error", r.error().message}};
  return {{"model", model_path}, {"text", text_path}, {"method", ppl_method_name(method)}, {"ctx", ctx},
          {"ppl", r->ppl}, {"windows", r->windows}, {"tokens_scored", r->tokens_scored},
          {"tokens_evaluated", r->windows * ctx}, {"seconds", r->seconds}, {"tokens_per_second", r->tokens_per_second},
          {"tokenize_seconds", tok_s}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string shared = "../shared", out = "ppl_bench.json";
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--shared")) shared = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
  }
  set_compute_threads(threads);
  nlohmann::json j = {{"benchmark", "ppl"}, {"machine", bench::machine()}, {"threads", threads}};
  j["results"].push_back(run(shared + "/models/kjv-llama-8m", shared + "/data/kjv-valid.txt", PplMethod::Strided, 256));
  j["results"].push_back(run(shared + "/models/stories260K/stories260K-f32.gguf", shared + "/data/tinystories-valid-sample.txt",
                             PplMethod::LlamaCpp, 256));
  j["peak_rss_mb"] = bench::peak_rss_mb();
  bench::write_result(out, j);
  return 0;
}
