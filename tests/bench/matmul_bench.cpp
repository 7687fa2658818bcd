// Benchmark of the Vulkan matmul op (gpu/ops/matmul_op.h): Y[M,N] = X[M,K] · W[N,K]ᵀ with W stored
// in a given format (f16 and q4_k by default, 4096 × 4096) and dequantized on the fly, for several
// M (1: one token of decoding; larger: prompt processing). Weights are random normal, quantized by
// the core and uploaded before the clock starts; each timed run is one submission of `reps`
// products (barrier between them) measured by the wall clock around submit-and-wait, after one
// untimed warm-up run that also builds the pipeline. Reports the median GFLOP/s (2·M·N·K per
// product) and, as a check, the error of Y's first row against the core's dequantized weights.
// With --hessian T,C it also times the calibration Hessian accumulation (gpu/ops/hessian_op.h:
// H += XᵀX for X [T, C], GFLOP/s as 2·T·C², the same count as a product of those shapes), the rate
// issue 4 compares with the fp16 product's (its H100 target: at least half of it), on each of
// --paths (the cooperative one: hessian_coop.comp's split fp16 products).
// --paths portable,cooperative times both shader paths (gpu/ops/matmul_op.h, MatmulPath); a device
// without cooperative matrices runs the portable one for both, and "path_ran" says so. Where the
// cooperative path runs, "coop_probes" times its shader's two halves at the largest M with fp16
// weights (record_matmul_coop_probe: the products on tiles staged once, and the memory reads and
// staging without products), which says where the full product's time goes.
// usage: matmul_bench [--device N] [--n N] [--k K] [--m 1,16,128,512,4096] [--formats f16,q4_k]
//                     [--paths portable[,cooperative]] [--hessian T,C] [--reps R] [--runs R]
//                     [--out FILE.json]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.h"
#include "core/quant/format.h"
#include "core/quant/ggml_formats.h"
#include "core/quant/int_quant.h"
#include "core/tensor/half.h"
#include "gpu/device/device.h"
#include "gpu/memory/transfer.h"
#include "gpu/ops/hessian_op.h"
#include "gpu/ops/int_weights.h"
#include "gpu/ops/matmul_op.h"
#include "packed_weights.h"
#include "synthetic_data.h"

using namespace lowbit;
using namespace lowbit::gpu;

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  return 1;
}

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::atoll(item.c_str()));
  return out;
}

std::vector<std::string> parse_names(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(item);
  return out;
}

// Median seconds of one product, and Y's first row.
struct Timing {
  double seconds = 0;
  std::vector<double> run_seconds;
  std::vector<float> y_row0;
};

// `record` records one product.
Expected<Timing> time_products(Device& device, const MatmulShape& s, const Buffer& yb,
                               const std::function<Expected<void>(CommandRecorder&)>& record, int reps, int runs) {
  Timing t;
  for (int r = -1; r < runs; ++r) {  // r = -1: warm-up
    LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
    for (int i = 0; i < reps; ++i) {
      LB_TRY_VOID(record(rec));
      rec.barrier();
    }
    t.y_row0.assign(static_cast<size_t>(s.n), NAN);
    LB_TRY_VOID(rec.download(yb, std::as_writable_bytes(std::span<float>(t.y_row0))));
    const auto t0 = std::chrono::steady_clock::now();
    LB_TRY_VOID(rec.submit_and_wait());
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r >= 0) t.run_seconds.push_back(sec / reps);
  }
  std::vector<double> sorted = t.run_seconds;
  std::sort(sorted.begin(), sorted.end());
  t.seconds = sorted[sorted.size() / 2];
  return t;
}

// X, W (as stored in `f`) and Y's buffers on the device, X and W uploaded.
struct Operands {
  test::PackedWeights weights;
  Buffer x, w, y;
};

Expected<Operands> upload_operands(Device& d, const Format& f, const std::vector<float>& x, const std::vector<float>& w, int64_t max_m,
                                   int64_t n, int64_t k) {
  const MatmulShape wshape{1, n, k};
  LB_TRY_VOID(check_matmul_weights(f, wshape));
  LB_TRY_ASSIGN(test::PackedWeights weights, test::pack_weights(f, w, n, k));
  LB_TRY_ASSIGN(Buffer xb, Buffer::create(d, x.size() * sizeof(float), MemoryUse::Device));
  LB_TRY_ASSIGN(Buffer wb, Buffer::create(d, matmul_weight_buffer_bytes(f, wshape), MemoryUse::Device));
  LB_TRY_ASSIGN(Buffer yb, Buffer::create(d, static_cast<uint64_t>(max_m * n) * sizeof(float), MemoryUse::Device));
  LB_TRY_VOID(upload(d, xb, std::as_bytes(std::span(x))));
  LB_TRY_VOID(upload(d, wb, weights.bytes));
  return Operands{std::move(weights), std::move(xb), std::move(wb), std::move(yb)};
}

}  // namespace

