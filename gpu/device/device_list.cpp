#include "gpu/device/device_list.h"

#include "gpu/device/instance.h"
#include "gpu/device/physical_device.h"

namespace lowbit::gpu {

Expected<std::vector<DeviceInfo>> list_devices() {
  LB_TRY_ASSIGN(const Instance instance, Instance::create());
  LB_TRY_ASSIGN(std::vector<PhysicalDevice> devices, enumerate_physical_devices(instance));
  std::vector<DeviceInfo> infos;
  infos.reserve(devices.size());
  for (auto& d : devices) infos.push_back(std::move(d.info));
  return infos;
}

}  // namespace lowbit::gpu
