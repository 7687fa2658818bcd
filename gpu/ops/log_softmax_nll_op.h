// The scoring step of perplexity on the Vulkan backend (gpu/shaders/log_softmax_nll.comp): for each
// row of logits L[rows, vocab], nll = logsumexp(L[r, :]) − L[r, target], 0 where the target is
// negative, so only one float per position leaves the device instead of a vocabulary of logits.
// fp32 with a compensated sum: within a few ulps of core's token_nll (double). `first` offsets the
// targets and results, so a chunk of rows of a larger batch writes its own slice.
// record_log_softmax_nll() records on device buffers; log_softmax_nll() wraps it for host spans.
#pragma once

#include <cstdint>
#include <span>

#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

struct LogSoftmaxNllShape {
  int64_t rows = 0;  // rows of the logits buffer scored by this call
  int64_t vocab = 0;
  int64_t first = 0;  // index of the first row in targets and nll

  Expected<void> validate() const;
};

// logits: rows·vocab floats; targets: int32 (first + rows of them; < vocab, negative = none);
// nll: floats, element first + r for row r.
Expected<void> record_log_softmax_nll(CommandRecorder& recorder, const LogSoftmaxNllShape& shape, const Buffer& logits,
                                      const Buffer& targets, const Buffer& nll);

Expected<void> log_softmax_nll(Device& device, int64_t rows, int64_t vocab, std::span<const float> logits,
                               std::span<const int32_t> targets, std::span<float> nll);

}  // namespace lowbit::gpu
