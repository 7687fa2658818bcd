// VulkanForward: the forward pass of core/model/forward.h on the Vulkan backend, as a
// ForwardBackend (core/eval/forward_backend.h) that perplexity evaluation plugs in. create() uploads
// every weight of a ModelWeights once, in fp32 (a quantized layout is evaluated through its
// dequantized weights, as on the CPU), and keeps them device-resident; each call then runs B windows
// of T tokens through the embedding, every decoder block and the output head in one submission of
// the ops of gpu/ops (matmul, norm, rope, attention, activation, add, embed, log_softmax_nll),
// returning either each window's logits or, for perplexity, one NLL per position reduced on the
// device. Every architecture of core runs: RMSNorm or LayerNorm with bias, qwen3's q/k norm, neox or
// interleaved RoPE with partial rotary, grouped-query attention, sliding windows, SwiGLU or GELU,
// learned positions, biases, tied embeddings.
// Activation buffers grow to the largest batch seen and are kept; the output head runs in chunks of
// rows whose logits fit VulkanForwardOptions::max_logits_bytes. A device allocation that fails
// (including DeviceOptions::max_device_bytes) or a lost device fails the call with its Error; the
// engine stays usable for the next call once memory allows. The Device must outlive the engine;
// one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/eval/forward_backend.h"
#include "core/model/weights.h"
#include "core/util/expected.h"
#include "gpu/device/device.h"

namespace lowbit::gpu {

struct VulkanForwardOptions {
  // Device memory for the output head's logits at once; fewer rows per chunk when the vocabulary is
  // large. The device's storage-buffer range caps it too.
  uint64_t max_logits_bytes = uint64_t{256} << 20;

  Expected<void> validate() const;
};

class VulkanForward final : public ForwardBackend {
 public:
  // The weights are copied to the device; `weights` need not outlive the engine.
  static Expected<std::unique_ptr<VulkanForward>> create(Device& device, const ModelWeights& weights,
                                                         const VulkanForwardOptions& options = {});
  ~VulkanForward() override;
  VulkanForward(const VulkanForward&) = delete;
  VulkanForward& operator=(const VulkanForward&) = delete;

  const ModelConfig& config() const override;
  std::string name() const override { return "vulkan"; }
  std::string device() const override;  // "name (driver)"

  Expected<void> logits(std::span<const int32_t> tokens, int64_t B, int64_t T, const WindowLogitsSink& sink) override;
  Expected<void> nll(std::span<const int32_t> tokens, int64_t B, int64_t T, int64_t first,
                     std::span<double> out) override;

  uint64_t weight_bytes() const;      // device memory the weights take
  uint64_t activation_bytes() const;  // device memory the activation buffers take now

 private:
  struct Impl;
  explicit VulkanForward(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Unsupported when the forward pass cannot run `weights` on `device` (head_dim past the attention
// shader's, a weight past the storage-buffer range).
Expected<void> check_forward_support(const Device& device, const ModelWeights& weights);

// A ForwardFactory (core/eval/forward_backend.h) making VulkanForward engines on `device`, which must
// outlive the factory and its engines. A model the forward pass does not support is
// ErrorCode::Unsupported, so that make_forward falls back to the CPU.
ForwardFactory vulkan_forward_factory(Device& device, const VulkanForwardOptions& options = {});

}  // namespace lowbit::gpu
