#include "gpu/ops/hessian_op.h"

#include <string>

#include "gpu/ops/op_support.h"
#include "gpu/pipeline/pipeline.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/hessian_accumulate.comp.
struct HessianPush {
  uint32_t tokens;
  uint32_t channels;
  float alpha;
  float beta;
};
static_assert(sizeof(HessianPush) == 16, "HessianPush must match the push-constant block of hessian_accumulate.comp");

constexpr uint64_t kTile = 64;  // hessian_accumulate.comp's TILE

std::string shape_text(const HessianShape& s) {
  return "T=" + std::to_string(s.tokens) + ", C=" + std::to_string(s.channels);
}

Expected<void> check_buffer(const char* what, const Buffer& b, uint64_t need, const HessianShape& s) {
  if (b.size() >= need) return {};
  return make_error(ErrorCode::InvalidArgument, std::string("hessian: buffer ") + what + " holds " +
                                                    std::to_string(b.size()) + " bytes, " + std::to_string(need) +
                                                    " needed (" + shape_text(s) + ")");
}

}  // namespace

Expected<void> HessianShape::validate() const {
  if (tokens <= 0 || channels <= 0)
    return make_error(ErrorCode::InvalidArgument, "hessian: dimensions must be positive (" + shape_text(*this) + ")");
  constexpr uint64_t kMaxElements = uint64_t{1} << 32;  // the shader's indices are 32-bit
  if (uint64_t(tokens) * uint64_t(channels) >= kMaxElements || uint64_t(channels) * uint64_t(channels) >= kMaxElements)
    return make_error(ErrorCode::Unsupported,
                      "hessian: " + shape_text(*this) + " needs 2^32 or more elements; the shader's indices are 32-bit");
  return {};
}

Expected<void> record_hessian_accumulate(CommandRecorder& recorder, const HessianShape& shape, float alpha, float beta,
                                         const Buffer& x, const Buffer& h) {
  LB_TRY_VOID(shape.validate());
  const uint64_t t = shape.tokens, c = shape.channels;
  LB_TRY_VOID(check_buffer("x", x, t * c * sizeof(float), shape));
  LB_TRY_VOID(check_buffer("h", h, c * c * sizeof(float), shape));
  const PipelineDesc desc{.shader = ShaderId::hessian_accumulate, .bindings = 2,
                          .push_constant_bytes = sizeof(HessianPush), .local_size = std::nullopt};
  LB_TRY_ASSIGN(const Pipeline* pipeline, recorder.device().pipeline(desc));
  LB_TRY_VOID(recorder.bind(*pipeline, {BufferRange(x, 0, t * c * sizeof(float)), BufferRange(h, 0, c * c * sizeof(float))}));
  recorder.push(HessianPush{static_cast<uint32_t>(t), static_cast<uint32_t>(c), alpha, beta});
  // One workgroup per tile on or above the diagonal.
  const uint64_t tiles = (c + kTile - 1) / kTile;
  return dispatch_rows(recorder, tiles * (tiles + 1) / 2);
}

Expected<void> hessian_accumulate(Device& device, std::span<const float> x, int64_t tokens, int64_t channels, float alpha,
                                  float beta, std::span<float> h) {
  const HessianShape shape{tokens, channels};
  LB_TRY_VOID(shape.validate());
  const uint64_t t = tokens, c = channels;
  if (x.size() != t * c || h.size() != c * c)
    return make_error(ErrorCode::InvalidArgument, "hessian: x has " + std::to_string(x.size()) + " floats and h " +
                                                      std::to_string(h.size()) + "; " + shape_text(shape) +
                                                      " needs T·C and C·C");
  LB_TRY_ASSIGN(Buffer xb, Buffer::create(device, x.size_bytes(), MemoryUse::Device));
  LB_TRY_ASSIGN(Buffer hb, Buffer::create(device, h.size_bytes(), MemoryUse::Device));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(xb, std::as_bytes(x)));
  if (beta != 0.0f) LB_TRY_VOID(rec.upload(hb, std::as_bytes(std::span<const float>(h))));
  rec.barrier();
  LB_TRY_VOID(record_hessian_accumulate(rec, shape, alpha, beta, xb, hb));
  rec.barrier();
  LB_TRY_VOID(rec.download(hb, std::as_writable_bytes(h)));
  return rec.submit_and_wait();
}

}  // namespace lowbit::gpu
