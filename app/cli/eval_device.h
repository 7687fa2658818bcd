// `--backend cpu|vulkan [--device N] [--max-device-mb MB]` of the heavy commands, and EvalDevice: the
// BackendDevice (app/backend/backend_device.h: a warning and the CPU when no device opens) it opens.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/backend/backend_device.h"

namespace lowbit::cli {

class Args;

// `--backend cpu|vulkan [--device N] [--max-device-mb MB]`, as every heavy command takes it.
struct BackendChoice {
  bool vulkan = false;
  int device = -1;         // -1: the best usable device
  uint64_t max_bytes = 0;  // 0: no limit but the device's
};
// The choice of `args`, checked; nullopt with `error` set on a usage error.
std::optional<BackendChoice> parse_backend(const Args& args, std::string& error);

// A BackendDevice (app/backend/backend_device.h) opened from a command's `--backend` choice.
class EvalDevice : public BackendDevice {
 public:
  using BackendDevice::open;
  // Opens the chosen device when the choice is Vulkan; nothing otherwise. A device that cannot be
  // opened is a warning (the job runs on the CPU), but a device index named with --device that no
  // device has is the user's error: returned as a message, nothing opened.
  std::string open(const BackendChoice& choice, std::vector<std::string>& warnings);
};

// `hooks` with the calibration walk on `device` (the CPU's when it is not open); `note` receives why
// the walk fell back to the CPU, `used` the walker's name ("cpu", "vulkan").
BlockHooks walk_on(const EvalDevice& device, BlockHooks hooks, std::string& note, std::string& used);

}  // namespace lowbit::cli
