#include "app/backend/backend_device.h"

#if LOWBIT_HAVE_VULKAN
#include "gpu/device/device.h"
#include "gpu/model/vulkan_block_walker.h"
#include "gpu/model/vulkan_forward.h"
#include "gpu/model/vulkan_kld.h"
#include "gpu/model/vulkan_scale_loss.h"
#include "gpu/ops/awq_clip_op.h"
#include "gpu/ops/awq_op.h"
#include "gpu/ops/gptq_op.h"
#include "gpu/ops/rtn_int_op.h"
#endif

namespace lowbit {

struct BackendDevice::Impl {
#if LOWBIT_HAVE_VULKAN
  std::unique_ptr<gpu::Device> device;
#endif
};

BackendDevice::BackendDevice() : impl_(std::make_unique<Impl>()) {}
BackendDevice::~BackendDevice() = default;

void BackendDevice::open(int index, uint64_t max_bytes, std::vector<std::string>& warnings) {
#if LOWBIT_HAVE_VULKAN
  invalid_choice_.clear();
  auto device = gpu::Device::create(gpu::DeviceOptions{.device_index = index, .max_device_bytes = max_bytes});
  if (device) {
    impl_->device = std::move(*device);
    return;
  }
  if (device.error().code == ErrorCode::InvalidArgument) invalid_choice_ = device.error().message;
  warnings.push_back("the Vulkan backend is unavailable (" + device.error().message + "); running on the CPU");
#else
  (void)index;
  (void)max_bytes;
  warnings.push_back("this build has no Vulkan backend (LOWBIT_VULKAN=OFF); running on the CPU");
#endif
}

bool BackendDevice::is_open() const {
#if LOWBIT_HAVE_VULKAN
  return impl_->device != nullptr;
#else
  return false;
#endif
}

ForwardFactory BackendDevice::forward() const {
#if LOWBIT_HAVE_VULKAN
  if (impl_->device) return gpu::vulkan_forward_factory(*impl_->device);
#endif
  return {};
}

RtnBackend BackendDevice::rtn() const {
#if LOWBIT_HAVE_VULKAN
  if (impl_->device) return gpu::vulkan_rtn(*impl_->device);
#endif
  return {};
}

GptqBackend BackendDevice::gptq(bool factor_on_device) const {
#if LOWBIT_HAVE_VULKAN
  if (impl_->device) return gpu::vulkan_gptq(*impl_->device, factor_on_device ? gpu::FactorOn::Device : gpu::FactorOn::Cpu);
#else
  (void)factor_on_device;
#endif
  return {};
}

AwqGridBackend BackendDevice::awq_grid() const {
#if LOWBIT_HAVE_VULKAN
  if (impl_->device) return gpu::vulkan_awq_grid(*impl_->device);
#endif
  return {};
}

AwqClipBackend BackendDevice::awq_clip() const {
#if LOWBIT_HAVE_VULKAN
  if (impl_->device) return gpu::vulkan_awq_clip(*impl_->device);
#endif
  return {};
}

BlockWalkerFactory BackendDevice::block_walker() const {
#if LOWBIT_HAVE_VULKAN
  if (impl_->device) return gpu::vulkan_block_walker_factory(*impl_->device);
#endif
  return {};
}

KldScorerFactory BackendDevice::kld() const {
#if LOWBIT_HAVE_VULKAN
  if (impl_->device) return gpu::vulkan_kld_factory(*impl_->device);
#endif
  return {};
}

ScaleLossRunnerFactory BackendDevice::scale_loss() const {
#if LOWBIT_HAVE_VULKAN
  if (impl_->device) return gpu::vulkan_scale_loss_factory(*impl_->device);
#endif
  return {};
}

QuantizeBackends BackendDevice::quantize() const {
  return {rtn(), gptq(), awq_grid(), awq_clip(), block_walker()};
}

}  // namespace lowbit
