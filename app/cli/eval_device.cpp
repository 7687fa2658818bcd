#include "app/cli/eval_device.h"

#include "app/cli/args.h"

#if LOWBIT_HAVE_VULKAN
#include "gpu/device/device.h"
#include "gpu/model/vulkan_block_walker.h"
#include "gpu/model/vulkan_forward.h"
#include "gpu/ops/awq_op.h"
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

std::optional<BackendChoice> parse_backend(const Args& args, std::string& error) {
  BackendChoice c;
  const std::string backend = args.get("backend").value_or("cpu");
  const long long index = args.get_int("device", -1, error);
  const long long max_mb = args.get_int("max-device-mb", 0, error);
  if (!error.empty()) return std::nullopt;
  if (backend != "cpu" && backend != "vulkan") error = "--backend must be cpu or vulkan";
  else if (index < -1 || max_mb < 0) error = "--device must be 0, 1, ... and --max-device-mb not negative";
  else if (backend != "vulkan" && (args.get("device") || args.get("max-device-mb"))) error = "--device and --max-device-mb need --backend vulkan";
  if (!error.empty()) return std::nullopt;
  c.vulkan = backend == "vulkan";
  c.device = static_cast<int>(index);
  c.max_bytes = static_cast<uint64_t>(max_mb) << 20;
  return c;
}

void EvalDevice::open(const BackendChoice& choice, std::vector<std::string>& warnings) {
  if (choice.vulkan) open(choice.device, choice.max_bytes, warnings);
}

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

BlockWalkerFactory EvalDevice::block_walker() const {
#if LOWBIT_HAVE_VULKAN
  if (impl_->device) return gpu::vulkan_block_walker_factory(*impl_->device);
#endif
  return {};
}

AwqGridBackend EvalDevice::awq_grid() const {
#if LOWBIT_HAVE_VULKAN
  if (impl_->device) return gpu::vulkan_awq_grid(*impl_->device);
#endif
  return {};
}

}  // namespace lowbit::cli
