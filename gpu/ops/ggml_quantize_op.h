// ggml's reference quantizers of every ggml block type on the Vulkan backend: the legacy 32-weight
// types q4_0, q4_1, q5_0, q5_1, q8_0 (gpu/shaders/ggml_quantize_legacy.comp) and the K-quants q2_K,
// q3_K, q4_K, q5_K, q6_K with their scale searches (gpu/shaders/ggml_quantize_k.comp): the bytes of
// core's ggml_quantize (core/quant/ggml_formats.h, llama.cpp's quantize_row_*_ref), bit for bit.
// ggml_quantize_on_device says which types are on the device.
// record_ggml_quantize() records on device buffers: W, `blocks` blocks of fp32 weights (32 or 256
// each), in (rows are whole blocks, so a tensor is one run of blocks); the packed blocks out (the
// buffer rounded up to a 4-byte word). ggml_quantize() wraps it for host spans. A type not on the
// device or a count that is not whole blocks is InvalidArgument; sizes past the shader's 32-bit
// indices Unsupported.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/tensor/dtype.h"
#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

bool ggml_quantize_on_device(DType type);

Expected<void> record_ggml_quantize(CommandRecorder& recorder, DType type, uint64_t blocks, const Buffer& w, const Buffer& out);

// w: whole blocks of the type (32 or 256 floats each). Returns dtype_bytes(type, w.size()) bytes.
Expected<std::vector<uint8_t>> ggml_quantize(Device& device, DType type, std::span<const float> w);

// ggml's importance-weighted paths (quantize_row_*_impl) of every block type — core's
// ggml_quantize_weighted, bit for bit — on W [rows, cols] (cols a multiple of the block) with one
// importance per column `qw` (all ones: the scale search of `--mse`). Legacy types: the row's σ²
// first (gpu/shaders/ggml_row_sigma2.comp), then the WEIGHTED variants of ggml_quantize_legacy.comp;
// K-quants: the K_WEIGHTED variants of ggml_quantize_k.comp (σ² per super-block).
// ggml_quantize_weighted_on_device says which types have a device path.
bool ggml_quantize_weighted_on_device(DType type);
Expected<std::vector<uint8_t>> ggml_quantize_weighted(Device& device, DType type, std::span<const float> w, int64_t rows,
                                                      int64_t cols, std::span<const float> qw);

}  // namespace lowbit::gpu
