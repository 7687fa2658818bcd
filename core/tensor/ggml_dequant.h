// Dequantization of ggml block types to fp32, following the block layouts of ggml-common.h.
// Returns false for a type this build does not decode; `n` must be a multiple of the block size.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/tensor/dtype.h"

namespace lowbit {

bool ggml_dequantize(DType type, const uint8_t* src, float* dst, size_t n);

}  // namespace lowbit
