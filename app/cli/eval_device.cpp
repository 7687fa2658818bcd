#include "app/cli/eval_device.h"

#include "app/cli/args.h"

namespace lowbit::cli {

std::optional<BackendChoice> parse_backend(const Args& args, std::string& error) {
  BackendChoice c;
  const std::string backend = args.get("backend").value_or("cpu");
  const long long index = args.get_int("device", -1, error);
  if (error.empty() && args.get("device") && index < 0) error = "--device must be 0, 1, ... (lowbit info --devices lists them)";
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

std::string EvalDevice::open(const BackendChoice& choice, std::vector<std::string>& warnings) {
  if (!choice.vulkan) return {};
  std::vector<std::string> w;
  open(choice.device, choice.max_bytes, w);
  if (!invalid_choice().empty()) return "--device " + std::to_string(choice.device) + ": " + invalid_choice();
  warnings.insert(warnings.end(), w.begin(), w.end());
  return {};
}

BlockHooks walk_on(const EvalDevice& device, BlockHooks hooks, std::string& note, std::string& used) {
  hooks.walker = device.block_walker();
  hooks.walker_note = &note;
  hooks.walker_used = &used;
  return hooks;
}

}  // namespace lowbit::cli
