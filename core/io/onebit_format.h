// The onebit checkpoint (`lowbit quantize --method onebit --out DIR`), read and written here. A
// OneBit linear layer (METHODS.md §5) is y = h ⊙ (S (g ⊙ x)): a ±1 sign matrix S [rows, cols] and two
// fp16 value vectors, g over the inputs and h over the outputs, so that the dense weight is
// Ŵ[i, j] = S[i, j] · (h[i] · g[j]) (computed in fp32 exactly in that order, which both the
// in-memory evaluation and this reader use, so the file reproduces the evaluated model bit for bit).
// The folder is a Hugging Face checkpoint: config.json is the source's plus
//   "quantization_config": {"quant_method": "lowbit-onebit", "version": 1},
// the source's tokenizer files, and model.safetensors holding, for every quantized checkpoint tensor
// `<tensor>` (e.g. `model.layers.0.self_attn.q_proj.weight`), in place of `<tensor>` itself:
//   <tensor>.onebit_signs  U8  [rows, ceil(cols/8)]  bit j%8 of byte j/8 of row i (least significant
//                                                    bit first) is 1 when S[i, j] = +1, 0 when −1;
//                                                    the padding bits of a row's last byte are 0;
//   <tensor>.onebit_g      F16 [cols]                the input values g;
//   <tensor>.onebit_h      F16 [rows]                the output values h;
// and every other tensor in the source's dtype and shape. rows × cols is the layer in the forward
// pass's orientation [outputs, inputs], also for gpt2, whose Conv1D weights the checkpoint stores
// transposed ([inputs, outputs]); the reader gives such a tensor back in the checkpoint's
// orientation. A fused checkpoint tensor (phi3 qkv_proj / gate_up_proj, gpt2 c_attn) is one 1-bit
// layer, as the module is one linear layer of the source: its parts share g (they read the same
// input) and stack their signs and h by rows in the checkpoint's order (q, k, v; gate, up).
// Opening such a folder lists each `<tensor>` as an fp32 tensor decoded on read, so loading,
// `lowbit info` and `lowbit ppl` work on it unchanged; shapes and dtypes are checked when the folder
// is opened, with errors naming the file and tensor.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tensor/tensor_info.h"
#include "core/util/expected.h"

namespace lowbit {

inline constexpr const char* kOneBitQuantMethod = "lowbit-onebit";
inline constexpr int kOneBitVersion = 1;
inline constexpr const char* kOneBitSignsSuffix = ".onebit_signs";
inline constexpr const char* kOneBitGSuffix = ".onebit_g";
inline constexpr const char* kOneBitHSuffix = ".onebit_h";

// Whether config.json declares a onebit checkpoint (quantization_config.quant_method "lowbit-onebit").
bool is_onebit_config(const nlohmann::json& config);
// Checks quantization_config's version; `where` names config.json in messages.
Expected<void> check_onebit_config(const nlohmann::json& config, const std::string& where);

// Bytes of one row of packed signs.
inline int64_t onebit_row_bytes(int64_t cols) { return (cols + 7) / 8; }
// Packs the signs of `values` [rows, cols] (+1 where value >= 0, so −0 and 0 count as +1) into
// rows × onebit_row_bytes(cols) bytes, padding bits 0.
void onebit_pack_signs(const float* values, int64_t rows, int64_t cols, uint8_t* packed);
// S[i, j] as ±1 from packed signs.
inline float onebit_sign(const uint8_t* packed, int64_t cols, int64_t i, int64_t j) {
  return (packed[i * onebit_row_bytes(cols) + j / 8] >> (j % 8)) & 1 ? 1.0f : -1.0f;
}
// Ŵ [rows, cols] row-major (or [cols, rows] when `transposed`) from packed signs and the values.
void onebit_dequantize(const uint8_t* packed, const float* g, const float* h, int64_t rows, int64_t cols, float* out,
                       bool transposed = false);

// Replaces each `<tensor>.onebit_signs/_g/_h` triple of a onebit checkpoint by one fp32 tensor
// `<tensor>` decoded on read ([rows, cols], or [cols, rows] when `conv1d`). Shapes and dtypes are
// checked here. `keep_alive` owns the mapped files; `where` names the checkpoint in messages.
Expected<std::vector<TensorInfo>> onebit_resolve_tensors(const std::vector<TensorInfo>& stored, bool conv1d,
                                                         std::shared_ptr<const void> keep_alive, const std::string& where);

}  // namespace lowbit
