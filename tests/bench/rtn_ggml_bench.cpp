// Benchmark of RTN export to the ggml block formats: ~1 GB of synthetic f16 weights in 7B-like
// shapes (4096×4096 attention, 11008×4096 and 4096×11008 MLP, random normal values, generated once
// and stored as f16), quantized with ggml_quantize. The timed loop decodes f16 -> f32 in row chunks
// and quantizes each chunk, as an exporter does; throughput is GB of f16 input per second, the
// measure of llama-quantize's figures in shared/README.md (q4_0 ≈ 0.48, q8_0 ≈ 0.30, q4_k ≈ 0.07 GB/s
// on 2 threads, which also include reading and writing the files).
// With --weighted 1 the importance-weighted path runs instead (random positive per-column weights).
// usage: rtn_ggml_bench [--threads N] [--gb SIZE] [--types q4_0,q8_0,q4_k] [--reps N] [--weighted 0|1]
//                       [--out FILE.json]
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.h"
#include "core/quant/ggml_formats.h"
#include "core/tensor/half.h"

using namespace lowbit;

namespace {

struct Tensor {
  int64_t rows, cols;
  std::vector<uint16_t> f16;
};

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Normal values (Box-Muller on splitmix64), σ = 0.02 as in trained weights, stored as f16.
void fill_normal_f16(std::vector<uint16_t>& out, uint64_t seed) {
  const auto n = static_cast<int64_t>(out.size());
  const int64_t chunk = 1 << 16;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < (n + chunk - 1) / chunk; ++c) {
    uint64_t s = seed * 0x100000001B3ull + static_cast<uint64_t>(c);
    for (int64_t i = c * chunk; i < std::min(n, (c + 1) * chunk); i += 2) {
      const double u1 = (static_cast<double>(splitmix64(s) >> 11) + 0.5) * 0x1.0p-53;
      const double u2 = static_cast<double>(splitmix64(s) >> 11) * 0x1.0p-53;
      const double r = 0.02 * std::sqrt(-2.0 * std::log(u1)), a = 2.0 * std::numbers::pi * u2;
      out[static_cast<size_t>(i)] = f32_to_f16(static_cast<float>(r * std::cos(a)));
      if (i + 1 < n) out[static_cast<size_t>(i + 1)] = f32_to_f16(static_cast<float>(r * std::sin(a)));
    }
  }
}

// CPU seconds of this process (all threads): on a shared machine, wall time alone overstates cost.
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

