#include "gpu/ops/rope_op.h"

#include <cmath>
#include <string>

#include "gpu/ops/op_support.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/rope.comp (both variants).
struct RopePush {
  uint32_t rows;
  uint32_t heads;
  uint32_t head_dim;
  uint32_t half_rot;
  uint32_t T;
};
static_assert(sizeof(RopePush) == 20, "RopePush must match the push-constant block of rope.comp");

constexpr const char* kOp = "rope";

uint64_t table_bytes(const RopeShape& s) {
  return 2 * static_cast<uint64_t>(s.T * (s.rotary_dim / 2)) * sizeof(float);
}

}  // namespace

Expected<void> RopeShape::validate() const {
  if (rows <= 0 || heads <= 0 || head_dim <= 0 || T <= 0 || rotary_dim <= 0 || rotary_dim % 2 != 0 ||
      rotary_dim > head_dim)
    return make_error(ErrorCode::InvalidArgument,
                      "rope: rows " + std::to_string(rows) + ", heads " + std::to_string(heads) + ", head_dim " +
                          std::to_string(head_dim) + ", rotary_dim " + std::to_string(rotary_dim) + ", T " +
                          std::to_string(T) + ": all must be positive, rotary_dim even and at most head_dim");
  return check_op_size(kOp, "rows·heads·head_dim", static_cast<uint64_t>(rows * heads * head_dim));
}

std::vector<float> rope_table(double theta, int64_t rotary_dim, int64_t T) {
  // The arithmetic of rope_table() in core/model/forward.cpp, step for step.
  const int64_t half = rotary_dim / 2;
  std::vector<float> table(static_cast<size_t>(2 * T * half));
  float* cos_t = table.data();
  float* sin_t = table.data() + T * half;
  for (int64_t i = 0; i < half; ++i) {
    const float inv_freq =
        1.0f / std::pow(static_cast<float>(theta), static_cast<float>(2 * i) / static_cast<float>(rotary_dim));
    for (int64_t t = 0; t < T; ++t) {
      const float angle = static_cast<float>(t) * inv_freq;
      cos_t[t * half + i] = static_cast<float>(std::cos(static_cast<double>(angle)));
      sin_t[t * half + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
    }
  }
  return table;
}

Expected<void> record_rope(CommandRecorder& recorder, RopeStyle style, const RopeShape& shape, const Buffer& x,
                           const Buffer& table) {
  LB_TRY_VOID(shape.validate());
  const uint64_t bytes = static_cast<uint64_t>(shape.rows * shape.heads * shape.head_dim) * sizeof(float);
  LB_TRY_VOID(check_op_buffer(kOp, "x", x, bytes));
  LB_TRY_VOID(check_op_buffer(kOp, "table", table, table_bytes(shape)));
  LB_TRY_ASSIGN(const Pipeline* pipeline,
                op_pipeline(recorder, style == RopeStyle::Neox ? ShaderId::rope_neox : ShaderId::rope_interleaved, 2,
                            sizeof(RopePush)));
  LB_TRY_VOID(recorder.bind(*pipeline, {BufferRange(x, 0, bytes), BufferRange(table, 0, table_bytes(shape))}));
  const uint32_t half = static_cast<uint32_t>(shape.rotary_dim / 2);
  recorder.push(RopePush{static_cast<uint32_t>(shape.rows), static_cast<uint32_t>(shape.heads),
                         static_cast<uint32_t>(shape.head_dim), half, static_cast<uint32_t>(shape.T)});
  return dispatch_elements(recorder, *pipeline, static_cast<uint64_t>(shape.rows * shape.heads) * half);
}

Expected<void> rope(Device& device, RopeStyle style, const RopeShape& shape, double theta, std::span<float> x) {
  LB_TRY_VOID(shape.validate());
  if (x.size() != static_cast<size_t>(shape.rows * shape.heads * shape.head_dim))
    return make_error(ErrorCode::InvalidArgument, "rope: x holds " + std::to_string(x.size()) + " floats, " +
                                                      std::to_string(shape.rows * shape.heads * shape.head_dim) +
                                                      " expected");
  const std::vector<float> table = rope_table(theta, shape.rotary_dim, shape.T);
  LB_TRY_ASSIGN(Buffer xb, op_buffer(device, x.size_bytes()));
  LB_TRY_ASSIGN(Buffer tb, op_buffer(device, table.size() * sizeof(float)));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(xb, std::as_bytes(std::span<const float>(x))));
  LB_TRY_VOID(rec.upload(tb, std::as_bytes(std::span<const float>(table))));
  rec.barrier();
  LB_TRY_VOID(record_rope(rec, style, shape, xb, tb));
  rec.barrier();
  LB_TRY_VOID(rec.download(xb, std::as_writable_bytes(x)));
  return rec.submit_and_wait();
}

}  // namespace lowbit::gpu
