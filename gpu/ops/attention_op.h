// Causal softmax attention on the Vulkan backend (gpu/shaders/attention.comp) for B windows of T
// tokens, every window starting at position 0 as core's forward pass evaluates them: grouped-query
// attention (heads a multiple of kv_heads), an optional sliding window (mistral), scale
// 1/sqrt(head_dim), fp32 with an online softmax so memory does not grow with T. q and out are
// [B·T, heads·head_dim], k and v [B·T, kv_heads·head_dim], row-major. head_dim is at most 256.
// record_attention() records on device buffers (out must not be q, k or v); attention() wraps it for
// host spans. Shapes are InvalidArgument, what the shader cannot take Unsupported.
#pragma once

#include <cstdint>
#include <span>

#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

struct AttentionShape {
  int64_t windows = 0;  // B
  int64_t T = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t sliding_window = 0;  // 0: full causal attention

  Expected<void> validate() const;
  uint64_t q_floats() const { return static_cast<uint64_t>(windows * T * heads * head_dim); }
  uint64_t kv_floats() const { return static_cast<uint64_t>(windows * T * kv_heads * head_dim); }
};

inline constexpr int64_t kAttentionMaxHeadDim = 256;  // the largest MAX_HEAD_DIM variant of attention.comp

Expected<void> record_attention(CommandRecorder& recorder, const AttentionShape& shape, const Buffer& q,
                                const Buffer& k, const Buffer& v, const Buffer& out);

Expected<void> attention(Device& device, const AttentionShape& shape, std::span<const float> q,
                         std::span<const float> k, std::span<const float> v, std::span<float> out);

}  // namespace lowbit::gpu
