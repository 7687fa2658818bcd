// Device: one opened Vulkan device, the owner of everything created on it. It holds the instance,
// the VkDevice, one compute queue, a command pool, a VkPipelineCache and the compute pipelines built
// so far (one per shader variant), and destroys them in order. Buffers, pipelines and recorders made
// on a Device must die before it. DeviceOptions is the one place that chooses a device: index -1 takes
// the best usable one (discrete, then integrated, then others, then CPU devices such as lavapipe).
// Not thread-safe: one thread records and submits at a time (the command pool and queue are shared).
#pragma once

#include <vulkan/vulkan.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "core/util/expected.h"
#include "gpu/device/device_list.h"
#include "gpu/device/instance.h"
#include "gpu/device/physical_device.h"
#include "gpu/memory/buffer.h"
#include "gpu/shaders/shader_id.h"

namespace lowbit::gpu {

class Pipeline;
struct PipelineDesc;

struct DeviceOptions {
  int device_index = -1;    // into list_devices(); -1 picks the best usable device
  bool validation = false;  // Khronos validation layer (development only; must be installed)
  // The most device-local memory the buffers on this device may hold together; 0: no limit but the
  // device's own. A buffer beyond it is ErrorCode::OutOfMemory, as if the device had run out: how a
  // smaller GPU is emulated and how tests force the out-of-memory path.
  uint64_t max_device_bytes = 0;

  Expected<void> validate() const;
};

// Optional features, enabled at creation when the device has them; shaders that need one are only
// used where it is set.
struct DeviceFeatures {
  bool storage_buffer_16bit = false;  // 16-bit types in storage buffers
  bool storage_buffer_8bit = false;   // 8-bit types in storage buffers
  bool shader_float16 = false;        // fp16 arithmetic
  bool shader_float64 = false;        // double arithmetic (awq_clip.comp)
  bool subgroup_arithmetic = false;   // subgroupAdd/Min/Max in compute shaders (awq_clip.comp); core in 1.1
  bool shader_int8 = false;           // int8 arithmetic
  bool cooperative_matrix = false;    // VK_NV_cooperative_matrix, 16×16×16 fp16 → fp32 (DeviceInfo)
};

class Device {
 public:
  static Expected<std::unique_ptr<Device>> create(const DeviceOptions& options = {});

  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  ~Device();

  const DeviceInfo& info() const { return physical_.info; }
  const DeviceFeatures& features() const { return features_; }
  const VkPhysicalDeviceLimits& limits() const { return limits_; }
  const VkPhysicalDeviceMemoryProperties& memory_properties() const { return memory_; }
  uint64_t max_allocation_bytes() const { return max_allocation_bytes_; }

  // Device-local memory held by this device's buffers now, and the limit on it (0: none). Buffers
  // created and destroyed through Buffer keep the count; the limit can be changed between jobs.
  uint64_t device_bytes_in_use() const { return device_bytes_in_use_; }
  uint64_t max_device_bytes() const { return max_device_bytes_; }
  void set_max_device_bytes(uint64_t bytes) { max_device_bytes_ = bytes; }

  VkPhysicalDevice physical_device() const { return physical_.handle; }
  VkDevice handle() const { return device_; }
  VkQueue queue() const { return queue_; }
  uint32_t queue_family() const { return static_cast<uint32_t>(physical_.compute_queue_family); }
  VkCommandPool command_pool() const { return command_pool_; }
  VkPipelineCache pipeline_cache() const { return pipeline_cache_; }

  // The pipeline for `desc`, built on first use and kept for the device's lifetime.
  Expected<const Pipeline*> pipeline(const PipelineDesc& desc);

  // Staging buffers (Upload or Readback) of at least `bytes`, kept for reuse once given back:
  // CommandRecorder takes one per transfer and gives them back when its work is done. A fresh
  // host-visible buffer pays page faults on its first touch; on the H100 host GPTQ's times grew with
  // the bytes it staged (hundreds of MB per layer) rather than with its arithmetic.
  // At most staging_kept_bytes() are kept (an eighth of the machine's memory, at most 3 GiB), the
  // least recently given back dropped first; all go with the device (the studio opens one per job).
  Expected<Buffer> take_staging(uint64_t bytes, MemoryUse use);
  void give_back_staging(Buffer&& buffer);
  uint64_t staging_kept_bytes() const { return staging_cap_; }
  uint64_t staging_bytes_kept() const;

 private:
  Device() = default;
  Expected<void> open(const DeviceOptions& options);

  friend class Buffer;  // keeps device_bytes_in_use_

  Instance instance_;
  PhysicalDevice physical_;
  DeviceFeatures features_;
  VkPhysicalDeviceLimits limits_{};
  VkPhysicalDeviceMemoryProperties memory_{};
  uint64_t max_allocation_bytes_ = 0;
  uint64_t max_device_bytes_ = 0;
  uint64_t device_bytes_in_use_ = 0;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  VkCommandPool command_pool_ = VK_NULL_HANDLE;
  VkPipelineCache pipeline_cache_ = VK_NULL_HANDLE;
  std::map<std::pair<ShaderId, std::array<uint32_t, 3>>, std::unique_ptr<Pipeline>> pipelines_;
  std::vector<Buffer> staging_;  // given back, oldest first
  uint64_t staging_cap_ = 0;     // set by open()
};

}  // namespace lowbit::gpu
