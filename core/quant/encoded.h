// EncodedTensor: one quantized tensor exactly as it is stored — what a quantizer chose and what an
// export writes, so that the file holds the codes the in-memory evaluation used. Shapes are the
// forward pass's [outputs, inputs] (rows, cols). The payload depends on the format's kind: Ggml and
// Float kinds keep the packed bytes (rows × dtype_bytes(type, cols); f16/bf16/f32 little-endian),
// the Int kind keeps codes and grids (core/quant/int_quant.h). A checkpoint tensor that fuses several
// linear layers (phi3 qkv_proj / gate_up_proj, gpt2 c_attn) is encoded slot by slot and the slots are
// stacked by rows in the checkpoint's order (q, k, v; gate, up), which is valid for every format
// because every grid lies within one row.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/quant/format.h"
#include "core/quant/int_quant.h"
#include "core/util/expected.h"

namespace lowbit {

struct GptqResult;

struct EncodedTensor {
  Format format;
  int64_t rows = 0, cols = 0;
  std::vector<uint8_t> bytes;  // Ggml and Float kinds
  IntTensor ints;              // Int kind

  // Bytes of one row in a row-addressable kind (Ggml, Float).
  uint64_t row_bytes() const;
  // The values the codes stand for, [rows, cols] row-major.
  void dequantize(float* out) const;
};

// Checkpoint tensor name → its encoding.
using EncodedTensors = std::map<std::string, EncodedTensor>;

// Encodes fp32 values [rows, cols] by round-to-nearest: ggml types by ggml's reference quantizer
// (bit-exact with llama-quantize), the int family with min-max grids. `mse_clip`: ggml's own scale
// search with uniform importance (q8_0 has none), or the int family's per-group clip search.
// `fp16_scales`: the int family's scales are rounded to fp16 before codes are chosen (int_quant.h).
Expected<EncodedTensor> encode_rtn(const float* w, int64_t rows, int64_t cols, const Format& f, bool mse_clip,
                                   const std::string& name, bool fp16_scales = false);
// Another backend's encode_rtn (same contract); it answers Unsupported for what it does not handle,
// which then runs on the CPU.
using RtnBackend = std::function<Expected<EncodedTensor>(const float* w, int64_t rows, int64_t cols, const Format& f,
                                                         bool mse_clip, const std::string& name, bool fp16_scales)>;
// A GPTQ result's codes (int family: grids and codes; ggml: the packed blocks).
EncodedTensor encoded_from_gptq(GptqResult&& q, const Format& f, int64_t rows, int64_t cols);

// Appends `next`'s rows below `into` (same format and columns), for fused checkpoint tensors.
Expected<void> stack_rows(EncodedTensor& into, EncodedTensor next, const std::string& name);

// Reorders rows: row i of the result is row perm[i] of `t` (llama q/k row order of GGUF export).
EncodedTensor permute_rows(const EncodedTensor& t, const std::vector<int64_t>& perm);

}  // namespace lowbit
