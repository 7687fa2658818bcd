// The scale views' forward passes (core/analysis/scale_loss.h, ScaleLossRunner) on the Vulkan
// backend: the blocks it is given (uploaded in fp32) and the hidden-state slots live on the device;
// run() records one block over a slot with the forward pass's ops (gpu/model/block_recorder.h),
// loss() the final norm, the head in chunks and logit_stats.comp, whose per-position maximum, sum of
// exponentials and target logit the host turns into the mean NLL in double (as the CPU's runner). One
// submission per call. A failed allocation (DeviceOptions::max_device_bytes included) is the call's
// Error; a model the forward pass does not run is Unsupported. The Device must outlive the runner.
#pragma once

#include "core/analysis/scale_loss.h"
#include "gpu/device/device.h"
#include "gpu/model/vulkan_forward.h"

namespace lowbit::gpu {

// A ScaleLossRunnerFactory on `device`, which must outlive it and its runners.
ScaleLossRunnerFactory vulkan_scale_loss_factory(Device& device, const VulkanForwardOptions& options = {});

}  // namespace lowbit::gpu
