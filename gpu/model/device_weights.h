// DeviceWeights: a ModelWeights copied to device buffers in fp32, the layout the forward pass on the
// Vulkan backend reads (gpu/model/vulkan_forward.h): one buffer per tensor, linear weights [out, in]
// row-major as core's Linear holds them (the f32 variant of the matmul op), biases and norm weights
// as vectors. Tied embeddings share one buffer. upload_weights() stages the copies in submissions
// of bounded size, so host-visible staging memory stays small; every allocation counts against the
// device's memory limit and a failure is the allocation's Error.
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/weights.h"
#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"

namespace lowbit::gpu {

struct DeviceLinear {
  Buffer w;  // [out, in] fp32
  Buffer b;  // [out]; no handle when the layer has no bias
  int64_t out = 0, in = 0;
  bool has_bias() const { return b.handle() != VK_NULL_HANDLE; }
};

struct DeviceBlock {
  Buffer attn_norm, attn_norm_b, ffn_norm, ffn_norm_b;  // *_b: LayerNorm only
  Buffer q_norm, k_norm;                                // qwen3 only
  DeviceLinear q, k, v, o, gate, up, down;              // gate: gated feed-forward only
  bool gated = false;
};

struct DeviceWeights {
  Buffer tok_embd;  // [vocab, hidden]
  Buffer pos_embd;  // [positions, hidden], learned positions only
  Buffer final_norm, final_norm_b;
  Buffer lm_head;  // [vocab, hidden]; no handle when tied to tok_embd
  std::vector<DeviceBlock> blocks;
  uint64_t bytes = 0;

  const Buffer& output() const { return lm_head.handle() ? lm_head : tok_embd; }
};

// with_blocks false: the embeddings, final norm and head alone (a caller that keeps blocks of its own).
Expected<DeviceWeights> upload_weights(Device& device, const ModelWeights& weights, bool with_blocks = true);
// One decoder block alone (the calibration walk uploads each block as it reaches it).
Expected<DeviceBlock> upload_block(Device& device, const ModelConfig& config, const DecoderBlock& block);
// One matrix (an embedding or the head, as the KLD sensitivity replaces them).
Expected<Buffer> upload_matrix(Device& device, const MatrixRM& m);

}  // namespace lowbit::gpu
