// Per-channel |x| statistics of calibration inputs on the Vulkan backend: for X[T, C] (tokens ×
// channels, fp32) sums[c] += Σ_t |X[t, c]| and maxes[c] = max(maxes[c], max_t |X[t, c]|)
// (gpu/shaders/column_abs_stats.comp) — with the Hessian of gpu/ops/hessian_op.h, what core's
// InputStats collects (the oracle). record_column_abs_stats() records on device buffers (a forward
// pass feeds them); column_abs_stats() wraps it for host spans. Wrong sizes are InvalidArgument;
// beyond 32-bit indices, Unsupported.
#pragma once

#include <cstdint>
#include <span>

#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

// x: T·C floats; sums and maxes: C floats each, updated. Barriers are the caller's.
Expected<void> record_column_abs_stats(CommandRecorder& recorder, int64_t tokens, int64_t channels, const Buffer& x,
                                       const Buffer& sums, const Buffer& maxes);

// The same for host spans: sums and maxes are read and receive the result.
Expected<void> column_abs_stats(Device& device, std::span<const float> x, int64_t tokens, int64_t channels,
                                std::span<float> sums, std::span<float> maxes);

}  // namespace lowbit::gpu
