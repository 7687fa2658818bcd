// Round-to-nearest quantization into the integer family on the Vulkan backend
// (gpu/shaders/rtn_int.comp): the min-max grids and codes of core's rtn_int
// (core/quant/int_quant.h), bit for bit — the same scales and zero points, the same codes — for any
// int{b}g{g}{a|s} format, an optional fixed clip ratio (shrink) and fp16-rounded scales.
// record_rtn_int() records on device buffers: W [rows, cols] fp32 in, codes (one uint32 per
// weight) and grids ((scale, zero) float pairs, [rows, groups]) out; rtn_int() wraps it and returns
// core's IntTensor. A format outside the int family, or one whose group does not divide cols, is
// InvalidArgument; sizes past the shader's 32-bit indices Unsupported.
#pragma once

#include <cstdint>
#include <span>

#include "core/quant/encoded.h"
#include "core/quant/format.h"
#include "core/quant/int_quant.h"
#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

struct RtnIntShape {
  int64_t rows = 0;
  int64_t cols = 0;
  Format format;
  float shrink = 1.0f;       // in (0, 1]; with mse_steps, the smallest ratio tried
  bool fp16_scales = false;  // scales rounded to fp16 after the zero point is chosen, as core does
  int mse_steps = 0;         // > 0: core's rtn_int_mse, per group the best of that many ratios (`--mse`)

  Expected<void> validate() const;
  int64_t groups() const { return cols / format.group_size(cols); }
};

Expected<void> record_rtn_int(CommandRecorder& recorder, const RtnIntShape& shape, const Buffer& w, const Buffer& codes,
                              const Buffer& grids);

// w: rows·cols floats, row-major.
Expected<IntTensor> rtn_int(Device& device, const RtnIntShape& shape, std::span<const float> w);

// QuantizeOptions::rtn_backend on `device` (which must outlive it): the int family through rtn_int,
// ggml's block types (legacy and K-quants) through gpu/ops/ggml_quantize_op.h — the CPU's bytes
// either way; with mse_clip the int family's clip search (rtn_int_mse's) and the legacy ggml types'
// weighted search with unit importances (ggml_quantize_weighted). Unsupported (the CPU runs it) for
// the K-quants' weighted search and float kinds.
RtnBackend vulkan_rtn(Device& device);

}  // namespace lowbit::gpu
