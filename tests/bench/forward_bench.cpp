// Benchmark of the forward pass on the Vulkan backend (gpu/model/vulkan_forward.h) against the CPU:
// perplexity of a model on a text (strided, ctx tokens per window) evaluated by both backends on the
// same windows, with tokens per second (windows × ctx over the wall clock of evaluate_perplexity,
// after one untimed warm-up batch on the GPU that builds the pipelines and sizes the buffers), the
// two perplexities and their relative difference, the device memory of weights and activations.
// Defaults fit lavapipe on a 2-core machine; on a real GPU raise --windows (0: the whole text) and
// --batch.
// usage: forward_bench [--model DIR] [--text FILE] [--ctx N] [--windows N] [--batch N] [--device N]
//                      [--threads N] [--skip-cpu] [--out FILE.json]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench_support.h"
#include "core/eval/perplexity.h"
#include "core/io/mapped_file.h"
#include "core/model/forward.h"
#include "core/model/model.h"
#include "gpu/device/device.h"
#include "gpu/model/vulkan_forward.h"

using namespace lowbit;

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "forward_bench: %s\n", message.c_str());
  return 1;
}

nlohmann::json result_json(const PplResult& r) {
  return {{"ppl", r.ppl},         {"nll_mean", r.nll_mean},
          {"windows", r.windows}, {"tokens_scored", r.tokens_scored},
          {"seconds", r.seconds}, {"tokens_per_second", r.tokens_per_second}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path = "../shared/models/kjv-llama-8m", text_path = "../shared/data/kjv-valid.txt";
  std::string out_path = "forward_bench.json";
  int64_t ctx = 256, windows = 8, batch = 4;
  int device_index = -1, threads = 2;
  bool skip_cpu = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--skip-cpu") {
      skip_cpu = true;
      continue;
    }
    if (i + 1 >= argc) return fail("option " + a + " needs a value");
    const char* v = argv[++i];
    if (a == "--model")
      model_path = v;
    else if (a == "--text")
      text_path = v;
    else if (a == "--ctx")
      ctx = std::atoll(v);
    else if (a == "--windows")
      windows = std::atoll(v);
    else if (a == "--batch")
      batch = std::atoll(v);
    else if (a == "--device")
      device_index = std::atoi(v);
    else if (a == "--threads")
      threads = std::atoi(v);
    else if (a == "--out")
      out_path = v;
    else
      return fail("unknown option " + a);
  }
  set_compute_threads(threads);
  auto model = open_model(model_path, true);
  if (!model) return fail(model.error().message);
  auto text = read_text_file(text_path);
  if (!text) return fail(text.error().message);
  auto ids = model->tokenizer->encode(*text, false);
  if (!ids) return fail(ids.error().message);
  auto weights = load_model(*model->checkpoint, model->config);
  if (!weights) return fail(weights.error().message);

  auto device = gpu::Device::create(gpu::DeviceOptions{.device_index = device_index});
  if (!device) return fail(device.error().message);
  gpu::Device& d = **device;
  std::printf("device: %s (%s), driver %s\n", d.info().name.c_str(), d.info().type.c_str(), d.info().driver.c_str());
  const auto t_upload = std::chrono::steady_clock::now();
  auto engine = gpu::VulkanForward::create(d, *weights);
  if (!engine) return fail(engine.error().message);
  const double upload_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_upload).count();

  PplOptions opt;
  opt.ctx = ctx;
  opt.max_windows = windows;
  opt.batch_windows = batch;
  {  // warm-up: pipelines, activation buffers, the rope table
    PplOptions warm = opt;
    warm.max_windows = std::min<int64_t>(batch, windows > 0 ? windows : batch);
    if (auto w = evaluate_perplexity(**engine, *ids, warm); !w) return fail(w.error().message);
  }
  auto gpu_r = evaluate_perplexity(**engine, *ids, opt);
  if (!gpu_r) return fail(gpu_r.error().message);
  std::printf("vulkan: ppl %.6f, %.0f tokens/s (%lld windows)\n", gpu_r->ppl, gpu_r->tokens_per_second,
              static_cast<long long>(gpu_r->windows));
  nlohmann::json j = {{"benchmark", "forward"},
                      {"machine", bench::machine()},
                      {"device",
                       {{"name", d.info().name},
                        {"type", d.info().type},
                        {"driver", d.info().driver},
                        {"api_version", d.info().api_version},
                        {"device_local_bytes", d.info().device_local_bytes}}},
                      {"model", model_path},
                      {"text", text_path},
                      {"method", "strided"},
                      {"ctx", ctx},
                      {"batch_windows", batch},
                      {"weight_bytes", (*engine)->weight_bytes()},
                      {"activation_bytes", (*engine)->activation_bytes()},
                      {"upload_seconds", upload_s},
                      {"vulkan", result_json(*gpu_r)},
                      {"timing", "wall clock of evaluate_perplexity after one warm-up batch"}};
  if (!skip_cpu) {
    auto cpu_r = evaluate_perplexity(*weights, *ids, opt);
    if (!cpu_r) return fail(cpu_r.error().message);
    std::printf("cpu:    ppl %.6f, %.0f tokens/s with %d threads\n", cpu_r->ppl, cpu_r->tokens_per_second,
                compute_threads());
    j["cpu"] = result_json(*cpu_r);
    j["cpu"]["threads"] = compute_threads();
    j["ppl_relative_difference"] = (gpu_r->ppl - cpu_r->ppl) / cpu_r->ppl;
    j["speedup_vs_cpu"] = gpu_r->tokens_per_second / cpu_r->tokens_per_second;
  }
  j["peak_rss_mb"] = bench::peak_rss_mb();
  bench::write_result(out_path, j);
  return 0;
}
