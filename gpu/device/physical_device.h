// PhysicalDevice: what Lowbit needs to know about one VkPhysicalDevice to describe it (DeviceInfo)
// and to choose it (API version, a compute queue family). enumerate_physical_devices() returns them
// in the one order every caller uses: discrete, integrated, virtual/other, CPU, ties kept in the
// driver's order, so an index into list_devices() and DeviceOptions::device_index mean the same device.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/expected.h"
#include "gpu/device/device_list.h"
#include "gpu/device/instance.h"

namespace lowbit::gpu {

struct PhysicalDevice {
  VkPhysicalDevice handle = VK_NULL_HANDLE;
  DeviceInfo info;
  uint32_t api_version = 0;       // packed, as the driver reports it
  int compute_queue_family = -1;  // a compute-only family when there is one; -1 when none computes
  std::vector<std::string> extensions;

  bool has_extension(const char* name) const;
  // Lowbit runs on devices with Vulkan 1.2 and a compute queue; otherwise the reason it does not.
  Expected<void> usable() const;
};

// Every device of the instance, described and ordered; an Error when there is none.
Expected<std::vector<PhysicalDevice>> enumerate_physical_devices(const Instance& instance);

}  // namespace lowbit::gpu
