// Token embedding on the Vulkan backend (gpu/shaders/embed.comp): X[i, :] = tok_embd[ids[i], :] for
// the rows of B windows of T tokens, plus the learned position embedding pos_embd[i mod T, :] where
// the model has one (gpt2), as core's embed_windows. The shader trusts the ids: record_embed()
// reads them from a device buffer and cannot look, so its caller checks them on the host
// (check_token_ids, the error core gives); embed() checks and wraps it for host spans.
#pragma once

#include <cstdint>
#include <span>

#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

struct EmbedShape {
  int64_t rows = 0;  // B·T
  int64_t hidden = 0;
  int64_t vocab = 0;      // rows of tok_embd
  int64_t T = 0;          // window length (position of row i: i mod T)
  int64_t positions = 0;  // rows of pos_embd; 0: no position embedding

  Expected<void> validate() const;
};

// InvalidArgument naming the first id outside [0, vocab).
Expected<void> check_token_ids(std::span<const int32_t> ids, int64_t vocab);

// ids: rows int32; tok: vocab·hidden floats; pos (null without): positions·hidden; x: rows·hidden.
Expected<void> record_embed(CommandRecorder& recorder, const EmbedShape& shape, const Buffer& ids, const Buffer& tok,
                            const Buffer* pos, const Buffer& x);

Expected<void> embed(Device& device, const EmbedShape& shape, std::span<const int32_t> ids, std::span<const float> tok,
                     std::span<const float> pos, std::span<float> x);

}  // namespace lowbit::gpu
