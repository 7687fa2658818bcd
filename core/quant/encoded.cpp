#include "core/quant/encoded.h"

#include <algorithm>
#include <cstring>

#include "core/quant/ggml_formats.h"
#include "core/quant/gptq.h"
#include "core/tensor/half.h"
#include "core/util/check.h"

namespace lowbit {

uint64_t EncodedTensor::row_bytes() const {
  LB_CHECK(format.kind == Format::Kind::Ggml || format.kind == Format::Kind::Float, "row bytes of a format without byte rows");
  return dtype_bytes(format.dtype, static_cast<uint64_t>(cols));
}

void EncodedTensor::dequantize(float* out) const {
  const size_t n = static_cast<size_t>(rows * cols);
  switch (format.kind) {
    case Format::Kind::Int: dequantize_int(ints, out); return;
    case Format::Kind::Ggml: LB_CHECK(ggml_dequantize(format.dtype, bytes.data(), out, n), "ggml type without a decoder"); return;
    case Format::Kind::Float:
      if (format.dtype == DType::F32) std::memcpy(out, bytes.data(), n * sizeof(float));
      else if (format.dtype == DType::F16) f16_to_f32(reinterpret_cast<const uint16_t*>(bytes.data()), out, n);
      else bf16_to_f32(reinterpret_cast<const uint16_t*>(bytes.data()), out, n);
      return;
    case Format::Kind::OneBit: break;
  }
  LB_CHECK(false, "onebit tensors are not encoded here");
}

Expected<EncodedTensor> encode_rtn(const float* w, int64_t rows, int64_t cols, const Format& f, bool mse_clip,
                                   const std::string& name, bool fp16_scales) {
  if (!f.fits(cols))
    return make_error(ErrorCode::Unsupported, name + ": rows of " + std::to_string(cols) + " do not fit format " + f.name());
  EncodedTensor t;
  t.format = f;
  t.rows = rows;
  t.cols = cols;
  const size_t n = static_cast<size_t>(rows * cols);
  switch (f.kind) {
    case Format::Kind::Ggml:
      t.bytes.resize(dtype_bytes(f.dtype, n));
      if (mse_clip) {
        const std::vector<float> ones(static_cast<size_t>(cols), 1.0f);
        ggml_quantize_weighted(f.dtype, w, t.bytes.data(), rows, cols, ones.data());
      } else {
        ggml_quantize(f.dtype, w, t.bytes.data(), n);
      }
      return t;
    case Format::Kind::Float:
      t.bytes.resize(dtype_bytes(f.dtype, n));
      if (f.dtype == DType::F32) {
        std::memcpy(t.bytes.data(), w, n * sizeof(float));
      } else {
        auto* p = reinterpret_cast<uint16_t*>(t.bytes.data());
        for (size_t i = 0; i < n; ++i) p[i] = f.dtype == DType::F16 ? f32_to_f16(w[i]) : f32_to_bf16(w[i]);
      }
      return t;
    case Format::Kind::Int:
      t.ints = mse_clip ? rtn_int_mse(w, rows, cols, f, kRtnMseMinShrink, kRtnMseSteps, fp16_scales) : rtn_int(w, rows, cols, f, 1.0f, fp16_scales);
      return t;
    case Format::Kind::OneBit: break;
  }
  return make_error(ErrorCode::Unsupported, name + ": format " + f.name() + " needs --method onebit");
}

EncodedTensor encoded_from_gptq(GptqResult&& q, const Format& f, int64_t rows, int64_t cols) {
  EncodedTensor t;
  t.format = f;
  t.rows = rows;
  t.cols = cols;
  if (f.kind == Format::Kind::Int) t.ints = std::move(q.tensor);
  else t.bytes = std::move(q.ggml);
  return t;
}

Expected<void> stack_rows(EncodedTensor& into, EncodedTensor next, const std::string& name) {
  if (!(into.format == next.format) || into.cols != next.cols)
    return make_error(ErrorCode::Unsupported, name + ": the parts of a fused tensor must share one format (" + into.format.name() +
                                                  " vs " + next.format.name() + ")");
  if (into.format.kind == Format::Kind::Int) {
    into.ints.codes.insert(into.ints.codes.end(), next.ints.codes.begin(), next.ints.codes.end());
    into.ints.grids.insert(into.ints.grids.end(), next.ints.grids.begin(), next.ints.grids.end());
    into.ints.rows += next.ints.rows;
  } else {
    into.bytes.insert(into.bytes.end(), next.bytes.begin(), next.bytes.end());
  }
  into.rows += next.rows;
  return {};
}

EncodedTensor permute_rows(const EncodedTensor& t, const std::vector<int64_t>& perm) {
  LB_CHECK(static_cast<int64_t>(perm.size()) == t.rows, "permutation of the wrong length");
  EncodedTensor out = t;
  if (t.format.kind == Format::Kind::Int) {
    const int64_t g = t.ints.groups();
    for (int64_t i = 0; i < t.rows; ++i) {
      const int64_t src = perm[static_cast<size_t>(i)];
      std::copy_n(t.ints.codes.begin() + src * t.cols, t.cols, out.ints.codes.begin() + i * t.cols);
      std::copy_n(t.ints.grids.begin() + src * g, g, out.ints.grids.begin() + i * g);
    }
  } else {
    const auto rb = static_cast<int64_t>(t.row_bytes());
    for (int64_t i = 0; i < t.rows; ++i)
      std::memcpy(out.bytes.data() + i * rb, t.bytes.data() + perm[static_cast<size_t>(i)] * rb, static_cast<size_t>(rb));
  }
  return out;
}

}  // namespace lowbit
