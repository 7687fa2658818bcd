#include "gpu/ops/awq_op.h"

#include <algorithm>
#include <optional>
#include <string>

#include "gpu/ops/matmul_op.h"
#include "gpu/ops/op_support.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/awq_delta.comp.
struct AwqDeltaPush {
  uint32_t rows, cols, group, groups, bits, symmetric, alpha;
  float shrink;
};
static_assert(sizeof(AwqDeltaPush) == 32, "AwqDeltaPush must match the push-constant block of awq_delta.comp");

// Mirrors `Params` in gpu/shaders/awq_delta_legacy.comp and awq_delta_k.comp.
struct AwqBlockPush {
  uint32_t rows, cols, alpha;
};
static_assert(sizeof(AwqBlockPush) == 12, "AwqBlockPush must match the push-constant block of awq_delta_legacy.comp and awq_delta_k.comp");

// The awq_delta_legacy (32-weight blocks) or awq_delta_k (256) variant of a ggml block type.
std::optional<ShaderId> ggml_delta(DType t) {
  switch (t) {
    case DType::Q4_0: return ShaderId::awq_delta_q4_0;
    case DType::Q4_1: return ShaderId::awq_delta_q4_1;
    case DType::Q5_0: return ShaderId::awq_delta_q5_0;
    case DType::Q5_1: return ShaderId::awq_delta_q5_1;
    case DType::Q8_0: return ShaderId::awq_delta_q8_0;
    case DType::Q2_K: return ShaderId::awq_delta_q2_k;
    case DType::Q3_K: return ShaderId::awq_delta_q3_k;
    case DType::Q4_K: return ShaderId::awq_delta_q4_k;
    case DType::Q5_K: return ShaderId::awq_delta_q5_k;
    case DType::Q6_K: return ShaderId::awq_delta_q6_k;
    default: return std::nullopt;
  }
}

// Mirrors `Params` in gpu/shaders/row_dot.comp.
struct RowDotPush {
  uint32_t rows, cols, offset;
};
static_assert(sizeof(RowDotPush) == 12, "RowDotPush must match the push-constant block of row_dot.comp");

constexpr const char* kOp = "awq_grid";

Expected<void> check_grid(const std::vector<AwqLayer>& layers, const MatrixRM& h, const std::vector<VectorF>& scales,
                          float shrink) {
  const int64_t in = h.rows();
  if (layers.empty() || scales.empty() || h.cols() != in || in <= 0)
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": needs layers, scales and a square Hessian");
  if (!(shrink > 0.0f && shrink <= 1.0f))
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": shrink " + std::to_string(shrink) + " is not in (0, 1]");
  for (const VectorF& s : scales)
    if (s.size() != in)
      return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": " + std::to_string(s.size()) +
                                                        " scales for a Hessian of " + std::to_string(in));
  for (const AwqLayer& l : layers) {
    if (l.w == nullptr || l.w->cols() != in)
      return make_error(ErrorCode::InvalidArgument, std::string(kOp) + " on " + l.name + ": its input channels are not the Hessian's " +
                                                        std::to_string(in));
    const Format& f = l.format;
    const bool int_family = f.kind == Format::Kind::Int && f.bits >= 2 && f.bits <= 8 && f.fits(in);
    const bool ggml = f.kind == Format::Kind::Ggml && ggml_delta(f.dtype) && in % traits(f.dtype).block_size == 0 && shrink == 1.0f;
    if (!int_family && !ggml)
      return make_error(ErrorCode::Unsupported, std::string(kOp) + " on " + l.name + ": " + f.name() +
                                                    " is neither an int-family format nor a ggml block type that fits; "
                                                    "the CPU evaluates it");
    LB_TRY_VOID(check_op_size(kOp, "rows·cols", static_cast<uint64_t>(l.w->rows() * in)));
    LB_TRY_VOID((MatmulShape{l.w->rows(), in, in}.validate()));
  }
  LB_TRY_VOID(check_op_size(kOp, "alphas·cols", static_cast<uint64_t>(scales.size()) * static_cast<uint64_t>(in)));
  return {};
}

}  // namespace

