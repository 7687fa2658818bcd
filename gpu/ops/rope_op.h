// Rotary position embedding on the Vulkan backend (gpu/shaders/rope.comp), in place on q or k
// [rows, heads·head_dim] with row i at position i mod T, rotating the first rotary_dim elements of
// every head (partial rotary) in core's two pairings (RopeStyle::Neox, RopeStyle::Interleaved).
// The angles come from a table the host computes with exactly the arithmetic of core's forward pass
// (fp32 inverse frequencies and angles, cos and sin in double rounded to fp32), so the GPU rotates
// by the very same values; record_rope() reads it from a device buffer, rope() wraps both for host
// spans. Shapes are InvalidArgument, sizes past the shader's 32-bit indices Unsupported.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/model/config.h"
#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

struct RopeShape {
  int64_t rows = 0;  // tokens of all windows
  int64_t heads = 0;
  int64_t head_dim = 0;
  int64_t rotary_dim = 0;  // even, ≤ head_dim (ModelConfig::rotary_dim())
  int64_t T = 0;           // window length: row i is at position i mod T

  Expected<void> validate() const;
};

// cos[T, rotary_dim / 2] followed by sin[T, rotary_dim / 2], as core/model/forward.cpp computes them.
std::vector<float> rope_table(double theta, int64_t rotary_dim, int64_t T);

// x: rows·heads·head_dim floats, rotated in place; table: rope_table(θ, rotary_dim, T).
Expected<void> record_rope(CommandRecorder& recorder, RopeStyle style, const RopeShape& shape, const Buffer& x,
                           const Buffer& table);

Expected<void> rope(Device& device, RopeStyle style, const RopeShape& shape, double theta, std::span<float> x);

}  // namespace lowbit::gpu
