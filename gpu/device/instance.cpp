#include "gpu/device/instance.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "gpu/device/vk_check.h"

namespace lowbit::gpu {
namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

Expected<bool> layer_available(const char* name) {
  uint32_t count = 0;
  LB_VK_TRY(vkEnumerateInstanceLayerProperties(&count, nullptr));
  std::vector<VkLayerProperties> layers(count);
  LB_VK_TRY(vkEnumerateInstanceLayerProperties(&count, layers.data()));
  return std::any_of(layers.begin(), layers.begin() + count,
                     [&](const VkLayerProperties& l) { return std::strcmp(l.layerName, name) == 0; });
}

}  // namespace

std::string vk_version_string(uint32_t version) {
  return std::to_string(VK_API_VERSION_MAJOR(version)) + "." + std::to_string(VK_API_VERSION_MINOR(version)) + "." +
         std::to_string(VK_API_VERSION_PATCH(version));
}

Expected<Instance> Instance::create(const InstanceOptions& options) {
  // vkEnumerateInstanceVersion is absent from 1.0 loaders: look it up rather than call it.
  uint32_t loader_version = VK_API_VERSION_1_0;
  auto enumerate_version =
      reinterpret_cast<PFN_vkEnumerateInstanceVersion>(vkGetInstanceProcAddr(nullptr, "vkEnumerateInstanceVersion"));
  if (enumerate_version) LB_VK_TRY(enumerate_version(&loader_version));
  if (loader_version < VK_API_VERSION_1_2)
    return make_error(ErrorCode::Unsupported, "the Vulkan loader supports API " + vk_version_string(loader_version) +
                                                  "; Lowbit needs Vulkan 1.2 or newer (update libvulkan1)");

  std::vector<const char*> layers;
  if (options.validation) {
    LB_TRY_ASSIGN(const bool have, layer_available(kValidationLayer));
    if (!have)
      return make_error(ErrorCode::Unsupported, std::string("Vulkan validation was asked for but ") + kValidationLayer +
                                                    " is not installed (Debian: vulkan-validationlayers)");
    layers.push_back(kValidationLayer);
  }

  Instance instance;
  instance.api_version_ = std::min(loader_version, static_cast<uint32_t>(VK_API_VERSION_1_3));
  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "Lowbit Studio";
  app.pEngineName = "lowbit_gpu";
  app.apiVersion = instance.api_version_;
  VkInstanceCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  info.pApplicationInfo = &app;
  info.enabledLayerCount = static_cast<uint32_t>(layers.size());
  info.ppEnabledLayerNames = layers.data();
  const VkResult result = vkCreateInstance(&info, nullptr, &instance.instance_);
  if (result != VK_SUCCESS) {
    instance.instance_ = VK_NULL_HANDLE;  // not owned: the call failed
    if (result == VK_ERROR_INCOMPATIBLE_DRIVER)
      return make_error(ErrorCode::Device,
                        "no Vulkan driver found (vkCreateInstance failed: VK_ERROR_INCOMPATIBLE_DRIVER); install a "
                        "GPU driver, or mesa-vulkan-drivers for the lavapipe CPU device, and check VK_DRIVER_FILES / "
                        "VK_ICD_FILENAMES if they are set");
    return vk_error(result, "vkCreateInstance");
  }
  return instance;
}

Instance::Instance(Instance&& other) noexcept
    : instance_(std::exchange(other.instance_, VK_NULL_HANDLE)), api_version_(other.api_version_) {}

Instance& Instance::operator=(Instance&& other) noexcept {
  if (this != &other) {
    if (instance_) vkDestroyInstance(instance_, nullptr);
    instance_ = std::exchange(other.instance_, VK_NULL_HANDLE);
    api_version_ = other.api_version_;
  }
  return *this;
}

Instance::~Instance() {
  if (instance_) vkDestroyInstance(instance_, nullptr);
}

}  // namespace lowbit::gpu