Expected<std::vector<double>> awq_grid_errors(Device& device, const std::vector<AwqLayer>& layers, const MatrixRM& h,
                                              const std::vector<VectorF>& scales, float shrink) {
  LB_TRY_VOID(check_grid(layers, h, scales, shrink));
  const int64_t in = h.rows(), alphas = static_cast<int64_t>(scales.size());
  int64_t max_rows = 0, sum_rows = 0;
  for (const AwqLayer& l : layers) {
    max_rows = std::max(max_rows, l.w->rows());
    sum_rows += l.w->rows();
  }
  LB_TRY_VOID(check_op_size(kOp, "alphas·rows", static_cast<uint64_t>(alphas * sum_rows)));
  std::vector<float> s(static_cast<size_t>(alphas * in)), inv(s.size());
  for (int64_t a = 0; a < alphas; ++a) {
    const VectorF& sa = scales[static_cast<size_t>(a)];
    const VectorF ia = sa.cwiseInverse();
    std::copy(sa.data(), sa.data() + in, s.begin() + a * in);
    std::copy(ia.data(), ia.data() + in, inv.begin() + a * in);
  }
  std::vector<float> sums(static_cast<size_t>(alphas * sum_rows));

  const uint64_t hb = static_cast<uint64_t>(in * in) * 4, sb = s.size() * 4, db = static_cast<uint64_t>(max_rows * in) * 4;
  LB_TRY_ASSIGN(Buffer hbuf, op_buffer(device, hb));
  LB_TRY_ASSIGN(Buffer sbuf, op_buffer(device, sb));
  LB_TRY_ASSIGN(Buffer ibuf, op_buffer(device, sb));
  LB_TRY_ASSIGN(Buffer dbuf, op_buffer(device, db));
  LB_TRY_ASSIGN(Buffer ybuf, op_buffer(device, db));
  LB_TRY_ASSIGN(Buffer obuf, op_buffer(device, sums.size() * 4));
  std::vector<Buffer> wbufs;
  for (const AwqLayer& l : layers) {
    LB_TRY_ASSIGN(Buffer wb, op_buffer(device, static_cast<uint64_t>(l.w->size()) * 4));
    wbufs.push_back(std::move(wb));
  }
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(hbuf, std::as_bytes(std::span<const float>(h.data(), static_cast<size_t>(h.size())))));
  LB_TRY_VOID(rec.upload(sbuf, std::as_bytes(std::span<const float>(s))));
  LB_TRY_VOID(rec.upload(ibuf, std::as_bytes(std::span<const float>(inv))));
  for (size_t i = 0; i < layers.size(); ++i) {
    const MatrixRM& w = *layers[i].w;
    LB_TRY_VOID(rec.upload(wbufs[i], std::as_bytes(std::span<const float>(w.data(), static_cast<size_t>(w.size())))));
  }
  rec.barrier();
  LB_TRY_ASSIGN(const Pipeline* delta, op_pipeline(rec, ShaderId::awq_delta, 4, sizeof(AwqDeltaPush)));
  LB_TRY_ASSIGN(const Pipeline* dot, op_pipeline(rec, ShaderId::row_dot, 3, sizeof(RowDotPush)));
  const Format f32 = Format::float_type(DType::F32);
  const uint64_t ob = sums.size() * 4;
  uint32_t offset = 0;
  for (int64_t a = 0; a < alphas; ++a)
    for (size_t i = 0; i < layers.size(); ++i) {
      const AwqLayer& l = layers[i];
      const int64_t rows = l.w->rows();
      const uint64_t lb = static_cast<uint64_t>(rows * in) * 4;
      const std::initializer_list<BufferRange> bound = {BufferRange(wbufs[i], 0, lb), BufferRange(sbuf, 0, sb),
                                                        BufferRange(ibuf, 0, sb), BufferRange(dbuf, 0, lb)};
      if (l.format.kind == Format::Kind::Ggml) {
        LB_TRY_ASSIGN(const Pipeline* blocks, op_pipeline(rec, *ggml_delta(l.format.dtype), 4, sizeof(AwqBlockPush)));
        LB_TRY_VOID(rec.bind(*blocks, bound));
        rec.push(AwqBlockPush{static_cast<uint32_t>(rows), static_cast<uint32_t>(in), static_cast<uint32_t>(a)});
        LB_TRY_VOID(dispatch_elements(rec, *blocks, static_cast<uint64_t>(rows * (in / traits(l.format.dtype).block_size))));
      } else {
        const int64_t group = l.format.group_size(in), groups = in / group;
        LB_TRY_VOID(rec.bind(*delta, bound));
        rec.push(AwqDeltaPush{static_cast<uint32_t>(rows), static_cast<uint32_t>(in), static_cast<uint32_t>(group),
                              static_cast<uint32_t>(groups), static_cast<uint32_t>(l.format.bits), l.format.symmetric ? 1u : 0u,
                              static_cast<uint32_t>(a), shrink});
        LB_TRY_VOID(dispatch_rows(rec, static_cast<uint64_t>(rows * groups)));
      }
      rec.barrier();
      LB_TRY_VOID(record_matmul(rec, MatmulShape{rows, in, in}, f32, dbuf, hbuf, ybuf));
      rec.barrier();
      LB_TRY_VOID(rec.bind(*dot, {BufferRange(dbuf, 0, lb), BufferRange(ybuf, 0, lb), BufferRange(obuf, 0, ob)}));
      rec.push(RowDotPush{static_cast<uint32_t>(rows), static_cast<uint32_t>(in), offset});
      LB_TRY_VOID(dispatch_rows(rec, static_cast<uint64_t>(rows)));
      rec.barrier();  // dbuf and ybuf are written again by the next (α, layer)
      offset += static_cast<uint32_t>(rows);
    }
  LB_TRY_VOID(rec.download(obuf, std::as_writable_bytes(std::span<float>(sums))));
  LB_TRY_VOID(rec.submit_and_wait());

  std::vector<double> errors(static_cast<size_t>(alphas), 0.0);
  for (int64_t a = 0; a < alphas; ++a)
    for (int64_t r = 0; r < sum_rows; ++r) errors[static_cast<size_t>(a)] += sums[static_cast<size_t>(a * sum_rows + r)];
  return errors;
}

AwqGridBackend vulkan_awq_grid(Device& device) {
  return [&device](const std::vector<AwqLayer>& layers, const MatrixRM& h, const std::vector<VectorF>& scales) {
    return awq_grid_errors(device, layers, h, scales);
  };
}

}  // namespace lowbit::gpu
