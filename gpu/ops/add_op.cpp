#include "gpu/ops/add_op.h"

#include <string>

#include "gpu/ops/op_support.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/add.comp (both variants).
struct AddPush {
  uint32_t n;
  uint32_t cols;
};
static_assert(sizeof(AddPush) == 8, "AddPush must match the push-constant block of add.comp");

constexpr const char* kOp = "add";

Expected<void> record(CommandRecorder& recorder, ShaderId shader, uint64_t n, uint64_t cols, const Buffer& y,
                      const Buffer& x, uint64_t x_floats) {
  LB_TRY_VOID(check_op_size(kOp, "n", n));
  LB_TRY_VOID(check_op_buffer(kOp, "y", y, n * sizeof(float)));
  LB_TRY_VOID(check_op_buffer(kOp, "x", x, x_floats * sizeof(float)));
  LB_CHECK(x.handle() != y.handle(), "add: x and y must be different buffers");
  LB_TRY_ASSIGN(const Pipeline* pipeline, op_pipeline(recorder, shader, 2, sizeof(AddPush)));
  LB_TRY_VOID(
      recorder.bind(*pipeline, {BufferRange(y, 0, n * sizeof(float)), BufferRange(x, 0, x_floats * sizeof(float))}));
  recorder.push(AddPush{static_cast<uint32_t>(n), static_cast<uint32_t>(cols)});
  return dispatch_elements(recorder, *pipeline, n);
}

Expected<void> run(Device& device, ShaderId shader, std::span<float> y, std::span<const float> x, uint64_t cols) {
  LB_TRY_ASSIGN(Buffer yb, op_buffer(device, y.size_bytes()));
  LB_TRY_ASSIGN(Buffer xb, op_buffer(device, x.size_bytes()));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(yb, std::as_bytes(std::span<const float>(y))));
  LB_TRY_VOID(rec.upload(xb, std::as_bytes(x)));
  rec.barrier();
  LB_TRY_VOID(record(rec, shader, y.size(), cols, yb, xb, x.size()));
  rec.barrier();
  LB_TRY_VOID(rec.download(yb, std::as_writable_bytes(y)));
  return rec.submit_and_wait();
}

}  // namespace

Expected<void> record_add(CommandRecorder& recorder, int64_t n, const Buffer& y, const Buffer& x) {
  const uint64_t count = static_cast<uint64_t>(n > 0 ? n : 0);
  return record(recorder, ShaderId::add_same, count, count, y, x, count);
}

Expected<void> record_add_bias(CommandRecorder& recorder, int64_t rows, int64_t cols, const Buffer& y,
                               const Buffer& bias) {
  if (rows <= 0 || cols <= 0)
    return make_error(ErrorCode::InvalidArgument,
                      "add: bias of " + std::to_string(cols) + " values for " + std::to_string(rows) + " rows");
  return record(recorder, ShaderId::add_bias, static_cast<uint64_t>(rows * cols), static_cast<uint64_t>(cols), y, bias,
                static_cast<uint64_t>(cols));
}

Expected<void> add(Device& device, std::span<float> y, std::span<const float> x) {
  if (x.size() != y.size() || y.empty())
    return make_error(ErrorCode::InvalidArgument,
                      "add: y holds " + std::to_string(y.size()) + " floats and x " + std::to_string(x.size()));
  return run(device, ShaderId::add_same, y, x, y.size());
}

Expected<void> add_bias(Device& device, std::span<float> y, std::span<const float> bias) {
  if (bias.empty() || y.empty() || y.size() % bias.size() != 0)
    return make_error(ErrorCode::InvalidArgument, "add: y holds " + std::to_string(y.size()) +
                                                      " floats, not whole rows of a bias of " +
                                                      std::to_string(bias.size()));
  return run(device, ShaderId::add_bias, y, bias, bias.size());
}

}  // namespace lowbit::gpu
