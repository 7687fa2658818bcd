// Weights in one of the matmul op's storage formats (gpu/ops/matmul_op.h), shared by the GPU tests and
// the benchmarks: the bytes the op takes and the values they stand for — the core's quantization and
// dequantization (ggml_quantize / ggml_dequantize, rtn_int / dequantize_int packed by
// pack_int_weights) or fp16/bf16 rounding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "core/quant/format.h"
#include "core/quant/ggml_formats.h"
#include "core/quant/int_quant.h"
#include "core/tensor/half.h"
#include "core/util/expected.h"
#include "gpu/ops/int_weights.h"

namespace lowbit::test {

struct PackedWeights {
  std::vector<std::byte> bytes;
  std::vector<float> values;
};

// w: [n, k] row-major.
inline Expected<PackedWeights> pack_weights(const Format& f, const std::vector<float>& w, int64_t n, int64_t k) {
  PackedWeights out;
  out.values.resize(w.size());
  if (f.kind == Format::Kind::Int) {
    const IntTensor t = rtn_int(w.data(), n, k, f);
    dequantize_int(t, out.values.data());
    LB_TRY_ASSIGN(const std::vector<uint32_t> words, gpu::pack_int_weights(t));
    const auto b = std::as_bytes(std::span<const uint32_t>(words));
    out.bytes.assign(b.begin(), b.end());
    return out;
  }
  out.bytes.resize(dtype_bytes(f.dtype, w.size()));
  if (f.kind == Format::Kind::Ggml) {
    auto* bytes = reinterpret_cast<uint8_t*>(out.bytes.data());
    ggml_quantize(f.dtype, w.data(), bytes, w.size());
    if (!ggml_dequantize(f.dtype, bytes, out.values.data(), w.size()))
      return make_error(ErrorCode::Format, "pack_weights: " + f.name() + " did not dequantize");
    return out;
  }
  for (size_t i = 0; i < w.size(); ++i) {
    if (f.dtype == DType::F32) {
      std::memcpy(out.bytes.data() + 4 * i, &w[i], 4);
      out.values[i] = w[i];
    } else {
      const uint16_t h = f.dtype == DType::F16 ? f32_to_f16(w[i]) : f32_to_bf16(w[i]);
      std::memcpy(out.bytes.data() + 2 * i, &h, 2);
      out.values[i] = f.dtype == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
    }
  }
  return out;
}

}  // namespace lowbit::test
