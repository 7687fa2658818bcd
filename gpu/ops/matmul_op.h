// matmul on the Vulkan backend: Y[M,N] = X[M,K] · W[N,K]ᵀ, with W row-major [out, in] as the core's
// Linear stores it, fp32 activations and outputs, fp32 accumulation, and W in any storage format of
// the core (core/quant/format.h), dequantized on the fly inside the product (gpu/shaders/matmul.comp,
// one variant per format):
//   Float  f32, f16, bf16: N·K elements, little-endian, row-major;
//   Ggml   q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k q4_k q5_k q6_k: the packed blocks of each row back to
//          back, rows back to back: exactly the bytes core's ggml_quantize produces and a GGUF holds;
//   Int    int{b}g{g}{a|s}: the GPU layout of gpu/ops/int_weights.h (pack_int_weights).
// Two shader paths compute it (MatmulPath): the portable one (matmul.comp: fp32 X, fp32 products
// and sums, any Vulkan device) and the cooperative-matrix one (matmul_coop.comp: X and the
// dequantized W rounded to fp16, products on the tensor cores, fp32 sums), which a caller asks for
// and gets only where the device has it (DeviceInfo::cooperative_matrix), the portable path
// elsewhere; resolve_matmul_path() says which will run. Every caller in the core takes the portable
// path: fp16 activations would move perplexities and GPTQ's codes away from the CPU's. A third,
// CooperativeEmulated, runs the cooperative shader with its matrix operations written out, on any
// device: how the tests check that shader's tiling where no device has cooperative matrices.
// The pattern every op follows: shapes are validated into Errors, record_matmul() records the
// dispatch on buffers already on the device (what a forward pass chains), and matmul() wraps it for
// host spans: upload, bind, push, dispatch, download, all in one submission. Wrong shapes, span
// sizes, a K that is not a whole number of blocks or groups are ErrorCode::InvalidArgument; onebit
// weights and shapes beyond the shader's 32-bit offsets or the device's limits are Unsupported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/quant/format.h"
#include "core/quant/int_quant.h"
#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

enum class MatmulPath { Portable, Cooperative, CooperativeEmulated };
const char* matmul_path_name(MatmulPath path);  // "portable", "cooperative", "cooperative-emulated"
// The path a request for `path` runs on `device`: Cooperative only where the device has it.
MatmulPath resolve_matmul_path(const Device& device, MatmulPath path);

struct MatmulShape {
  int64_t m = 0;  // rows of X and Y
  int64_t n = 0;  // rows of W, columns of Y
  int64_t k = 0;  // columns of X and W

  Expected<void> validate() const;
};

// Whether W stored as `format` can take part in a product of `shape` (which must itself be valid).
Expected<void> check_matmul_weights(const Format& format, const MatmulShape& shape);

// Bytes of W as stored in `format` (see above) for N·K weights; meaningful where
// check_matmul_weights passes. The host span matmul() takes holds exactly this many.
uint64_t matmul_weight_bytes(const Format& format, const MatmulShape& shape);
// Bytes a device buffer for W needs: matmul_weight_bytes rounded up to whole 32-bit words, which is
// how the shader reads every format.
uint64_t matmul_weight_buffer_bytes(const Format& format, const MatmulShape& shape);

// Records Y = X · Wᵀ: x holds M·K floats, w the weights (matmul_weight_buffer_bytes), y receives
// M·N floats. Barriers before (after x and w are written) and after (before y is read) are the caller's.
// The cooperative paths first convert X to fp16 (matmul_coop_x.comp) into a scratch buffer the
// recorder owns: M × (K rounded up to 8) × 2 bytes of device memory while the recording lives.
Expected<void> record_matmul(CommandRecorder& recorder, const MatmulShape& shape, const Format& weights,
                             const Buffer& x, const Buffer& w, const Buffer& y, MatmulPath path = MatmulPath::Portable);

// For benchmarks (tests/bench/matmul_bench.cpp): the cooperative shader with fp16 weights cut down to
// one half of its work, to see where its time goes — Mma: the k loop's shared-memory matrix loads and
// tensor-core products on tiles staged once (no memory reads, no staging in the loop), Loads: the k
// loop's memory reads, fp16 conversion and staging (with its barriers), no products. Y's values
// mean nothing. Unsupported where the device has no cooperative matrices.
enum class CoopProbe { Mma, Loads };
Expected<void> record_matmul_coop_probe(CommandRecorder& recorder, const MatmulShape& shape, const Buffer& x, const Buffer& w,
                                        const Buffer& y, CoopProbe probe);

// Host spans: x holds M·K floats, w matmul_weight_bytes(weights, shape) bytes, y receives M·N floats.
Expected<void> matmul(Device& device, const MatmulShape& shape, const Format& weights, std::span<const float> x,
                      std::span<const std::byte> w, std::span<float> y, MatmulPath path = MatmulPath::Portable);
// fp32 weights.
Expected<void> matmul(Device& device, std::span<const float> x, std::span<const float> w, int64_t M, int64_t N,
                      int64_t K, std::span<float> y);
// fp16 weights as IEEE binary16 bit patterns (core/tensor/half.h).
Expected<void> matmul(Device& device, std::span<const float> x, std::span<const uint16_t> w, int64_t M, int64_t N,
                      int64_t K, std::span<float> y);
// Int-family weights [N, K] = [w.rows, w.cols], packed by pack_int_weights.
Expected<void> matmul(Device& device, std::span<const float> x, const IntTensor& w, int64_t M, std::span<float> y);

}  // namespace lowbit::gpu
