// TensorInfo: one stored tensor as a checkpoint reader found it — name, dtype, shape and a pointer
// into the memory-mapped file. Shapes are row-major, outermost first, for every source: a linear
// weight is [rows = outputs, cols = inputs] whether it came from safetensors or GGUF (GGUF's ne[]
// is reversed on read). The data pointer is valid while the owning file mapping lives.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor/dtype.h"
#include "core/util/expected.h"

namespace lowbit {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;     // outermost first
  const uint8_t* data = nullptr;  // into the mapped file
  uint64_t nbytes = 0;
  uint64_t file_offset = 0;       // absolute offset in `file`, for messages
  std::string file;               // the file it lives in, for messages
  // A tensor computed on read (a GPTQ checkpoint's dequantized weight, core/io/gptq_format.h) fills
  // numel() fp32 values here; `data` is then null and decode_to_f32 calls this instead.
  std::function<Expected<void>(float* out)> decode;

  int64_t numel() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
  // Product of all but the last dimension (not numel / cols, which divides by zero for [n, 0]).
  int64_t rows() const {
    int64_t n = 1;
    for (size_t i = 0; i + 1 < shape.size(); ++i) n *= shape[i];
    return n;
  }
  int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
  std::string shape_string() const;
};

// Decodes `info` into fp32. Plain float types are widened; ggml block types are dequantized; a
// tensor computed on read runs its decoder.
// Fails with a message naming the tensor when its dtype cannot be decoded.
Expected<void> decode_to_f32(const TensorInfo& info, float* out);
Expected<std::vector<float>> decode_to_f32(const TensorInfo& info);

}  // namespace lowbit
