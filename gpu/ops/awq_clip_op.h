// AWQ's clip search on the Vulkan backend (gpu/shaders/awq_clip.comp; core's awq_clip_int,
// core/quant/awq.h, is the oracle): for an int-family layer W [rows, cols] with the Hessian H of its
// input, one workgroup per row runs the coordinate descent over the row's groups in double — the
// min-max RTN start, c = H d kept current, every shrink ratio of the options tried per group with
// its coupling to the other groups — and returns the codes, grids, errors and mean ratio as the CPU
// does. Grids and codes come from the same float arithmetic as the CPU's (common/int_grid.glsl); the
// errors are double sums in another order, so they agree to rounding and a ratio whose error ties
// another's to ~1e-16 may be chosen differently (tests bound how often). Unsupported (the CPU then
// searches) for other formats, groups over 1024 weights, a device without double or subgroup
// arithmetic and
// sizes past the shader's 32-bit indices; InvalidArgument for inconsistent shapes or options.
#pragma once

#include "core/quant/awq.h"
#include "core/util/expected.h"
#include "gpu/device/device.h"

namespace lowbit::gpu {

Expected<AwqClipResult> awq_clip_int(Device& device, const MatrixRM& w, const MatrixRM& h, const Format& format,
                                     const AwqOptions& options, bool fp16_scales = false);

// AwqOptions::clip_backend on `device` (which must outlive the returned function).
AwqClipBackend vulkan_awq_clip(Device& device);

}  // namespace lowbit::gpu