// Decodes and quantizes every tensor; returns wall seconds.
double run_once(DType type, const std::vector<Tensor>& tensors, std::vector<uint8_t>& out, std::vector<float>& buf,
                const std::vector<float>* weights) {
  const auto t0 = std::chrono::steady_clock::now();
  size_t out_off = 0;
  for (const auto& t : tensors) {
    const int64_t chunk_rows = std::max<int64_t>(1, static_cast<int64_t>(buf.size()) / t.cols);
    for (int64_t r0 = 0; r0 < t.rows; r0 += chunk_rows) {
      const int64_t nr = std::min(chunk_rows, t.rows - r0);
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < nr; ++r)
        f16_to_f32(t.f16.data() + (r0 + r) * t.cols, buf.data() + r * t.cols, static_cast<size_t>(t.cols));
      const auto n = static_cast<size_t>(nr * t.cols);
      if (weights)
        ggml_quantize_weighted(type, buf.data(), out.data() + out_off, nr, t.cols, weights->data());
      else
        ggml_quantize(type, buf.data(), out.data() + out_off, n);
      out_off += dtype_bytes(type, n);
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_path = "rtn_ggml_bench.json", types_arg = "q4_0,q8_0,q4_k";
  int threads = 2, reps = 1, weighted = 0;
  double gb = 1.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--gb")) gb = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--types")) types_arg = argv[i + 1];
    else if (!std::strcmp(argv[i], "--reps")) reps = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--weighted")) weighted = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--out")) out_path = argv[i + 1];
  }
  omp_set_num_threads(threads);
  std::vector<DType> types;
  std::stringstream ss(types_arg);
  for (std::string name; std::getline(ss, name, ',');) {
    const auto t = dtype_from_name(name);
    if (!t || !is_ggml_quant_type(*t)) {
      std::fprintf(stderr, "unknown ggml type '%s'\n", name.c_str());
      return 2;
    }
    types.push_back(*t);
  }

  // One 7B-like decoder layer: q, k, v, o (4096×4096), gate, up (11008×4096), down (4096×11008),
  // repeated until the f16 input reaches the requested size.
  const std::vector<std::pair<int64_t, int64_t>> layer = {{4096, 4096}, {4096, 4096},  {4096, 4096}, {4096, 4096},
                                                          {11008, 4096}, {11008, 4096}, {4096, 11008}};
  std::vector<Tensor> tensors;
  uint64_t f16_bytes = 0, elements = 0;
  const auto t_gen = std::chrono::steady_clock::now();
  for (size_t i = 0; static_cast<double>(f16_bytes) < gb * 1e9; ++i) {
    const auto [rows, cols] = layer[i % layer.size()];
    Tensor t{rows, cols, std::vector<uint16_t>(static_cast<size_t>(rows * cols))};
    fill_normal_f16(t.f16, 1000 + i);
    f16_bytes += t.f16.size() * 2;
    elements += t.f16.size();
    tensors.push_back(std::move(t));
  }
  const double gen_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_gen).count();
  std::printf("generated %zu tensors, %.3f GB of f16 in %.1f s\n", tensors.size(), static_cast<double>(f16_bytes) / 1e9,
              gen_s);

  nlohmann::json j = {{"benchmark", "rtn_ggml"}, {"machine", bench::machine()}, {"threads", threads},
                      {"input_f16_gb", static_cast<double>(f16_bytes) / 1e9}, {"tensors", tensors.size()},
                      {"elements", elements}, {"reps", reps}, {"weighted", weighted != 0},
                      {"note", "decode f16 -> f32 in row chunks + ggml_quantize; in-memory, no file I/O"}};
  const std::map<DType, double> llama_quantize = {{DType::Q4_0, 0.48}, {DType::Q8_0, 0.30}, {DType::Q4_K, 0.07}};
  // f32 rows of one chunk (64 MB): large enough that the two parallel loops per chunk (decode,
  // quantize) do not spend their time in barriers when the machine is shared.
  std::vector<float> buf(size_t{1} << 24);
  std::vector<float> weights(11008);  // per-column importances, the widest row
  uint64_t ws = 77;
  for (auto& w : weights) w = 0.1f + static_cast<float>(splitmix64(ws) >> 40) * 0x1.0p-24f;
  for (const DType type : types) {
    std::vector<uint8_t> out(dtype_bytes(type, elements));
    std::vector<double> secs;
    const double cpu0 = cpu_seconds();
    for (int r = 0; r < reps; ++r) secs.push_back(run_once(type, tensors, out, buf, weighted ? &weights : nullptr));
    const double cpu = (cpu_seconds() - cpu0) / reps;
    std::sort(secs.begin(), secs.end());
    const double s = secs[secs.size() / 2], gbs = static_cast<double>(f16_bytes) / 1e9;
    nlohmann::json r = {{"type", dtype_name(type)}, {"seconds", s}, {"gb_per_s", gbs / s}, {"seconds_all", secs},
                        {"cpu_seconds", cpu}, {"gb_per_cpu_second", gbs / cpu}, {"output_bytes", out.size()}};
    if (llama_quantize.count(type) && !weighted) r["llama_quantize_gb_per_s"] = llama_quantize.at(type);
    std::printf("%s: %.2f s, %.3f GB/s (%.2f CPU s, %.3f GB per CPU second)\n", dtype_name(type), s, gbs / s, cpu,
                gbs / cpu);
    j["results"].push_back(r);
  }
  j["peak_rss_mb"] = bench::peak_rss_mb();
  bench::write_result(out_path, j);
  return 0;
}
