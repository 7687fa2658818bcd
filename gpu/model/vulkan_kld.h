// VulkanKld: the KLD sensitivity's forward passes (core/plan/sensitivity.h, KldScorer) on the Vulkan
// backend. create() uploads the model in fp32 (gpu/model/device_weights.h) and runs the reference
// pass: the hidden states entering every block and the output head's logits stay on the device
// ((L + 1)·S·T·hidden + S·T·vocab floats, what the CPU keeps in host memory), and each position's
// logsumexp comes back (logit_stats.comp, finished in double on the host). score() uploads the
// changed part of the model again — a block, the token embeddings (tied: the head too) or the head —
// restores the part an earlier candidate changed, reruns from there (the forward pass's own ops,
// gpu/model/block_recorder.h) and reduces each position against the reference on the device: four
// floats per position come back, from which the host forms KL(P ‖ Q) = A / ΣP + log1p(C / ΣP) and
// the NLL in double (logit_stats.comp says why that form keeps small divergences precise). The
// output head runs in chunks of rows whose logits fit VulkanForwardOptions::max_logits_bytes. An
// allocation that fails (DeviceOptions::max_device_bytes included) is the call's Error; a model the
// forward pass does not run is Unsupported. The Device must outlive the scorer; one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "core/plan/sensitivity.h"
#include "gpu/device/device.h"
#include "gpu/model/vulkan_forward.h"

namespace lowbit::gpu {

// A KldScorerFactory (SensitivityOptions::kld_backend) on `device`, which must outlive the factory
// and its scorers.
KldScorerFactory vulkan_kld_factory(Device& device, const VulkanForwardOptions& options = {});

}  // namespace lowbit::gpu
