#include "app/cli/eval_device.h"

#if LOWBIT_HAVE_VULKAN
#include "gpu/device/device.h"
#include "gpu/model/vulkan_forward.h"
#include "gpu/ops/gptq_op.h"
#endif

namespace lowbit::cli {

struct EvalDevice::Impl {
#if LOWBIT_HAVE_VULKAN
  std::unique_ptr<gpu::Device> device;
#endif
};

EvalDevice::EvalDevice() : impl_(std::make_unique<Impl>()) {}
EvalDevice::~EvalDevice() = default;

void EvalDevice::open(int index, uint64_t max_bytes, std::vector<std::string>& warnings) {
#if LOWBIT_HAVE_VULKAN
  auto device = gpu::Device::create(gpu::DeviceOptions{.device_index = index, .max_device_bytes = max_bytes});
  if (device) {
    impl_->device = std::move(*device);
    return;
  }
  warnings.push_back("the Vulkan backend is unavailable (" + device.error().message + "); running on the CPU");
#else
  (void)index;
  (void)max_bytes;
  warnings.push_back("this build has no Vulkan backend (LOWBIT_VULKAN=OFF); running on the CPU");
#endif
}

bool EvalDevice::is_open() const {
#if LOWBIT_HAVE_VULKAN
  return impl_->device != nullptr;
#else
  return false;
#endif
}

ForwardFactory EvalDevice::forward() const {
#if LOWBIT_HAVE_VULKAN
  if (impl_->device) return gpu::vulkan_forward_factory(*impl_->device);
#endif
  return {};
}

GptqBackend EvalDevice::gptq() const {
#if LOWBIT_HAVE_VULKAN
  if (impl_->device) return gpu::vulkan_gptq(*impl_->device);
#endif
  return {};
}

}  // namespace lowbit::cli
