// Benchmark of GPTQ on one layer (core/quant/gptq.h): a rows × cols weight (random normal,
// σ = 0.02) and the Hessian 2/n XᵀX of n random correlated tokens (an AR(1) walk along the channels
// with log-normal channel scales; built before the clock starts). The timed part is gptq_quantize
// alone — damped inverse Cholesky, column sweep, lazy batch updates — as in shared/README.md's
// speed table of the reference GPTQ (4096 × 4096, 4-bit, group 128, Hessian from 4096 tokens).
// With --backend vulkan GPTQ runs on the GPU (gpu/ops/gptq_op.h: the inverse factor on the device —
// gpu/ops/gptq_factor_op.h — or, with --factor-backend cpu, on the CPU; the 128-column sweep and the
// trailing updates on the device), timed the same way, with the device's name and driver in the
// result (the issue-4 H100 target: 4096 × 4096 in 0.25 s, Cholesky included). That time counts the
// host's side too (H and W staged and uploaded, codes and grids read back); with --resident 1, H and W
// are on the device before the clock starts, as the reference's tensors are on its GPU, and the
// timed part is the factor from H there (gpu/ops/gptq_factor_op.h), the sweep of W there
// (gptq_int) and the codes and grids read back (the int family without act-order only).
// usage: gptq_bench [--rows N] [--cols N] [--tokens N] [--format int4g128a] [--threads N] [--reps N]
//                   [--act-order 0|1] [--backend cpu|vulkan [--factor-backend vulkan|cpu] [--resident 0|1]] [--device N]
//                   [--out FILE.json]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bench_support.h"
#include "core/quant/gptq.h"
#include "core/tensor/eigen_types.h"
#include "synthetic_data.h"
#if LOWBIT_HAVE_VULKAN
#include "gpu/device/device.h"
#include "gpu/memory/transfer.h"
#include "gpu/ops/gptq_factor_op.h"
#include "gpu/ops/gptq_op.h"
#endif

using namespace lowbit;

namespace {



double load_average() {
  double l[1] = {0};
  return getloadavg(l, 1) == 1 ? l[0] : -1.0;
}

// CPU seconds of this process (all threads): on a shared machine, wall time alone overstates cost.
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 4096, cols = 4096, tokens = 4096;
  std::string format_name = "int4g128a", out_path = "gptq_bench.json", backend = "cpu", factor_backend = "vulkan";
  int threads = 2, reps = 1, act_order = 0, device_index = -1, resident = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rows"))
      rows = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--cols"))
      cols = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--tokens"))
      tokens = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--format"))
      format_name = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads"))
      threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--reps"))
      reps = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--act-order"))
      act_order = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--out"))
      out_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--backend"))
      backend = argv[i + 1];
    else if (!std::strcmp(argv[i], "--device"))
      device_index = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--factor-backend"))
      factor_backend = argv[i + 1];
    else if (!std::strcmp(argv[i], "--resident"))
      resident = std::atoi(argv[i + 1]);
  }
  GptqOptions opt;
  nlohmann::json device_json = nullptr;
#if LOWBIT_HAVE_VULKAN
  std::unique_ptr<gpu::Device> device;
  if (backend == "vulkan") {
    auto d = gpu::Device::create(gpu::DeviceOptions{.device_index = device_index});
    if (!d) {
      std::fprintf(stderr, "%s\n", d.error().message.c_str());
      return 1;
    }
    device = std::move(*d);
    opt.backend = gpu::vulkan_gptq(*device, factor_backend == "cpu" ? gpu::FactorOn::Cpu : gpu::FactorOn::Device);
    device_json = {{"name", device->info().name}, {"type", device->info().type}, {"driver", device->info().driver}};
    std::printf("device: %s (%s), driver %s\n", device->info().name.c_str(), device->info().type.c_str(),
                device->info().driver.c_str());
  }
#endif
  if (backend != "cpu" && !opt.backend) {
    std::fprintf(stderr, "--backend must be cpu or vulkan (vulkan: a build with LOWBIT_VULKAN)\n");
    return 2;
  }
  const auto format = Format::parse(format_name);
  if (!format) {
    std::fprintf(stderr, "unknown format '%s'\n", format_name.c_str());
    return 2;
  }
  omp_set_num_threads(threads);
  const auto t_gen = std::chrono::steady_clock::now();
  const auto w = test::normal_values(static_cast<size_t>(rows * cols), 1, 0.02f);
  const auto h = test::correlated_hessian(cols, tokens, 2);
  const double gen_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_gen).count();
  std::printf("weights and Hessian (%lld tokens) built in %.1f s\n", static_cast<long long>(tokens), gen_s);

  opt.format = *format;
  opt.act_order = act_order != 0;
  // --resident: one rep with H and W already on the device (the factor there, the sweep of W there).
  std::function<Expected<GptqResult>()> resident_rep;
