#include "gpu/ops/logit_stats_op.h"

#include <string>

#include "gpu/ops/op_support.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/logit_stats.comp.
struct LogitStatsPush {
  uint32_t rows;
  uint32_t vocab;
  uint32_t first;
};
static_assert(sizeof(LogitStatsPush) == 12, "LogitStatsPush must match the push-constant block of logit_stats.comp");

constexpr const char* kOp = "logit_stats";

}  // namespace

Expected<void> LogitStatsShape::validate() const {
  if (rows <= 0 || vocab <= 0 || first < 0)
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": rows " + std::to_string(rows) + ", vocab " +
                                                      std::to_string(vocab) + ", first " + std::to_string(first));
  LB_TRY_VOID(check_op_size(kOp, "4·(first + rows)", static_cast<uint64_t>(4 * (first + rows))));
  return check_op_size(kOp, "(first + rows)·vocab", static_cast<uint64_t>((first + rows) * vocab));
}

Expected<void> record_logit_stats(CommandRecorder& recorder, const LogitStatsShape& shape, const Buffer& logits,
                                  const Buffer& targets, const Buffer& stats) {
  LB_TRY_VOID(shape.validate());
  const uint64_t logit_bytes = static_cast<uint64_t>(shape.rows * shape.vocab) * 4, slots = static_cast<uint64_t>(shape.first + shape.rows);
  LB_TRY_VOID(check_op_buffer(kOp, "logits", logits, logit_bytes));
  LB_TRY_VOID(check_op_buffer(kOp, "targets", targets, slots * 4));
  LB_TRY_VOID(check_op_buffer(kOp, "stats", stats, 3 * slots * 4));
  LB_TRY_ASSIGN(const Pipeline* pipeline, op_pipeline(recorder, ShaderId::logit_stats, 3, sizeof(LogitStatsPush)));
  LB_TRY_VOID(recorder.bind(*pipeline, {BufferRange(logits, 0, logit_bytes), BufferRange(targets, 0, slots * 4),
                                        BufferRange(stats, 0, 3 * slots * 4)}));
  recorder.push(LogitStatsPush{static_cast<uint32_t>(shape.rows), static_cast<uint32_t>(shape.vocab), static_cast<uint32_t>(shape.first)});
  return dispatch_rows(recorder, static_cast<uint64_t>(shape.rows));
}

Expected<void> record_logit_kl_stats(CommandRecorder& recorder, const LogitStatsShape& shape, const Buffer& logits,
                                     const Buffer& targets, const Buffer& ref_logits, const Buffer& ref_lse,
                                     const Buffer& stats) {
  LB_TRY_VOID(shape.validate());
  const uint64_t logit_bytes = static_cast<uint64_t>(shape.rows * shape.vocab) * 4, slots = static_cast<uint64_t>(shape.first + shape.rows);
  const uint64_t ref_bytes = slots * static_cast<uint64_t>(shape.vocab) * 4;
  LB_TRY_VOID(check_op_buffer(kOp, "logits", logits, logit_bytes));
  LB_TRY_VOID(check_op_buffer(kOp, "targets", targets, slots * 4));
  LB_TRY_VOID(check_op_buffer(kOp, "reference logits", ref_logits, ref_bytes));
  LB_TRY_VOID(check_op_buffer(kOp, "reference lse", ref_lse, slots * 4));
  LB_TRY_VOID(check_op_buffer(kOp, "stats", stats, 4 * slots * 4));
  LB_TRY_ASSIGN(const Pipeline* pipeline, op_pipeline(recorder, ShaderId::logit_stats_kl, 5, sizeof(LogitStatsPush)));
  LB_TRY_VOID(recorder.bind(*pipeline, {BufferRange(logits, 0, logit_bytes), BufferRange(targets, 0, slots * 4),
                                        BufferRange(stats, 0, 4 * slots * 4), BufferRange(ref_logits, 0, ref_bytes),
                                        BufferRange(ref_lse, 0, slots * 4)}));
  recorder.push(LogitStatsPush{static_cast<uint32_t>(shape.rows), static_cast<uint32_t>(shape.vocab), static_cast<uint32_t>(shape.first)});
  return dispatch_rows(recorder, static_cast<uint64_t>(shape.rows));
}

}  // namespace lowbit::gpu
