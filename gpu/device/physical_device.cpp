#include "gpu/device/physical_device.h"

#include <algorithm>
#include <cstring>

#include "gpu/device/vk_check.h"

namespace lowbit::gpu {
namespace {

// Not in the 1.3.239 headers of Debian 12; the name is all we need.
constexpr const char* kCooperativeMatrixKhr = "VK_KHR_cooperative_matrix";
// The subgroup width gpu/shaders/matmul_coop.comp is written for (eight subgroups per workgroup).
constexpr uint32_t kCooperativeSubgroupSize = 32;

const char* type_name(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return "cpu";
    default:
      return "other";
  }
}

// Discrete first, then integrated, then virtual and other devices, then CPU devices (lavapipe).
int type_rank(const std::string& type) {
  if (type == "discrete") return 0;
  if (type == "integrated") return 1;
  if (type == "cpu") return 3;
  return 2;
}

Expected<std::vector<std::string>> device_extensions(VkPhysicalDevice device) {
  uint32_t count = 0;
  LB_VK_TRY(vkEnumerateDeviceExtensionProperties(device, nullptr, &count, nullptr));
  std::vector<VkExtensionProperties> props(count);
  LB_VK_TRY(vkEnumerateDeviceExtensionProperties(device, nullptr, &count, props.data()));
  std::vector<std::string> names;
  names.reserve(count);
  for (uint32_t i = 0; i < count; ++i) names.emplace_back(props[i].extensionName);
  return names;
}

// A compute-only family (asynchronous compute on discrete GPUs) when there is one, else any family
// that computes.
int pick_compute_family(VkPhysicalDevice device) {
  uint32_t count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(device, &count, nullptr);
  std::vector<VkQueueFamilyProperties> families(count);
  vkGetPhysicalDeviceQueueFamilyProperties(device, &count, families.data());
  int any = -1;
  for (uint32_t i = 0; i < count; ++i) {
    if (!(families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || families[i].queueCount == 0) continue;
    if (!(families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) return static_cast<int>(i);
    if (any < 0) any = static_cast<int>(i);
  }
  return any;
}

// Whether the device offers what matmul_coop.comp needs (DeviceInfo::cooperative_matrix): the NV
// extension with its feature on, a 16×16×16 fp16·fp16 + fp32 subgroup shape for compute shaders,
// 32-wide subgroups and fp16 arithmetic. A query that fails means no (the device still runs the
// portable path).
bool nv_cooperative_matrix_usable(VkInstance instance, const PhysicalDevice& d) {
  if (d.api_version < VK_API_VERSION_1_2 || !d.has_extension(VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME)) return false;
  VkPhysicalDeviceCooperativeMatrixFeaturesNV coop{};
  coop.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV;
  VkPhysicalDeviceVulkan12Features v12{};
  v12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  v12.pNext = &coop;
  VkPhysicalDeviceFeatures2 features{};
  features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  features.pNext = &v12;
  vkGetPhysicalDeviceFeatures2(d.handle, &features);
  // The cooperative shaders use the Vulkan memory model (GL_KHR_memory_scope_semantics, for their
  // subgroup-scoped barriers): the device must offer it, and the device is created with it on.
  if (!coop.cooperativeMatrix || !v12.shaderFloat16 || !v12.vulkanMemoryModel) return false;

  VkPhysicalDeviceCooperativeMatrixPropertiesNV stages{};
  stages.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_PROPERTIES_NV;
  VkPhysicalDeviceSubgroupProperties subgroup{};
  subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
  subgroup.pNext = &stages;
  VkPhysicalDeviceProperties2 props{};
  props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
  props.pNext = &subgroup;
  vkGetPhysicalDeviceProperties2(d.handle, &props);
  if (!(stages.cooperativeMatrixSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT) ||
      subgroup.subgroupSize != kCooperativeSubgroupSize || !(subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT))
    return false;

  const auto list_shapes = reinterpret_cast<PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV>(
      vkGetInstanceProcAddr(instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV"));
  if (!list_shapes) return false;
  uint32_t count = 0;
  if (list_shapes(d.handle, &count, nullptr) != VK_SUCCESS) return false;
  std::vector<VkCooperativeMatrixPropertiesNV> shapes(count);
  for (auto& s : shapes) s.sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV;
  if (list_shapes(d.handle, &count, shapes.data()) != VK_SUCCESS) return false;
  return std::any_of(shapes.begin(), shapes.begin() + count, [](const VkCooperativeMatrixPropertiesNV& s) {
    return s.MSize == 16 && s.NSize == 16 && s.KSize == 16 && s.AType == VK_COMPONENT_TYPE_FLOAT16_NV &&
           s.BType == VK_COMPONENT_TYPE_FLOAT16_NV && s.CType == VK_COMPONENT_TYPE_FLOAT32_NV &&
           s.DType == VK_COMPONENT_TYPE_FLOAT32_NV && s.scope == VK_SCOPE_SUBGROUP_NV;
  });
}

Expected<PhysicalDevice> describe(VkInstance instance, VkPhysicalDevice handle) {
  PhysicalDevice d;
  d.handle = handle;
  LB_TRY_ASSIGN(d.extensions, device_extensions(handle));

  VkPhysicalDeviceProperties props{};
  vkGetPhysicalDeviceProperties(handle, &props);
  d.api_version = props.apiVersion;
  d.info.name = props.deviceName;
  d.info.type = type_name(props.deviceType);
  d.info.api_version = vk_version_string(props.apiVersion);
  for (const char* name : {kCooperativeMatrixKhr, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME})
    if (d.has_extension(name))
      d.info.cooperative_matrix_extensions +=
          (d.info.cooperative_matrix_extensions.empty() ? "" : " ") + std::string(name);
  d.info.cooperative_matrix = nv_cooperative_matrix_usable(instance, d);

  // Driver name and version: core in 1.2, an extension before; chain it only where it is supported.
  if (props.apiVersion >= VK_API_VERSION_1_2 || d.has_extension(VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME)) {
    VkPhysicalDeviceDriverProperties driver{};
    driver.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
    VkPhysicalDeviceProperties2 props2{};
    props2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    props2.pNext = &driver;
    vkGetPhysicalDeviceProperties2(handle, &props2);
    d.info.driver = std::string(driver.driverName) + " " + driver.driverInfo;
  } else {
    d.info.driver = "vendor " + std::to_string(props.vendorID) + " driver " + std::to_string(props.driverVersion);
  }

  VkPhysicalDeviceMemoryProperties memory{};
  vkGetPhysicalDeviceMemoryProperties(handle, &memory);
  for (uint32_t i = 0; i < memory.memoryHeapCount; ++i)
    if (memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      d.info.device_local_bytes = std::max<uint64_t>(d.info.device_local_bytes, memory.memoryHeaps[i].size);

  d.compute_queue_family = pick_compute_family(handle);
  return d;
}

}  // namespace

bool PhysicalDevice::has_extension(const char* name) const {
  return std::any_of(extensions.begin(), extensions.end(), [&](const std::string& e) { return e == name; });
}

Expected<void> PhysicalDevice::usable() const {
  if (api_version < VK_API_VERSION_1_2)
    return make_error(ErrorCode::Unsupported, "Vulkan device '" + info.name + "' supports API " + info.api_version +
                                                  "; Lowbit needs Vulkan 1.2 or newer");
  if (compute_queue_family < 0)
    return make_error(ErrorCode::Unsupported, "Vulkan device '" + info.name + "' has no compute queue");
  return {};
}

Expected<std::vector<PhysicalDevice>> enumerate_physical_devices(const Instance& instance) {
  uint32_t count = 0;
  LB_VK_TRY(vkEnumeratePhysicalDevices(instance.handle(), &count, nullptr));
  std::vector<VkPhysicalDevice> handles(count);
  LB_VK_TRY(vkEnumeratePhysicalDevices(instance.handle(), &count, handles.data()));
  if (count == 0)
    return make_error(ErrorCode::Device,
                      "no Vulkan device found: the loader found no driver that reports a device (install a GPU driver, "
                      "or mesa-vulkan-drivers for the lavapipe CPU device)");
  std::vector<PhysicalDevice> devices;
  devices.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    LB_TRY_ASSIGN(PhysicalDevice d, describe(instance.handle(), handles[i]));
    devices.push_back(std::move(d));
  }
  std::stable_sort(devices.begin(), devices.end(), [](const PhysicalDevice& a, const PhysicalDevice& b) {
    return type_rank(a.info.type) < type_rank(b.info.type);
  });
  return devices;
}

}  // namespace lowbit::gpu
