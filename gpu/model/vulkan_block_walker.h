// VulkanBlockWalker: the calibration walk of core/calib/analyze.h (BlockWalker) on the Vulkan
// backend, so that GPTQ's and AWQ's calibration — the block-by-block forward passes and the
// statistics of every linear input — run on the GPU. The windows' hidden states stay on the device
// for the whole walk; each block is uploaded when the walk reaches it (and again after the sink has
// quantized it), run over chunks of windows with record_block (gpu/model/block_recorder.h), and its
// four linear inputs feed Σ x xᵀ (hessian_accumulate.comp) and the per-channel Σ |x| and max |x|
// (column_abs_stats.comp) on the device, fp32 over the walk; they are downloaded once per block into
// core's InputStats (added in double). One submission per chunk: the cancel token is polled between
// them. A device allocation that fails (DeviceOptions::max_device_bytes included) or a lost device
// fails the call with its Error. The Device must outlive the walker; one thread at a time.
#pragma once

#include <cstdint>
#include <memory>

#include "core/calib/analyze.h"
#include "gpu/device/device.h"

namespace lowbit::gpu {

struct VulkanBlockWalkerOptions {
  int64_t chunk_tokens = 4096;  // tokens per submission (whole windows, at least one)
};

// Unsupported for a model the forward shaders do not run (head_dim beyond the attention shader's).
Expected<std::unique_ptr<BlockWalker>> vulkan_block_walker(Device& device, const ModelConfig& config,
                                                           const VulkanBlockWalkerOptions& options = {});

// A BlockWalkerFactory on `device`, which must outlive it and its walkers.
BlockWalkerFactory vulkan_block_walker_factory(Device& device, const VulkanBlockWalkerOptions& options = {});

}  // namespace lowbit::gpu
