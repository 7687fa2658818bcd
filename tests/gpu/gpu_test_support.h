// Shared by the GPU tests: every usable Vulkan device, opened, so each test runs on all of them
// (lavapipe in CI, a real GPU where one is present) and skips with the reason where there is none.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gpu/device/device.h"

namespace lowbit::gpu {

// Every usable Vulkan device, opened; empty (and `why` says why) when there is none.
inline std::vector<std::unique_ptr<Device>> open_devices(std::string& why) {
  std::vector<std::unique_ptr<Device>> devices;
  auto list = list_devices();
  if (!list) {
    why = "no Vulkan device here: " + list.error().message;
    return devices;
  }
  for (int i = 0; i < static_cast<int>(list->size()); ++i)
    if (auto device = Device::create(DeviceOptions{.device_index = i})) devices.push_back(std::move(*device));
  if (devices.empty()) why = "no usable Vulkan device (1.2 with a compute queue) here";
  return devices;
}

// Runs `check` on each of `devices` where `available` says a path runs (the cooperative-matrix
// ones); returns the names of the others, comma-separated, and sets `ran` to how many ran.
template <class Available, class Check>
std::string on_devices_with(std::vector<std::unique_ptr<Device>>& devices, Available available, Check check, int& ran) {
  std::string without;
  ran = 0;
  for (auto& device : devices) {
    if (!available(*device)) {
      without += (without.empty() ? "" : ", ") + device->info().name;
      continue;
    }
    ++ran;
    check(*device);
  }
  return without;
}

}  // namespace lowbit::gpu

// Runs the statements given on every usable device; skips, saying why, where there is none.
#define FOR_EACH_DEVICE(...)                                          \
  do {                                                                \
    std::string why;                                                  \
    auto devices = open_devices(why);                                 \
    if (devices.empty()) GTEST_SKIP() << why;                         \
    for (auto& device_ptr : devices) {                                \
      Device& device = *device_ptr;                                   \
      SCOPED_TRACE(device.info().name);                               \
      __VA_ARGS__                                                     \
    }                                                                 \
  } while (0)
