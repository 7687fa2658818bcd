// Instance: owns one VkInstance (API 1.2 or newer, up to 1.3), created without layers unless
// validation is asked for. The loader chooses the drivers, so VK_DRIVER_FILES / VK_ICD_FILENAMES work
// as everywhere else. A machine without a Vulkan driver gets an Error that says so and how to fix it.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <string>

#include "core/util/expected.h"

namespace lowbit::gpu {

struct InstanceOptions {
  bool validation = false;  // enable VK_LAYER_KHRONOS_validation (an Error when it is not installed)
};

class Instance {
 public:
  static Expected<Instance> create(const InstanceOptions& options = {});

  Instance() = default;
  Instance(Instance&& other) noexcept;
  Instance& operator=(Instance&& other) noexcept;
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;
  ~Instance();

  VkInstance handle() const { return instance_; }
  uint32_t api_version() const { return api_version_; }  // as asked of the loader (VK_MAKE_API_VERSION)

 private:
  VkInstance instance_ = VK_NULL_HANDLE;
  uint32_t api_version_ = 0;
};

// "1.3.255" for a packed Vulkan version.
std::string vk_version_string(uint32_t version);

}  // namespace lowbit::gpu
