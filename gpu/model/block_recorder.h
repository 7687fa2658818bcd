// One decoder block of the forward pass recorded as Vulkan ops (gpu/ops), shared by the forward
// pass (gpu/model/vulkan_forward.h) and the calibration walk (gpu/model/vulkan_block_walker.h): the
// activation buffers of a batch, and record_block(), which runs a DeviceBlock over them in place
// (x holds the hidden states) — norms, q/k/v, q/k norms, RoPE, causal attention, o, residual adds,
// the (gated) feed-forward — the order and arithmetic of core's block_forward. A tap sees the input
// of each linear layer while it is in its buffer (calibration statistics are recorded there).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/model/config.h"
#include "core/model/forward.h"
#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/model/device_weights.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

// A device-local buffer of `count` floats (at least one).
Expected<Buffer> device_floats(Device& device, int64_t count);

// The activations of a batch of up to `rows` = B·T tokens.
struct BlockActivations {
  int64_t rows = 0;
  Buffer x, h, q, k, v, att, tmp, g, u;

  static Expected<BlockActivations> create(Device& device, const ModelConfig& c, int64_t rows);
  uint64_t bytes() const;
};

// Sees the input of a linear layer: `input` holds B·T rows of `channels` floats, written by commands
// before a barrier already recorded; what the tap records must read it before the next barrier's
// commands change it (the recorder orders them: record_block's next ops come after a barrier).
using LinearInputTap = std::function<Expected<void>(LinearInput which, const Buffer& input, int64_t channels)>;

// Records `b` over B windows of T tokens in a.x (in place); rope_angles: rope_table(θ, rotary_dim, T)
// when the model rotates. Ends with a barrier.
Expected<void> record_block(CommandRecorder& rec, const ModelConfig& c, const DeviceBlock& b, const BlockActivations& a,
                            const Buffer& rope_angles, int64_t B, int64_t T, const LinearInputTap& tap = {});

// S windows of T token ids for a scoring pass (gpu/model/vulkan_kld.h, vulkan_scale_loss.h): the ids,
// each position's next token (−1 at a window's last position: nothing to score) and the RoPE table
// on the device, their uploads recorded on `rec`. Checks the ids and, with learned positions, T.
struct ScoredWindows {
  Buffer ids, targets, rope_angles;
  std::vector<int32_t> targets_host;
  int64_t scored = 0;  // positions with a target: S·(T − 1)
};
Expected<ScoredWindows> record_scored_windows(CommandRecorder& rec, const ModelConfig& c, std::span<const int32_t> windows,
                                              int64_t S, int64_t T);

// The rest of the forward pass around the blocks (shared by gpu/model/vulkan_forward.h and
// vulkan_kld.h), each ending with a barrier: the token (and learned position) embeddings of B·T ids
// into x; the final norm of x into h; the logits of rows [r0, r0 + rows) of h into `logits` (the
// rows copied to `head_in` first when r0 > 0, as the matmul reads its input from offset 0).
Expected<void> record_embedding(CommandRecorder& rec, const ModelConfig& c, const DeviceWeights& w, const Buffer& ids,
                                const Buffer& x, int64_t B, int64_t T);
Expected<void> record_final_norm(CommandRecorder& rec, const ModelConfig& c, const DeviceWeights& w, const Buffer& x,
                                 const Buffer& h, int64_t rows);
Expected<void> record_head_rows(CommandRecorder& rec, const ModelConfig& c, const DeviceWeights& w, const Buffer& h,
                                const Buffer& head_in, const Buffer& logits, int64_t r0, int64_t rows);

}  // namespace lowbit::gpu
