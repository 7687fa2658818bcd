#include "gpu/device/device.h"

#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "gpu/device/vk_check.h"
#include "gpu/pipeline/pipeline.h"

namespace lowbit::gpu {

Expected<void> DeviceOptions::validate() const {
  if (device_index < -1)
    return make_error(ErrorCode::InvalidArgument,
                      "device index " + std::to_string(device_index) + " is invalid: use -1 (best) or 0, 1, ...");
  return {};
}

Expected<std::unique_ptr<Device>> Device::create(const DeviceOptions& options) {
  LB_TRY_VOID(options.validate());
  std::unique_ptr<Device> device(new Device());
  // On failure the partly opened device is destroyed here, releasing whatever open() had created.
  LB_TRY_VOID(device->open(options));
  return device;
}

Expected<void> Device::open(const DeviceOptions& options) {
  max_device_bytes_ = options.max_device_bytes;
  {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    const uint64_t memory = pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : uint64_t{8} << 30;
    staging_cap_ = std::min(uint64_t{3} << 30, memory / 8);
  }
  LB_TRY_ASSIGN(instance_, Instance::create(InstanceOptions{.validation = options.validation}));
  LB_TRY_ASSIGN(std::vector<PhysicalDevice> devices, enumerate_physical_devices(instance_));

  if (options.device_index >= 0) {
    if (options.device_index >= static_cast<int>(devices.size()))
      return make_error(ErrorCode::InvalidArgument, "device index " + std::to_string(options.device_index) +
                                                        " is out of range: " + std::to_string(devices.size()) +
                                                        " Vulkan device(s) found");
    physical_ = std::move(devices[options.device_index]);
    LB_TRY_VOID(physical_.usable());
  } else {
    std::string reasons;
    for (auto& d : devices) {
      if (auto ok = d.usable(); !ok) {
        reasons += (reasons.empty() ? "" : "; ") + ok.error().message;
        continue;
      }
      physical_ = std::move(d);
      break;
    }
    if (!physical_.handle) return make_error(ErrorCode::Unsupported, "no usable Vulkan device: " + reasons);
  }

  VkPhysicalDeviceProperties props{};
  vkGetPhysicalDeviceProperties(physical_.handle, &props);
  limits_ = props.limits;
  vkGetPhysicalDeviceMemoryProperties(physical_.handle, &memory_);
  VkPhysicalDeviceMaintenance3Properties maintenance3{};
  maintenance3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
  VkPhysicalDeviceSubgroupProperties subgroup{};
  subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
  maintenance3.pNext = &subgroup;
  VkPhysicalDeviceProperties2 props2{};
  props2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
  props2.pNext = &maintenance3;
  vkGetPhysicalDeviceProperties2(physical_.handle, &props2);
  max_allocation_bytes_ = maintenance3.maxMemoryAllocationSize;
  features_.subgroup_arithmetic = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                                  (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);

  // Enable the optional features the device has (Vulkan 1.1 and 1.2 feature structs, core in 1.2).
  VkPhysicalDeviceVulkan12Features have12{};
  have12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  VkPhysicalDeviceVulkan11Features have11{};
  have11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
  have11.pNext = &have12;
  VkPhysicalDeviceFeatures2 have{};
  have.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  have.pNext = &have11;
  vkGetPhysicalDeviceFeatures2(physical_.handle, &have);
  features_.storage_buffer_16bit = have11.storageBuffer16BitAccess;
  features_.storage_buffer_8bit = have12.storageBuffer8BitAccess;
  features_.shader_float16 = have12.shaderFloat16;
  features_.shader_float64 = have.features.shaderFloat64;
  features_.shader_int8 = have12.shaderInt8;

  VkPhysicalDeviceVulkan12Features want12{};
  want12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  want12.storageBuffer8BitAccess = have12.storageBuffer8BitAccess;
  want12.shaderFloat16 = have12.shaderFloat16;
  want12.shaderInt8 = have12.shaderInt8;
  VkPhysicalDeviceVulkan11Features want11{};
  want11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
  want11.pNext = &want12;
  want11.storageBuffer16BitAccess = have11.storageBuffer16BitAccess;
  VkPhysicalDeviceFeatures2 want{};
  want.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  want.pNext = &want11;
  want.features.shaderInt64 = have.features.shaderInt64;
  want.features.shaderFloat64 = have.features.shaderFloat64;
  want.features.shaderInt16 = have.features.shaderInt16;
  // The cooperative-matrix matmul where the device offers its shape (DeviceInfo::cooperative_matrix).
  VkPhysicalDeviceCooperativeMatrixFeaturesNV want_coop{};
  want_coop.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV;
  std::vector<const char*> extensions;
  if (physical_.info.cooperative_matrix) {
    want_coop.cooperativeMatrix = VK_TRUE;
    want12.vulkanMemoryModel = VK_TRUE;  // the cooperative shaders' memory model (nv_cooperative_matrix_usable checks it)
    want12.pNext = &want_coop;
    extensions.push_back(VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);
    features_.cooperative_matrix = true;
  }

  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info{};
  queue_info.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  queue_info.queueFamilyIndex = queue_family();
  queue_info.queueCount = 1;
  queue_info.pQueuePriorities = &priority;
  VkDeviceCreateInfo device_info{};
  device_info.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  device_info.pNext = &want;
  device_info.queueCreateInfoCount = 1;
  device_info.pQueueCreateInfos = &queue_info;
  device_info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
  device_info.ppEnabledExtensionNames = extensions.data();
  LB_VK_TRY(vkCreateDevice(physical_.handle, &device_info, nullptr, &device_));
  vkGetDeviceQueue(device_, queue_family(), 0, &queue_);

  VkCommandPoolCreateInfo pool_info{};
  pool_info.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  pool_info.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT | VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pool_info.queueFamilyIndex = queue_family();
  LB_VK_TRY(vkCreateCommandPool(device_, &pool_info, nullptr, &command_pool_));

  VkPipelineCacheCreateInfo cache_info{};
  cache_info.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO;
  LB_VK_TRY(vkCreatePipelineCache(device_, &cache_info, nullptr, &pipeline_cache_));
  return {};
}

Device::~Device() {
  if (device_) vkDeviceWaitIdle(device_);
  staging_.clear();
  pipelines_.clear();
  if (pipeline_cache_) vkDestroyPipelineCache(device_, pipeline_cache_, nullptr);
  if (command_pool_) vkDestroyCommandPool(device_, command_pool_, nullptr);
  if (device_) vkDestroyDevice(device_, nullptr);
  // instance_ is destroyed after this body, as the last member to go.
}

Expected<Buffer> Device::take_staging(uint64_t bytes, MemoryUse use) {
  auto best = staging_.end();
  for (auto it = staging_.begin(); it != staging_.end(); ++it)
    if (it->use() == use && it->size() >= bytes && (best == staging_.end() || it->size() < best->size())) best = it;
  if (best != staging_.end()) {
    Buffer b = std::move(*best);
    staging_.erase(best);
    return b;
  }
  // Sizes of a MiB and more rounded up to whole MiB, so that layers of nearly one size share buffers.
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  return Buffer::create(*this, bytes >= kMiB ? (bytes + kMiB - 1) / kMiB * kMiB : bytes, use);
}

uint64_t Device::staging_bytes_kept() const {
  uint64_t kept = 0;
  for (const Buffer& b : staging_) kept += b.size();
  return kept;
}

void Device::give_back_staging(Buffer&& buffer) {
  if (buffer.size() > staging_cap_) return;  // dropped
  staging_.push_back(std::move(buffer));
  uint64_t kept = staging_bytes_kept();
  while (kept > staging_cap_) {
    kept -= staging_.front().size();
    staging_.erase(staging_.begin());
  }
}

Expected<const Pipeline*> Device::pipeline(const PipelineDesc& desc) {
  const auto key = std::make_pair(desc.shader, desc.local_size.value_or(std::array<uint32_t, 3>{0, 0, 0}));
  if (auto it = pipelines_.find(key); it != pipelines_.end()) {
    LB_CHECK(it->second->bindings() == desc.bindings && it->second->push_constant_bytes() == desc.push_constant_bytes,
             std::string("two different PipelineDescs for shader ") + shader_name(desc.shader));
    return it->second.get();
  }
  LB_TRY_ASSIGN(Pipeline pipeline, Pipeline::create(*this, desc));
  auto& slot = pipelines_[key];
  slot = std::make_unique<Pipeline>(std::move(pipeline));
  return static_cast<const Pipeline*>(slot.get());
}

}  // namespace lowbit::gpu
