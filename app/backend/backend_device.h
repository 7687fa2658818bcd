// BackendDevice: the Vulkan device a job of the CLI or the studio runs on when the user chose the
// Vulkan backend, and the GPU paths of core's jobs made on it — evaluation engines, GPTQ's sweep,
// AWQ's α grid, the calibration walk, RTN, the KLD sensitivity's passes. open() tries the device; when the build has no Vulkan backend
// or the device cannot be opened it adds a warning and every accessor stays empty, so the job runs on
// the CPU. The device outlives whatever is made from it: keep the BackendDevice alive as long as they
// are (declare it before them).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/analysis/scale_loss.h"
#include "core/calib/analyze.h"
#include "core/eval/forward_backend.h"
#include "core/plan/sensitivity.h"
#include "core/quant/awq.h"
#include "core/quant/gptq.h"
#include "core/quant/quantize_model.h"

namespace lowbit {

class BackendDevice {
 public:
  BackendDevice();
  ~BackendDevice();
  BackendDevice(const BackendDevice&) = delete;
  BackendDevice& operator=(const BackendDevice&) = delete;

  // index -1: the best usable device; max_bytes 0: no limit but the device's.
  void open(int index, uint64_t max_bytes, std::vector<std::string>& warnings);
  bool is_open() const;
  // Why the last open() failed when the fault was the choice itself (a device index beyond the
  // devices there are), not the device or the driver; empty otherwise.
  const std::string& invalid_choice() const { return invalid_choice_; }
  std::string name() const { return is_open() ? "vulkan" : "cpu"; }
  // Engines on the device (core/eval/forward_backend.h); empty when none is open.
  ForwardFactory forward() const;
  // RTN on the device (QuantizeOptions::rtn_backend); empty when none is open.
  RtnBackend rtn() const;
  // GPTQ's sweep on the device (GptqOptions::backend), its inverse factor there too unless
  // factor_on_device is false (the CPU's factor: codes the CPU run's bit for bit); empty when none is open.
  GptqBackend gptq(bool factor_on_device = true) const;
  // AWQ's α grid on the device (AwqOptions::backend); empty when none is open.
  AwqGridBackend awq_grid() const;
  AwqClipBackend awq_clip() const;
  // Calibration walks on the device (BlockHooks::walker, QuantizeOptions::calib_walker); empty when none is open.
  BlockWalkerFactory block_walker() const;
  // All four above, for a quantization's options (QuantizeBackends::apply_to); empty when none is open.
  QuantizeBackends quantize() const;
  // The KLD sensitivity's forward passes on the device (SensitivityOptions::kld_backend); empty when none is open.
  KldScorerFactory kld() const;
  // The scale views' forward passes on the device (ViewsOptions::scale_runner); empty when none is open.
  ScaleLossRunnerFactory scale_loss() const;

 private:
  std::string invalid_choice_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lowbit
