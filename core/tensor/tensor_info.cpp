#include "core/tensor/tensor_info.h"

#include <cstring>

#include "core/tensor/ggml_dequant.h"
#include "core/tensor/half.h"

namespace lowbit {

std::string TensorInfo::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Expected<void> decode_to_f32(const TensorInfo& info, float* out) {
  if (info.decode) return info.decode(out);
  const auto n = static_cast<size_t>(info.numel());
  // Tensor data need not be aligned to its element size (safetensors offsets are arbitrary), so
  // elements are loaded byte-wise (memcpy); an empty tensor may have no buffer at all.
  switch (info.dtype) {
    case DType::F32:
      if (n) std::memcpy(out, info.data, n * sizeof(float));
      return {};
    case DType::F16: f16_to_f32(reinterpret_cast<const uint16_t*>(info.data), out, n); return {};
    case DType::BF16: bf16_to_f32(reinterpret_cast<const uint16_t*>(info.data), out, n); return {};
    case DType::F64:
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, info.data + i * sizeof(double), sizeof(double));
        out[i] = static_cast<float>(d);
      }
      return {};
    default: break;
  }
  if (is_block_type(info.dtype)) {
    if (!ggml_dequantize(info.dtype, info.data, out, n))
      return make_error(ErrorCode::Unsupported, info.file + ": tensor '" + info.name + "' has type " +
                                                    dtype_name(info.dtype) + ", which this build cannot decode yet");
    return {};
  }
  return make_error(ErrorCode::Unsupported, info.file + ": tensor '" + info.name + "' has dtype " +
                                                dtype_name(info.dtype) + ", which is not a floating-point weight type");
}

Expected<std::vector<float>> decode_to_f32(const TensorInfo& info) {
  std::vector<float> out(static_cast<size_t>(info.numel()));
  LB_TRY_VOID(decode_to_f32(info, out.data()));
  return out;
}

}  // namespace lowbit
