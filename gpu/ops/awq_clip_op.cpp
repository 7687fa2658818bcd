#include "gpu/ops/awq_clip_op.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gpu/ops/op_support.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/awq_clip.comp.
struct AwqClipPush {
  uint32_t rows, row0, cols, group, groups, bits, symmetric, fp16_scales, steps;
};
static_assert(sizeof(AwqClipPush) == 36, "AwqClipPush must match the push-constant block of awq_clip.comp");

constexpr const char* kOp = "awq_clip";
constexpr int64_t kMaxGroup = 1024;                     // MAX_GROUP of awq_clip.comp
constexpr int64_t kLocal = 64, kChunk = 16;             // LOCAL and CHUNK of awq_clip.comp
constexpr uint64_t kScratchBytes = uint64_t{64} << 20;  // d, c and e of one batch of rows (20 bytes a weight)

// The most iterations any one loop of awq_clip.comp runs in an invocation for this shape (every
// group changing, the worst case): the dot products with H (the largest), the candidates' loops.
int64_t loop_budget(int64_t cols, int64_t group, int64_t steps) {
  const auto up = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  const int64_t groups = cols / group, own_group = up(group, kLocal), own_row = up(cols, kLocal),
                chunks = up(group, kChunk);
  return std::max({groups * own_row * chunks,            // c = H d, and its updates
                   groups * steps * own_group * chunks,  // each candidate's H_gg x
                   groups * steps * own_group});
}

Expected<void> check_clip(Device& device, const MatrixRM& w, const MatrixRM& h, const Format& f, const AwqOptions& o) {
  const int64_t rows = w.rows(), cols = w.cols();
  if (rows <= 0 || cols <= 0 || h.rows() != cols || h.cols() != cols)
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": a [" + std::to_string(rows) + ", " +
                                                      std::to_string(cols) + "] layer needs a square Hessian of its " +
                                                      std::to_string(cols) + " inputs, not [" +
                                                      std::to_string(h.rows()) + ", " + std::to_string(h.cols()) + "]");
  if (o.clip_steps < 1 || !(o.clip_min > 0.0f && o.clip_min <= 1.0f))
    return make_error(ErrorCode::InvalidArgument,
                      std::string(kOp) + ": clip_steps must be at least 1 and clip_min in (0, 1]");
  if (f.kind != Format::Kind::Int || f.bits < 2 || f.bits > 8 || !f.fits(cols))
    return make_error(ErrorCode::Unsupported,
                      std::string(kOp) + ": " + f.name() + " on " + std::to_string(cols) +
                          " columns is not an int-family format that fits; the CPU searches it");
  if (f.group_size(cols) > kMaxGroup)
    return make_error(ErrorCode::Unsupported, std::string(kOp) + ": groups of " + std::to_string(f.group_size(cols)) +
                                                  " weights are over the shader's " + std::to_string(kMaxGroup) +
                                                  "; the CPU searches them");
  if (!device.features().shader_float64 || !device.features().subgroup_arithmetic)
    return make_error(ErrorCode::Unsupported,
                      std::string(kOp) + ": " + device.info().name +
                          " has no double or subgroup arithmetic; the CPU searches the clip ratios");
  LB_TRY_VOID(check_op_size(kOp, "rows·cols", static_cast<uint64_t>(rows * cols)));
  LB_TRY_VOID(check_op_size(kOp, "cols·cols", static_cast<uint64_t>(cols * cols)));
  // lavapipe ends any loop after 65535 iterations over an invocation's life (op_support.h); the CPU
  // then searches the layer.
  return check_loop_budget(device, kOp, static_cast<uint64_t>(loop_budget(cols, f.group_size(cols), o.clip_steps)),
                           "a row of " + std::to_string(cols) + " weights in " + f.name() + " with " +
                               std::to_string(o.clip_steps) + " ratios");
}

}  // namespace

