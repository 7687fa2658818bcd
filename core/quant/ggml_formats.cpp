// Dispatch and threading for the ggml block formats. Reference quantization has no state across
// blocks, so any split of the blocks gives the same bytes; the work is cut into chunks of whole
// blocks shared by OpenMP threads. The weighted paths have per-row state (σ² of the row for the
// 32-element types), so they are split by rows.
#include "core/quant/ggml_formats.h"

#include <algorithm>

#include "core/quant/ggml_blocks.h"
#include "core/util/check.h"

namespace lowbit {
namespace {

struct Kernels {
  void (*quantize)(const float*, uint8_t*, int64_t nb);
  void (*quantize_weighted)(const float*, uint8_t*, int64_t n_per_row, const float*);
  void (*dequantize)(const uint8_t*, float*, int64_t nb);
};

#define LOWBIT_KERNELS(t) Kernels{ggml::quantize_##t, ggml::quantize_##t##_weighted, ggml::dequantize_##t}

const Kernels* kernels(DType type) {
  static const Kernels q4_0 = LOWBIT_KERNELS(q4_0), q4_1 = LOWBIT_KERNELS(q4_1), q5_0 = LOWBIT_KERNELS(q5_0),
                       q5_1 = LOWBIT_KERNELS(q5_1), q8_0 = LOWBIT_KERNELS(q8_0), q2_k = LOWBIT_KERNELS(q2_K),
                       q3_k = LOWBIT_KERNELS(q3_K), q4_k = LOWBIT_KERNELS(q4_K), q5_k = LOWBIT_KERNELS(q5_K),
                       q6_k = LOWBIT_KERNELS(q6_K);
  switch (type) {
    case DType::Q4_0: return &q4_0;
    case DType::Q4_1: return &q4_1;
    case DType::Q5_0: return &q5_0;
    case DType::Q5_1: return &q5_1;
    case DType::Q8_0: return &q8_0;
    case DType::Q2_K: return &q2_k;
    case DType::Q3_K: return &q3_k;
    case DType::Q4_K: return &q4_k;
    case DType::Q5_K: return &q5_k;
    case DType::Q6_K: return &q6_k;
    default: return nullptr;
  }
}
#undef LOWBIT_KERNELS

// Elements per parallel work item: large enough that scheduling costs nothing, small enough that
// two threads stay balanced on a single 4096-wide row block.
constexpr int64_t kChunkElements = 16384;

}  // namespace

bool is_ggml_quant_type(DType type) { return kernels(type) != nullptr; }

void ggml_quantize(DType type, const float* src, uint8_t* dst, size_t n) {
  const Kernels* k = kernels(type);
  LB_CHECK(k, std::string("ggml_quantize: not a ggml block type: ") + dtype_name(type));
  const auto& tr = traits(type);
  LB_CHECK(n % tr.block_size == 0, "ggml_quantize: n is not a multiple of the block size");
  const auto nb = static_cast<int64_t>(n / tr.block_size);
  const int64_t chunk_blocks = std::max<int64_t>(1, kChunkElements / tr.block_size);
  const int64_t nchunks = (nb + chunk_blocks - 1) / chunk_blocks;
#pragma omp parallel for schedule(dynamic, 1) if (nchunks > 1)
  for (int64_t c = 0; c < nchunks; ++c) {
    const int64_t b0 = c * chunk_blocks, b1 = std::min(nb, b0 + chunk_blocks);
    k->quantize(src + b0 * tr.block_size, dst + b0 * tr.block_bytes, b1 - b0);
  }
}

void ggml_quantize_weighted(DType type, const float* src, uint8_t* dst, int64_t rows, int64_t n_per_row,
                            const float* weights) {
  const Kernels* k = kernels(type);
  LB_CHECK(k, std::string("ggml_quantize_weighted: not a ggml block type: ") + dtype_name(type));
  const auto& tr = traits(type);
  LB_CHECK(rows >= 0 && n_per_row >= 0 && n_per_row % tr.block_size == 0,
           "ggml_quantize_weighted: n_per_row is not a multiple of the block size");
  if (!weights) {
    ggml_quantize(type, src, dst, static_cast<size_t>(rows * n_per_row));
    return;
  }
  const auto row_bytes = static_cast<int64_t>(dtype_bytes(type, static_cast<uint64_t>(n_per_row)));
#pragma omp parallel for schedule(dynamic, 1) if (rows > 1)
  for (int64_t r = 0; r < rows; ++r) k->quantize_weighted(src + r * n_per_row, dst + r * row_bytes, n_per_row, weights);
}

double ggml_bits_per_weight(DType type) {
  const auto& tr = traits(type);
  return 8.0 * tr.block_bytes / tr.block_size;
}

}  // namespace lowbit