int main(int argc, char** argv) {
  int device_index = -1, reps = 10, runs = 5;
  int64_t n = 4096, k = 4096;
  std::string m_list = "1,16,128,512,4096", format_list = "f16,q4_k", out_path = "matmul_bench.json", hessian_list,
              path_list = "portable";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--device"))
      device_index = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--n"))
      n = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--k"))
      k = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--m"))
      m_list = argv[i + 1];
    else if (!std::strcmp(argv[i], "--formats"))
      format_list = argv[i + 1];
    else if (!std::strcmp(argv[i], "--reps"))
      reps = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--runs"))
      runs = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--paths"))
      path_list = argv[i + 1];
    else if (!std::strcmp(argv[i], "--hessian"))
      hessian_list = argv[i + 1];
    else if (!std::strcmp(argv[i], "--out"))
      out_path = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  const std::vector<int64_t> ms = parse_list(m_list);
  std::vector<Format> formats;
  for (const std::string& name : parse_names(format_list)) {
    const auto f = Format::parse(name);
    if (!f) {
      std::fprintf(stderr, "unknown format '%s'\n", name.c_str());
      return 2;
    }
    formats.push_back(*f);
  }
  std::vector<MatmulPath> paths;
  for (const std::string& name : parse_names(path_list)) {
    if (name != "portable" && name != "cooperative") {
      std::fprintf(stderr, "unknown path '%s' (portable, cooperative)\n", name.c_str());
      return 2;
    }
    paths.push_back(name == "portable" ? MatmulPath::Portable : MatmulPath::Cooperative);
  }
  if (ms.empty() || formats.empty() || paths.empty()) return 2;

  auto device = Device::create(DeviceOptions{.device_index = device_index});
  if (!device) return fail(device.error().message);
  Device& d = **device;
  std::printf("device: %s (%s), driver %s\n", d.info().name.c_str(), d.info().type.c_str(), d.info().driver.c_str());

  const int64_t max_m = *std::max_element(ms.begin(), ms.end());
  const auto w = test::normal_values(static_cast<size_t>(n * k), 1, 0.02f);
  const auto x = test::normal_values(static_cast<size_t>(max_m * k), 2, 1.0f);
  nlohmann::json results = nlohmann::json::array();
  for (const Format& f : formats) {
    auto ops = upload_operands(d, f, x, w, max_m, n, k);
    if (!ops) return fail(ops.error().message);
    const test::PackedWeights* weights = &ops->weights;
    const Buffer *xb = &ops->x, *wb = &ops->w, *yb = &ops->y;

    // Y's first row on the CPU, in double, from the same dequantized weights.
    std::vector<double> row0(static_cast<size_t>(n), 0.0);
    double row0_scale = 0;
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t t = 0; t < k; ++t) row0[j] += double(x[t]) * double(weights->values[j * k + t]);
      row0_scale = std::max(row0_scale, std::abs(row0[j]));
    }
    for (const MatmulPath path : paths)
      for (const int64_t m : ms) {
        const MatmulShape s{m, n, k};
        const MatmulPath ran = resolve_matmul_path(d, path);
        auto timing = time_products(
            d, s, *yb, [&](CommandRecorder& rec) { return record_matmul(rec, s, f, *xb, *wb, *yb, path); }, reps, runs);
        if (!timing) return fail(timing.error().message);
        double err = 0;
        for (int64_t j = 0; j < n; ++j) err = std::max(err, std::abs(double(timing->y_row0[j]) - row0[j]));
        const double gflops = 2.0 * double(m) * double(n) * double(k) / timing->seconds * 1e-9;
        const double weight_gbps = double(weights->bytes.size()) / timing->seconds * 1e-9;
        std::printf(
            "%-6s %-11s M=%-5lld N=%lld K=%lld: %9.3f ms  %8.1f GFLOP/s  weights %7.1f GB/s  row-0 error %.2g\n",
            f.name().c_str(), matmul_path_name(ran), static_cast<long long>(m), static_cast<long long>(n),
            static_cast<long long>(k), timing->seconds * 1e3, gflops, weight_gbps, err / std::max(row0_scale, 1e-30));
        results.push_back({{"format", f.name()},
                           {"path", matmul_path_name(path)},
                           {"path_ran", matmul_path_name(ran)},
                           {"m", m},
                           {"n", n},
                           {"k", k},
                           {"seconds", timing->seconds},
                           {"seconds_all", timing->run_seconds},
                           {"gflops", gflops},
                           {"weight_gb_per_s", weight_gbps},
                           {"weight_bytes", weights->bytes.size()},
                           {"row0_max_relative_error", err / std::max(row0_scale, 1e-30)}});
      }
  }
  nlohmann::json probes = nullptr;
  if (std::find(paths.begin(), paths.end(), MatmulPath::Cooperative) != paths.end() &&
      resolve_matmul_path(d, MatmulPath::Cooperative) == MatmulPath::Cooperative) {
    const MatmulShape s{max_m, n, k};
    auto ops = upload_operands(d, Format::float_type(DType::F16), x, w, max_m, n, k);
    if (!ops) return fail(ops.error().message);
    const Buffer *xb = &ops->x, *wb = &ops->w, *yb = &ops->y;
    probes = nlohmann::json::array();
    for (const CoopProbe probe : {CoopProbe::Mma, CoopProbe::Loads}) {
      const char* name = probe == CoopProbe::Mma ? "products on staged tiles" : "memory reads and staging";
      auto timing = time_products(
          d, s, *yb, [&](CommandRecorder& rec) { return record_matmul_coop_probe(rec, s, *xb, *wb, *yb, probe); }, reps, runs);
      if (!timing) {  // a diagnostic: the products above are still written
        std::printf("coop probe (%s): %s\n", name, timing.error().message.c_str());
        probes.push_back({{"probe", probe == CoopProbe::Mma ? "mma" : "loads"}, {"error", timing.error().message}});
        continue;
      }
      const double gflops = 2.0 * double(max_m) * double(n) * double(k) / timing->seconds * 1e-9;
      std::printf("coop probe (%s) M=%lld N=%lld K=%lld: %9.3f ms  (%8.1f GFLOP/s-equivalent)\n", name,
                  static_cast<long long>(max_m), static_cast<long long>(n), static_cast<long long>(k), timing->seconds * 1e3, gflops);
      probes.push_back({{"probe", probe == CoopProbe::Mma ? "mma" : "loads"}, {"what", name}, {"m", max_m}, {"n", n}, {"k", k},
                        {"seconds", timing->seconds}, {"seconds_all", timing->run_seconds}, {"gflops_equivalent", gflops}});
    }
  }
  nlohmann::json hessian = nullptr;
  if (!hessian_list.empty()) {
    const std::vector<int64_t> tc = parse_list(hessian_list);
    if (tc.size() != 2 || tc[0] < 1 || tc[1] < 1) return fail("--hessian takes T,C");
    const int64_t T = tc[0], C = tc[1];
    const auto xh = test::normal_values(static_cast<size_t>(T * C), 3, 1.0f);
    auto xb = Buffer::create(d, xh.size() * sizeof(float), MemoryUse::Device);
    auto hb = Buffer::create(d, static_cast<uint64_t>(C * C) * sizeof(float), MemoryUse::Device);
    uint64_t scratch = 4;
    for (const MatmulPath path : paths) scratch = std::max(scratch, hessian_scratch_bytes(d, {T, C}, path));
    auto sb = Buffer::create(d, scratch, MemoryUse::Device);
    if (!xb || !hb || !sb) return fail("device allocation failed");
    if (auto up = upload(d, *xb, std::as_bytes(std::span(xh))); !up) return fail(up.error().message);
    hessian = nlohmann::json::array();
    for (const MatmulPath path : paths) {
      const MatmulPath ran = resolve_hessian_path(d, path);
      std::vector<double> secs;
      for (int r = -1; r < runs; ++r) {  // r = -1: warm-up
        auto rec = CommandRecorder::begin(d);
        if (!rec) return fail(rec.error().message);
        for (int i = 0; i < reps; ++i) {
          if (auto ok = record_hessian_accumulate(*rec, {T, C}, 1.0f, i == 0 ? 0.0f : 1.0f, *xb, *hb, path, &*sb); !ok)
            return fail(ok.error().message);
          rec->barrier();
        }
        const auto t0 = std::chrono::steady_clock::now();
        if (auto ok = rec->submit_and_wait(); !ok) return fail(ok.error().message);
        if (r >= 0) secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps);
      }
      std::vector<double> sorted = secs;
      std::sort(sorted.begin(), sorted.end());
      const double sec = sorted[sorted.size() / 2], gflops = 2.0 * double(T) * double(C) * double(C) / sec * 1e-9;
      std::printf("hessian %-12s T=%lld C=%lld: %9.3f ms  %8.1f GFLOP/s\n", matmul_path_name(ran), static_cast<long long>(T),
                  static_cast<long long>(C), sec * 1e3, gflops);
      hessian.push_back({{"path", matmul_path_name(path)}, {"path_ran", matmul_path_name(ran)}, {"tokens", T}, {"channels", C},
                         {"seconds", sec}, {"seconds_all", secs}, {"gflops", gflops}});
    }
  }
  const nlohmann::json j = {{"benchmark", "matmul"},
                            {"machine", bench::machine()},
                            {"device",
                             {{"name", d.info().name},
                              {"type", d.info().type},
                              {"driver", d.info().driver},
                              {"api_version", d.info().api_version},
                              {"cooperative_matrix", d.info().cooperative_matrix},
                              {"cooperative_matrix_extensions", d.info().cooperative_matrix_extensions},
                              {"device_local_bytes", d.info().device_local_bytes}}},
                            {"reps_per_run", reps},
                            {"runs", runs},
                            {"timing", "wall clock around one submission of reps products, median of runs"},
                            {"results", results},
                            {"coop_probes", probes},
                            {"hessian", hessian}};
  bench::write_result(out_path, j);
  return 0;
}