Expected<AwqClipResult> awq_clip_int(Device& device, const MatrixRM& w, const MatrixRM& h, const Format& f,
                                     const AwqOptions& o, bool fp16_scales) {
  LB_TRY_VOID(check_clip(device, w, h, f, o));
  const int64_t rows = w.rows(), cols = w.cols(), group = f.group_size(cols), groups = cols / group;
  const int64_t batch =
      std::clamp<int64_t>(static_cast<int64_t>(kScratchBytes / (static_cast<uint64_t>(cols) * 20)), 1, rows);
  std::vector<float> ratios(static_cast<size_t>(o.clip_steps + 1));
  for (int k = 0; k <= o.clip_steps; ++k) ratios[static_cast<size_t>(k)] = awq_clip_ratio(o, k);
  std::vector<uint32_t> codes(static_cast<size_t>(rows * cols));
  std::vector<float> grids(static_cast<size_t>(rows * groups * 2));
  std::vector<double> stats(static_cast<size_t>(rows * 3));

  const uint64_t wb = static_cast<uint64_t>(rows * cols) * 4;
  LB_TRY_ASSIGN(Buffer wbuf, op_buffer(device, wb));
  LB_TRY_ASSIGN(Buffer hbuf, op_buffer(device, static_cast<uint64_t>(cols * cols) * 4));
  LB_TRY_ASSIGN(Buffer rbuf, op_buffer(device, ratios.size() * 4));
  LB_TRY_ASSIGN(Buffer dbuf, op_buffer(device, static_cast<uint64_t>(batch * cols) * 4));
  LB_TRY_ASSIGN(Buffer cbuf, op_buffer(device, static_cast<uint64_t>(batch * cols) * 8));
  LB_TRY_ASSIGN(Buffer ebuf, op_buffer(device, static_cast<uint64_t>(batch * cols) * 8));
  LB_TRY_ASSIGN(Buffer qbuf, op_buffer(device, wb));
  LB_TRY_ASSIGN(Buffer gbuf, op_buffer(device, grids.size() * 4));
  LB_TRY_ASSIGN(Buffer sbuf, op_buffer(device, stats.size() * 8));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(wbuf, std::as_bytes(std::span<const float>(w.data(), static_cast<size_t>(w.size())))));
  LB_TRY_VOID(rec.upload(hbuf, std::as_bytes(std::span<const float>(h.data(), static_cast<size_t>(h.size())))));
  LB_TRY_VOID(rec.upload(rbuf, std::as_bytes(std::span<const float>(ratios))));
  rec.barrier();
  LB_TRY_ASSIGN(const Pipeline* pipeline, op_pipeline(rec, ShaderId::awq_clip, 9, sizeof(AwqClipPush)));
  for (int64_t row0 = 0; row0 < rows; row0 += batch) {
    const int64_t n = std::min(batch, rows - row0);
    LB_TRY_VOID(rec.bind(
        *pipeline,
        {BufferRange(wbuf, 0, wbuf.size()), BufferRange(hbuf, 0, hbuf.size()), BufferRange(rbuf, 0, rbuf.size()),
         BufferRange(dbuf, 0, dbuf.size()), BufferRange(cbuf, 0, cbuf.size()), BufferRange(qbuf, 0, qbuf.size()),
         BufferRange(gbuf, 0, gbuf.size()), BufferRange(sbuf, 0, sbuf.size()), BufferRange(ebuf, 0, ebuf.size())}));
    rec.push(AwqClipPush{static_cast<uint32_t>(n), static_cast<uint32_t>(row0), static_cast<uint32_t>(cols),
                         static_cast<uint32_t>(group), static_cast<uint32_t>(groups), static_cast<uint32_t>(f.bits),
                         f.symmetric ? 1u : 0u, fp16_scales ? 1u : 0u, static_cast<uint32_t>(o.clip_steps)});
    LB_TRY_VOID(dispatch_rows(rec, static_cast<uint64_t>(n)));
    rec.barrier();  // the next batch reuses d, c and e
  }
  LB_TRY_VOID(rec.download(qbuf, std::as_writable_bytes(std::span<uint32_t>(codes))));
  LB_TRY_VOID(rec.download(gbuf, std::as_writable_bytes(std::span<float>(grids))));
  LB_TRY_VOID(rec.download(sbuf, std::as_writable_bytes(std::span<double>(stats))));
  LB_TRY_VOID(rec.submit_and_wait());

  AwqClipResult res;
  res.tensor.format = f;
  res.tensor.rows = rows;
  res.tensor.cols = cols;
  res.tensor.codes.assign(codes.begin(), codes.end());
  res.tensor.grids.resize(static_cast<size_t>(rows * groups));
  for (size_t i = 0; i < res.tensor.grids.size(); ++i) res.tensor.grids[i] = IntGrid{grids[2 * i], grids[2 * i + 1]};
  double shrink = 0;
  for (int64_t r = 0; r < rows; ++r) {
    res.error_before += stats[static_cast<size_t>(3 * r)];
    res.error_after += stats[static_cast<size_t>(3 * r + 1)];
    shrink += stats[static_cast<size_t>(3 * r + 2)] / static_cast<double>(groups);
  }
  res.mean_shrink = shrink / static_cast<double>(rows);
  return res;
}

AwqClipBackend vulkan_awq_clip(Device& device) {
  return [&device](const MatrixRM& w, const MatrixRM& h, const Format& format, const AwqOptions& options,
                   bool fp16_scales) { return awq_clip_int(device, w, h, format, options, fp16_scales); };
}

}  // namespace lowbit::gpu
