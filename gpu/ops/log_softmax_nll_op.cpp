#include "gpu/ops/log_softmax_nll_op.h"

#include <string>

#include "gpu/ops/op_support.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/log_softmax_nll.comp.
struct LogSoftmaxNllPush {
  uint32_t rows;
  uint32_t vocab;
  uint32_t first;
};
static_assert(sizeof(LogSoftmaxNllPush) == 12,
              "LogSoftmaxNllPush must match the push-constant block of log_softmax_nll.comp");

constexpr const char* kOp = "log_softmax_nll";

}  // namespace

Expected<void> LogSoftmaxNllShape::validate() const {
  if (rows <= 0 || vocab <= 0 || first < 0)
    return make_error(ErrorCode::InvalidArgument, "log_softmax_nll: rows " + std::to_string(rows) + ", vocab " +
                                                      std::to_string(vocab) + ", first " + std::to_string(first));
  LB_TRY_VOID(check_op_size(kOp, "first + rows", static_cast<uint64_t>(first + rows)));
  return check_op_size(kOp, "rows·vocab", static_cast<uint64_t>(rows * vocab));
}

Expected<void> record_log_softmax_nll(CommandRecorder& recorder, const LogSoftmaxNllShape& shape, const Buffer& logits,
                                      const Buffer& targets, const Buffer& nll) {
  LB_TRY_VOID(shape.validate());
  const uint64_t logit_bytes = static_cast<uint64_t>(shape.rows * shape.vocab) * sizeof(float);
  const uint64_t slots = static_cast<uint64_t>(shape.first + shape.rows);
  LB_TRY_VOID(check_op_buffer(kOp, "logits", logits, logit_bytes));
  LB_TRY_VOID(check_op_buffer(kOp, "targets", targets, slots * sizeof(int32_t)));
  LB_TRY_VOID(check_op_buffer(kOp, "nll", nll, slots * sizeof(float)));
  LB_TRY_ASSIGN(const Pipeline* pipeline,
                op_pipeline(recorder, ShaderId::log_softmax_nll, 3, sizeof(LogSoftmaxNllPush)));
  LB_TRY_VOID(recorder.bind(*pipeline, {BufferRange(logits, 0, logit_bytes), BufferRange(targets, 0, slots * 4),
                                        BufferRange(nll, 0, slots * 4)}));
  recorder.push(LogSoftmaxNllPush{static_cast<uint32_t>(shape.rows), static_cast<uint32_t>(shape.vocab),
                                  static_cast<uint32_t>(shape.first)});
  return dispatch_rows(recorder, static_cast<uint64_t>(shape.rows));
}

Expected<void> log_softmax_nll(Device& device, int64_t rows, int64_t vocab, std::span<const float> logits,
                               std::span<const int32_t> targets, std::span<float> nll) {
  const LogSoftmaxNllShape shape{rows, vocab, 0};
  LB_TRY_VOID(shape.validate());
  if (logits.size() != static_cast<size_t>(rows * vocab) || targets.size() != static_cast<size_t>(rows) ||
      nll.size() != static_cast<size_t>(rows))
    return make_error(ErrorCode::InvalidArgument, "log_softmax_nll: span sizes do not fit " + std::to_string(rows) +
                                                      " rows of " + std::to_string(vocab));
  for (const int32_t t : targets)
    if (t >= vocab)
      return make_error(ErrorCode::InvalidArgument, "log_softmax_nll: target " + std::to_string(t) +
                                                        " is outside the vocabulary of " + std::to_string(vocab));
  LB_TRY_ASSIGN(Buffer lb, op_buffer(device, logits.size_bytes()));
  LB_TRY_ASSIGN(Buffer tb, op_buffer(device, targets.size_bytes()));
  LB_TRY_ASSIGN(Buffer nb, op_buffer(device, nll.size_bytes()));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(lb, std::as_bytes(logits)));
  LB_TRY_VOID(rec.upload(tb, std::as_bytes(targets)));
  rec.barrier();
  LB_TRY_VOID(record_log_softmax_nll(rec, shape, lb, tb, nb));
  rec.barrier();
  LB_TRY_VOID(rec.download(nb, std::as_writable_bytes(nll)));
  return rec.submit_and_wait();
}

}  // namespace lowbit::gpu
