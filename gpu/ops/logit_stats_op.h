// Per-row statistics of the output head's logits for the KLD sensitivity on the Vulkan backend
// (gpu/shaders/logit_stats.comp; gpu/model/vulkan_kld.h): four bytes per statistic leave the device
// instead of a vocabulary of logits per position, and the host finishes in double.
//   record_logit_stats:    reference rows → (max, Σ exp(l − max), l[target]) per row;
//   record_logit_kl_stats: candidate rows against the reference logits A [N, vocab] and their
//                          logsumexp → (Σ P·d, Σ P·expm1(−d), Σ P, l[target]) per row, d = a − l.
// `first` offsets the rows in targets, the reference and the statistics, so a chunk of a larger
// batch writes its own slice. targets: int32, < vocab; negative: nothing to score (l[target] = 0).
#pragma once

#include <cstdint>

#include "core/util/expected.h"
#include "gpu/memory/buffer.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

struct LogitStatsShape {
  int64_t rows = 0;   // rows of the logits buffer read by this call
  int64_t vocab = 0;
  int64_t first = 0;  // the batch row of the first

  Expected<void> validate() const;
};

// stats: 3 floats per batch row.
Expected<void> record_logit_stats(CommandRecorder& recorder, const LogitStatsShape& shape, const Buffer& logits,
                                  const Buffer& targets, const Buffer& stats);
// ref_logits: [first + rows, vocab]; ref_lse: one float per batch row; stats: 4 floats per batch row.
Expected<void> record_logit_kl_stats(CommandRecorder& recorder, const LogitStatsShape& shape, const Buffer& logits,
                                     const Buffer& targets, const Buffer& ref_logits, const Buffer& ref_lse,
                                     const Buffer& stats);

}  // namespace lowbit::gpu
