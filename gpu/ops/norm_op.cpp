#include "gpu/ops/norm_op.h"

#include <string>

#include "gpu/ops/op_support.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/norm.comp (both variants).
struct NormPush {
  uint32_t rows;
  uint32_t cols;
  float eps;
};
static_assert(sizeof(NormPush) == 12, "NormPush must match the push-constant block of norm.comp");

constexpr const char* kOp = "norm";

}  // namespace

Expected<void> NormShape::validate() const {
  LB_TRY_VOID(check_op_size(kOp, "rows", static_cast<uint64_t>(rows > 0 ? rows : 0)));
  LB_TRY_VOID(check_op_size(kOp, "cols", static_cast<uint64_t>(cols > 0 ? cols : 0)));
  return check_op_size(kOp, "rows·cols", static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols));
}

Expected<void> record_norm(CommandRecorder& recorder, NormKind kind, const NormShape& shape, float eps, const Buffer& x,
                           const Buffer& w, const Buffer* b, const Buffer& y) {
  LB_TRY_VOID(shape.validate());
  const uint64_t bytes = static_cast<uint64_t>(shape.rows * shape.cols) * sizeof(float);
  const uint64_t w_bytes = static_cast<uint64_t>(shape.cols) * sizeof(float);
  LB_TRY_VOID(check_op_buffer(kOp, "x", x, bytes));
  LB_TRY_VOID(check_op_buffer(kOp, "y", y, bytes));
  LB_TRY_VOID(check_op_buffer(kOp, "w", w, w_bytes));
  LB_CHECK(x.handle() != y.handle(), "norm: x and y must be different buffers");
  const bool layer = kind == NormKind::Layer;
  if (layer && !b) return make_error(ErrorCode::InvalidArgument, "norm: LayerNorm needs a bias buffer");
  if (layer) LB_TRY_VOID(check_op_buffer(kOp, "b", *b, w_bytes));
  LB_TRY_ASSIGN(const Pipeline* pipeline, op_pipeline(recorder, layer ? ShaderId::norm_layer : ShaderId::norm_rms,
                                                      layer ? 4 : 3, sizeof(NormPush)));
  if (layer)
    LB_TRY_VOID(recorder.bind(*pipeline, {BufferRange(x, 0, bytes), BufferRange(y, 0, bytes),
                                          BufferRange(w, 0, w_bytes), BufferRange(*b, 0, w_bytes)}));
  else
    LB_TRY_VOID(
        recorder.bind(*pipeline, {BufferRange(x, 0, bytes), BufferRange(y, 0, bytes), BufferRange(w, 0, w_bytes)}));
  recorder.push(NormPush{static_cast<uint32_t>(shape.rows), static_cast<uint32_t>(shape.cols), eps});
  return dispatch_rows(recorder, static_cast<uint64_t>(shape.rows));
}

Expected<void> norm(Device& device, NormKind kind, const NormShape& shape, float eps, std::span<const float> x,
                    std::span<const float> w, std::span<const float> b, std::span<float> y) {
  LB_TRY_VOID(shape.validate());
  const uint64_t n = static_cast<uint64_t>(shape.rows * shape.cols), c = static_cast<uint64_t>(shape.cols);
  const bool layer = kind == NormKind::Layer;
  if (x.size() != n || y.size() != n || w.size() != c || b.size() != (layer ? c : 0))
    return make_error(ErrorCode::InvalidArgument,
                      "norm: spans of " + std::to_string(x.size()) + ", " + std::to_string(w.size()) + ", " +
                          std::to_string(b.size()) + " and " + std::to_string(y.size()) + " floats do not fit " +
                          std::to_string(shape.rows) + " rows of " + std::to_string(shape.cols));
  LB_TRY_ASSIGN(Buffer xb, op_buffer(device, x.size_bytes()));
  LB_TRY_ASSIGN(Buffer wb, op_buffer(device, w.size_bytes()));
  LB_TRY_ASSIGN(Buffer bb, op_buffer(device, b.size_bytes()));
  LB_TRY_ASSIGN(Buffer yb, op_buffer(device, y.size_bytes()));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(xb, std::as_bytes(x)));
  LB_TRY_VOID(rec.upload(wb, std::as_bytes(w)));
  LB_TRY_VOID(rec.upload(bb, std::as_bytes(b)));
  rec.barrier();
  LB_TRY_VOID(record_norm(rec, kind, shape, eps, xb, wb, layer ? &bb : nullptr, yb));
  rec.barrier();
  LB_TRY_VOID(rec.download(yb, std::as_writable_bytes(y)));
  return rec.submit_and_wait();
}

}  // namespace lowbit::gpu
