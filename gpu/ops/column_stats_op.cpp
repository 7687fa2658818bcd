#include "gpu/ops/column_stats_op.h"

#include <string>

#include "gpu/ops/op_support.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/column_abs_stats.comp.
struct ColumnStatsPush {
  uint32_t tokens, channels;
};
static_assert(sizeof(ColumnStatsPush) == 8, "ColumnStatsPush must match the push-constant block of column_abs_stats.comp");

constexpr const char* kOp = "column_abs_stats";

}  // namespace

Expected<void> record_column_abs_stats(CommandRecorder& recorder, int64_t tokens, int64_t channels, const Buffer& x,
                                       const Buffer& sums, const Buffer& maxes) {
  LB_TRY_VOID(check_op_size(kOp, "tokens", static_cast<uint64_t>(std::max<int64_t>(tokens, 0))));
  LB_TRY_VOID(check_op_size(kOp, "channels", static_cast<uint64_t>(std::max<int64_t>(channels, 0))));
  const uint64_t n = static_cast<uint64_t>(tokens) * static_cast<uint64_t>(channels);
  LB_TRY_VOID(check_op_size(kOp, "tokens·channels", n));
  const uint64_t c = static_cast<uint64_t>(channels) * sizeof(float);
  LB_TRY_VOID(check_op_buffer(kOp, "x", x, n * sizeof(float)));
  LB_TRY_VOID(check_op_buffer(kOp, "sums", sums, c));
  LB_TRY_VOID(check_op_buffer(kOp, "maxes", maxes, c));
  LB_TRY_ASSIGN(const Pipeline* pipeline, op_pipeline(recorder, ShaderId::column_abs_stats, 3, sizeof(ColumnStatsPush)));
  LB_TRY_VOID(recorder.bind(*pipeline, {BufferRange(x, 0, n * sizeof(float)), BufferRange(sums, 0, c), BufferRange(maxes, 0, c)}));
  recorder.push(ColumnStatsPush{static_cast<uint32_t>(tokens), static_cast<uint32_t>(channels)});
  return dispatch_elements(recorder, *pipeline, static_cast<uint64_t>(channels));
}

Expected<void> column_abs_stats(Device& device, std::span<const float> x, int64_t tokens, int64_t channels,
                                std::span<float> sums, std::span<float> maxes) {
  if (tokens <= 0 || channels <= 0 || x.size() != static_cast<size_t>(tokens * channels) ||
      sums.size() != static_cast<size_t>(channels) || maxes.size() != static_cast<size_t>(channels))
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": x, sums or maxes does not match " +
                                                      std::to_string(tokens) + " tokens × " + std::to_string(channels) +
                                                      " channels");
  LB_TRY_ASSIGN(Buffer xb, op_buffer(device, x.size_bytes()));
  LB_TRY_ASSIGN(Buffer sb, op_buffer(device, sums.size_bytes()));
  LB_TRY_ASSIGN(Buffer mb, op_buffer(device, maxes.size_bytes()));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(xb, std::as_bytes(x)));
  LB_TRY_VOID(rec.upload(sb, std::as_bytes(std::span<const float>(sums))));
  LB_TRY_VOID(rec.upload(mb, std::as_bytes(std::span<const float>(maxes))));
  rec.barrier();
  LB_TRY_VOID(record_column_abs_stats(rec, tokens, channels, xb, sb, mb));
  rec.barrier();
  LB_TRY_VOID(rec.download(sb, std::as_writable_bytes(sums)));
  LB_TRY_VOID(rec.download(mb, std::as_writable_bytes(maxes)));
  return rec.submit_and_wait();
}

}  // namespace lowbit::gpu
