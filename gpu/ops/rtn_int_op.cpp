#include "gpu/ops/rtn_int_op.h"

#include <string>
#include <vector>

#include "gpu/ops/ggml_quantize_op.h"
#include "gpu/ops/op_support.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/rtn_int.comp.
struct RtnIntPush {
  uint32_t rows;
  uint32_t cols;
  uint32_t group;
  uint32_t groups;
  uint32_t bits;
  uint32_t symmetric;
  uint32_t fp16_scales;
  float shrink;
};
static_assert(sizeof(RtnIntPush) == 32, "RtnIntPush must match the push-constant block of rtn_int.comp");

// Mirrors `Params` of the RTN_MSE variant (rtn_int_mse): RtnIntPush, then the number of ratios.
struct RtnIntMsePush {
  RtnIntPush base;
  uint32_t steps;
};
static_assert(sizeof(RtnIntMsePush) == 36, "RtnIntMsePush must match the push-constant block of rtn_int.comp (RTN_MSE)");

constexpr const char* kOp = "rtn_int";

}  // namespace

Expected<void> RtnIntShape::validate() const {
  if (format.kind != Format::Kind::Int || format.bits < 2 || format.bits > 8)
    return make_error(ErrorCode::InvalidArgument, "rtn_int: " + format.name() + " is not of the int family");
  if (rows <= 0 || cols <= 0 || !format.fits(cols))
    return make_error(ErrorCode::InvalidArgument, "rtn_int: " + format.name() + " does not fit a tensor of " +
                                                      std::to_string(rows) + " × " + std::to_string(cols));
  if (!(shrink > 0.0f && shrink <= 1.0f))
    return make_error(ErrorCode::InvalidArgument, "rtn_int: shrink " + std::to_string(shrink) + " is not in (0, 1]");
  if (mse_steps < 0)
    return make_error(ErrorCode::InvalidArgument, "rtn_int: mse_steps " + std::to_string(mse_steps) + " is negative");
  LB_TRY_VOID(check_op_size(kOp, "rows·cols", static_cast<uint64_t>(rows * cols)));
  return check_op_size(kOp, "2·rows·groups", static_cast<uint64_t>(2 * rows * groups()));
}

Expected<void> record_rtn_int(CommandRecorder& recorder, const RtnIntShape& shape, const Buffer& w, const Buffer& codes,
                              const Buffer& grids) {
  LB_TRY_VOID(shape.validate());
  const uint64_t n = static_cast<uint64_t>(shape.rows * shape.cols) * 4;
  const uint64_t g = static_cast<uint64_t>(shape.rows * shape.groups()) * 8;
  LB_TRY_VOID(check_op_buffer(kOp, "w", w, n));
  LB_TRY_VOID(check_op_buffer(kOp, "codes", codes, n));
  LB_TRY_VOID(check_op_buffer(kOp, "grids", grids, g));
  const RtnIntPush push{static_cast<uint32_t>(shape.rows), static_cast<uint32_t>(shape.cols),
                        static_cast<uint32_t>(shape.format.group_size(shape.cols)),
                        static_cast<uint32_t>(shape.groups()), static_cast<uint32_t>(shape.format.bits),
                        shape.format.symmetric ? 1u : 0u, shape.fp16_scales ? 1u : 0u, shape.shrink};
  if (shape.mse_steps > 0) {
    // Each invocation walks its share of the group once per ratio (op_support.h: lavapipe's limit).
    const uint64_t per_ratio = (static_cast<uint64_t>(shape.format.group_size(shape.cols)) + 63) / 64;
    LB_TRY_VOID(check_loop_budget(recorder.device(), kOp, per_ratio * static_cast<uint64_t>(shape.mse_steps),
                                  "the clip search of " + std::to_string(shape.mse_steps) + " ratios"));
    LB_TRY_ASSIGN(const Pipeline* pipeline, op_pipeline(recorder, ShaderId::rtn_int_mse, 3, sizeof(RtnIntMsePush)));
    LB_TRY_VOID(recorder.bind(*pipeline, {BufferRange(w, 0, n), BufferRange(codes, 0, n), BufferRange(grids, 0, g)}));
    recorder.push(RtnIntMsePush{push, static_cast<uint32_t>(shape.mse_steps)});
  } else {
    LB_TRY_ASSIGN(const Pipeline* pipeline, op_pipeline(recorder, ShaderId::rtn_int, 3, sizeof(RtnIntPush)));
    LB_TRY_VOID(recorder.bind(*pipeline, {BufferRange(w, 0, n), BufferRange(codes, 0, n), BufferRange(grids, 0, g)}));
    recorder.push(push);
  }
  return dispatch_rows(recorder, static_cast<uint64_t>(shape.rows * shape.groups()));
}