#if LOWBIT_HAVE_VULKAN
  std::optional<gpu::Buffer> h_dev, w_dev;
  if (resident != 0) {
    if (!device || factor_backend == "cpu" || opt.act_order || format->kind != Format::Kind::Int || format->group <= 0) {
      std::fprintf(stderr, "--resident 1 takes --backend vulkan, the device's factor and a grouped int format without act-order\n");
      return 2;
    }
    auto hb = gpu::Buffer::create(*device, h.size() * 4, gpu::MemoryUse::Device);
    auto wb = gpu::Buffer::create(*device, w.size() * 4, gpu::MemoryUse::Device);
    if (!hb || !wb) {
      std::fprintf(stderr, "H and W do not fit in device memory\n");
      return 1;
    }
    h_dev = std::move(*hb);
    w_dev = std::move(*wb);
    if (!gpu::upload(*device, *h_dev, std::as_bytes(std::span<const float>(h))) ||
        !gpu::upload(*device, *w_dev, std::as_bytes(std::span<const float>(w)))) {
      std::fprintf(stderr, "upload failed\n");
      return 1;
    }
    resident_rep = [&]() -> Expected<GptqResult> {
      const auto t0 = std::chrono::steady_clock::now();
      LB_TRY_ASSIGN(gpu::DeviceGptqFactor f, gpu::gptq_factor_on_device(*device, *h_dev, cols, opt.damp, "bench"));
      if (!f.dead.empty()) return make_error(ErrorCode::Unsupported, "--resident: the Hessian has dead columns");
      const auto t1 = std::chrono::steady_clock::now();
      LB_TRY_ASSIGN(gpu::GptqIntResult g, gpu::gptq_int(*device, {rows, cols, opt.format, opt.fp16_scales}, *w_dev, f.u));
      GptqResult res;
      res.loss = g.loss;
      res.factor_seconds = std::chrono::duration<double>(t1 - t0).count();
      res.sweep_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
      return res;
    };
  }
#endif
  std::vector<double> secs, cpu;
  double loss = 0, factor_s = 0, sweep_s = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    // gptq_quantize is the CPU's; the backend is called as quantize_model's drivers call it.
    auto res = resident_rep  ? resident_rep()
               : opt.backend ? opt.backend(w, rows, cols, h, opt, "bench")
                             : gptq_quantize(w, rows, cols, h, opt, "bench");
    secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    cpu.push_back(cpu_seconds() - c0);
    if (!res) {
      std::fprintf(stderr, "%s\n", res.error().message.c_str());
      return 1;
    }
    loss = res->loss;
    factor_s = res->factor_seconds;
    sweep_s = res->sweep_seconds;
    std::printf("rep %d: %.3f s (inverse Cholesky %.3f s, sweep %.3f s), %.3f CPU s\n", r + 1, secs.back(), factor_s,
                sweep_s, cpu.back());
  }
  std::vector<double> sorted = secs;
  std::sort(sorted.begin(), sorted.end());
  const nlohmann::json j = {{"benchmark", "gptq"},
                            {"machine", bench::machine()},
                            {"backend", backend},
                            {"factor_backend", backend == "cpu" ? std::string("cpu") : factor_backend},
                            {"device", device_json},
                            {"threads", threads},
                            {"rows", rows},
                            {"cols", cols},
                            {"tokens", tokens},
                            {"format", format->name()},
                            {"act_order", opt.act_order},
                            {"resident", resident != 0},
                            {"block_size", opt.block_size},
                            {"damp", opt.damp},
                            {"seconds", sorted[sorted.size() / 2]},
                            {"seconds_all", secs},
                            {"cpu_seconds_all", cpu},
                            {"load_average_1min", load_average()},
                            {"loss", loss},
                            {"last_factor_seconds", factor_s},
                            {"last_sweep_seconds", sweep_s},
                            {"peak_rss_mb", bench::peak_rss_mb()},
                            {"note", backend == "cpu" ? "gptq_quantize alone (Hessian built before timing); median of reps"
                                     : resident != 0
                                         ? "GPTQ on the device from H and W already there (uploaded before timing, as the reference's "
                                           "tensors are on its GPU): the inverse factor, the sweep, codes and grids read back; median of reps"
                                         : "GPTQ through the Vulkan backend: upload, the inverse factor (on factor_backend), sweep, download; "
                                           "Hessian built before timing; median of reps"}};
  bench::write_result(out_path, j);
  return 0;
}
