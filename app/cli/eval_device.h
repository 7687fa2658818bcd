// EvalDevice: the Vulkan device of `--backend vulkan [--device N] [--max-device-mb MB]` for the
// commands that evaluate (ppl, compare). open() tries the device; when the build has no Vulkan
// backend or the device cannot be opened it adds a warning and forward() stays empty, so evaluations
// run on the CPU (make_forward of core/eval/forward_backend.h). The device outlives every engine
// made from forward(): keep the EvalDevice alive as long as they are.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/calib/analyze.h"
#include "core/eval/forward_backend.h"
#include "core/quant/awq.h"
#include "core/quant/gptq.h"

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

class EvalDevice {
 public:
  EvalDevice();
  ~EvalDevice();
  EvalDevice(const EvalDevice&) = delete;
  EvalDevice& operator=(const EvalDevice&) = delete;

  // index -1: the best usable device; max_bytes 0: no limit but the device's.
  void open(int index, uint64_t max_bytes, std::vector<std::string>& warnings);
  // Opens the chosen device when the choice is Vulkan; nothing otherwise.
  void open(const BackendChoice& choice, std::vector<std::string>& warnings);
  bool is_open() const;
  // Engines on the device; empty when none is open.
  ForwardFactory forward() const;
  // GPTQ's sweep on the device (GptqOptions::backend); empty when none is open.
  GptqBackend gptq() const;
  // Calibration walks on the device (QuantizeOptions::calib_walker); empty when none is open.
  BlockWalkerFactory block_walker() const;
  // AWQ's α grid on the device (AwqOptions::backend); empty when none is open.
  AwqGridBackend awq_grid() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lowbit::cli
