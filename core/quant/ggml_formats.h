// The ggml block formats (q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k q4_k q5_k q6_k): quantization and
// dequantization with ggml's byte layouts (ggml-common.h). `ggml_quantize` is bit-exact with ggml's
// reference quantizers (quantize_row_*_ref), i.e. with what `llama-quantize` writes without an
// importance matrix; `ggml_quantize_weighted` follows llama.cpp's importance-weighted paths
// (quantize_*_impl with quant_weights). Bit-exactness rests on doing every float operation in
// ggml's order and association, without FMA contraction (these sources build with
// -ffp-contract=off), on ggml's nearest_int and on its fp16 round trips. Work is split across
// blocks (reference) or rows (weighted) with OpenMP; results do not depend on the thread count, and
// a call from inside a parallel region runs on the calling thread. Inputs are expected to be
// finite: blocks holding inf or nan get unspecified codes, as in ggml.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/tensor/dtype.h"
#include "core/tensor/ggml_dequant.h"  // ggml_dequantize

namespace lowbit {

// Whether `type` is one of the ggml block types above.
bool is_ggml_quant_type(DType type);

// Quantizes `n` floats (a multiple of the type's block size; one or more whole rows) into `dst`
// (dtype_bytes(type, n) bytes), bit-exact with ggml's reference quantizer (quantize_row_*_ref).
// Aborts (LB_CHECK) on a type that is not a ggml block type or an `n` that is not a block multiple.
void ggml_quantize(DType type, const float* src, uint8_t* dst, size_t n);

// Importance-weighted variant: llama.cpp's quantize_<type>_impl with quant_weights. `weights` holds
// one positive value per column (n_per_row values, repeated for every row); n_per_row must be a
// multiple of the block size. A null `weights` gives the reference quantizer, as in ggml. q8_0 has
// no weighted path in ggml and equals the reference. Every other type follows ggml's weighted path.
void ggml_quantize_weighted(DType type, const float* src, uint8_t* dst, int64_t rows, int64_t n_per_row,
                            const float* weights);

// Bits per stored weight: 8 × block bytes / block size (q4_0: 4.5, q4_k: 4.5, q6_k: 6.5625).
double ggml_bits_per_weight(DType type);

}  // namespace lowbit