Expected<IntTensor> rtn_int(Device& device, const RtnIntShape& shape, std::span<const float> w) {
  LB_TRY_VOID(shape.validate());
  if (w.size() != static_cast<size_t>(shape.rows * shape.cols))
    return make_error(ErrorCode::InvalidArgument, "rtn_int: w holds " + std::to_string(w.size()) + " floats, " +
                                                      std::to_string(shape.rows * shape.cols) + " expected");
  std::vector<uint32_t> codes(w.size());
  std::vector<float> grids(static_cast<size_t>(2 * shape.rows * shape.groups()));
  LB_TRY_ASSIGN(Buffer wb, op_buffer(device, w.size_bytes()));
  LB_TRY_ASSIGN(Buffer cb, op_buffer(device, codes.size() * 4));
  LB_TRY_ASSIGN(Buffer gb, op_buffer(device, grids.size() * 4));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(wb, std::as_bytes(w)));
  rec.barrier();
  LB_TRY_VOID(record_rtn_int(rec, shape, wb, cb, gb));
  rec.barrier();
  LB_TRY_VOID(rec.download(cb, std::as_writable_bytes(std::span<uint32_t>(codes))));
  LB_TRY_VOID(rec.download(gb, std::as_writable_bytes(std::span<float>(grids))));
  LB_TRY_VOID(rec.submit_and_wait());

  IntTensor t;
  t.format = shape.format;
  t.rows = shape.rows;
  t.cols = shape.cols;
  t.codes.assign(codes.begin(), codes.end());
  t.grids.resize(grids.size() / 2);
  for (size_t i = 0; i < t.grids.size(); ++i) t.grids[i] = IntGrid{grids[2 * i], grids[2 * i + 1]};
  return t;
}

RtnBackend vulkan_rtn(Device& device) {
  return [&device](const float* w, int64_t rows, int64_t cols, const Format& f, bool mse_clip, const std::string& name,
                   bool fp16_scales) -> Expected<EncodedTensor> {
    const bool ggml = f.kind == Format::Kind::Ggml &&
                      (mse_clip ? ggml_quantize_weighted_on_device(f.dtype) : ggml_quantize_on_device(f.dtype));
    if (!(f.kind == Format::Kind::Int || ggml))
      return make_error(ErrorCode::Unsupported, name + ": " + f.name() + (mse_clip ? " with the scale search" : "") +
                                                    " is quantized on the CPU");
    if (!f.fits(cols))
      return make_error(ErrorCode::Unsupported, name + ": rows of " + std::to_string(cols) + " do not fit format " + f.name());
    const std::span<const float> values(w, static_cast<size_t>(rows * cols));
    EncodedTensor t;
    t.format = f;
    t.rows = rows;
    t.cols = cols;
    if (ggml && mse_clip) {  // ggml's weighted search with unit importances, as core's encode_rtn
      const std::vector<float> ones(static_cast<size_t>(cols), 1.0f);
      LB_TRY_ASSIGN(t.bytes, ggml_quantize_weighted(device, f.dtype, values, rows, cols, ones));
    } else if (ggml) {
      LB_TRY_ASSIGN(t.bytes, ggml_quantize(device, f.dtype, values));
    } else {
      const RtnIntShape shape = mse_clip ? RtnIntShape{rows, cols, f, kRtnMseMinShrink, fp16_scales, kRtnMseSteps}
                                         : RtnIntShape{rows, cols, f, 1.0f, fp16_scales};
      LB_TRY_ASSIGN(t.ints, rtn_int(device, shape, values));
    }
    return t;
  };
}

}  // namespace lowbit::gpu
