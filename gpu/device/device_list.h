// The Vulkan devices of this machine as the user sees them (`lowbit info --devices`, the studio's
// settings): name, kind, device-local memory, API and driver versions, cooperative-matrix support.
// The order is the order of DeviceOptions::device_index: discrete GPUs first, then integrated, then
// virtual and other devices, then CPU devices such as lavapipe. This header is Vulkan-free so callers
// outside gpu/ can include it. No Vulkan loader or driver, or no device, is an Error, never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/expected.h"

namespace lowbit::gpu {

struct DeviceInfo {
  std::string name;
  std::string type;                 // "discrete", "integrated", "virtual", "cpu", "other"
  uint64_t device_local_bytes = 0;  // the largest device-local memory heap
  std::string api_version;          // "1.3.255"
  std::string driver;               // driver name and version ("llvmpipe Mesa 22.3.6 (LLVM 15.0.6)")
  // Lowbit's cooperative-matrix matmul (gpu/shaders/matmul_coop.comp) runs here: the device has
  // VK_NV_cooperative_matrix with 16×16×16 fp16 × fp16 + fp32 subgroup matrices in compute shaders,
  // 32-wide subgroups and fp16 arithmetic. (Debian 12's glslang 11 compiles GL_NV_cooperative_matrix
  // only; VK_KHR_cooperative_matrix needs glslang 13, so a device with just the KHR extension is
  // listed in cooperative_matrix_extensions but runs the portable path.)
  bool cooperative_matrix = false;
  std::string cooperative_matrix_extensions;  // the cooperative-matrix extensions offered, space-separated
};

// Creates a short-lived Vulkan instance and describes every device, in the order above.
Expected<std::vector<DeviceInfo>> list_devices();

}  // namespace lowbit::gpu
