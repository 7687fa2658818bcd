#include "core/tensor/ggml_dequant.h"

#include <algorithm>

#include "core/quant/ggml_blocks.h"

namespace lowbit {
namespace {

using DequantFn = void (*)(const uint8_t*, float*, int64_t nb);

DequantFn dequantizer(DType type) {
  switch (type) {
    case DType::Q4_0: return ggml::dequantize_q4_0;
    case DType::Q4_1: return ggml::dequantize_q4_1;
    case DType::Q5_0: return ggml::dequantize_q5_0;
    case DType::Q5_1: return ggml::dequantize_q5_1;
    case DType::Q8_0: return ggml::dequantize_q8_0;
    case DType::Q2_K: return ggml::dequantize_q2_K;
    case DType::Q3_K: return ggml::dequantize_q3_K;
    case DType::Q4_K: return ggml::dequantize_q4_K;
    case DType::Q5_K: return ggml::dequantize_q5_K;
    case DType::Q6_K: return ggml::dequantize_q6_K;
    default: return nullptr;
  }
}

}  // namespace

// Decodes with ggml's dequantize_row_* arithmetic (core/quant/ggml_*.cpp); large tensors are split
// into chunks of whole blocks across OpenMP threads.
bool ggml_dequantize(DType type, const uint8_t* src, float* dst, size_t n) {
  const DequantFn fn = dequantizer(type);
  const auto& tr = traits(type);
  if (!fn || n % tr.block_size != 0) return false;
  const auto nb = static_cast<int64_t>(n / tr.block_size);
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 16) / tr.block_size);
  const int64_t nchunks = (nb + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (nchunks > 1)
  for (int64_t c = 0; c < nchunks; ++c) {
    const int64_t b0 = c * chunk, b1 = std::min(nb, b0 + chunk);
    fn(src + b0 * tr.block_bytes, dst + b0 * tr.block_size, b1 - b0);
  }
  return true;
}

}  // namespace lowbit
