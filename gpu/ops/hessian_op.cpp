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

// Mirrors `Params` in gpu/shaders/hessian_scale.comp.
struct HessianScalePush {
  uint32_t tokens;
  uint32_t channels;
};
static_assert(sizeof(HessianScalePush) == 8, "HessianScalePush must match the push-constant block of hessian_scale.comp");

constexpr uint64_t kTile = 128;      // hessian_accumulate.comp's TILE
constexpr uint64_t kCoopTile = 128;  // hessian_coop.comp's TILE
// hessian_coop.comp's shared memory: four fp16 tiles of 128 × 24 and a 16×16 fp32 scratch per subgroup.
constexpr uint32_t kCoopSharedBytes = 4 * 128 * 24 * 2 + 8 * 16 * 16 * 4;

// Workgroups for the tiles on or above the diagonal of a C × C matrix in tiles of `tile`.
uint64_t upper_tiles(uint64_t c, uint64_t tile) {
  const uint64_t n = (c + tile - 1) / tile;
  return n * (n + 1) / 2;
}

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

MatmulPath resolve_hessian_path(const Device& device, MatmulPath path) {
  if (path == MatmulPath::CooperativeEmulated) return path;
  if (path == MatmulPath::Cooperative && device.features().cooperative_matrix &&
      device.limits().maxComputeSharedMemorySize >= kCoopSharedBytes && device.limits().maxComputeWorkGroupInvocations >= 256)
    return MatmulPath::Cooperative;
  return MatmulPath::Portable;
}

Expected<void> record_hessian_accumulate(CommandRecorder& recorder, const HessianShape& shape, float alpha, float beta,
                                         const Buffer& x, const Buffer& h, MatmulPath path, const Buffer* scales) {
  LB_TRY_VOID(shape.validate());
  const uint64_t t = shape.tokens, c = shape.channels;
  LB_TRY_VOID(check_buffer("x", x, t * c * sizeof(float), shape));
  LB_TRY_VOID(check_buffer("h", h, c * c * sizeof(float), shape));
  const BufferRange xr(x, 0, t * c * sizeof(float)), hr(h, 0, c * c * sizeof(float));
  const HessianPush push{static_cast<uint32_t>(t), static_cast<uint32_t>(c), alpha, beta};
  path = resolve_hessian_path(recorder.device(), path);
  if (path == MatmulPath::Portable) {
    LB_TRY_ASSIGN(const Pipeline* pipeline, op_pipeline(recorder, ShaderId::hessian_accumulate, 2, sizeof(HessianPush)));
    LB_TRY_VOID(recorder.bind(*pipeline, {xr, hr}));
    recorder.push(push);
    return dispatch_rows(recorder, upper_tiles(c, kTile));
  }
  if (!scales) return make_error(ErrorCode::InvalidArgument, "hessian: the cooperative path needs a buffer for the scales");
  LB_TRY_VOID(check_buffer("scales", *scales, c * sizeof(float), shape));
  const BufferRange sr(*scales, 0, c * sizeof(float));
  LB_TRY_ASSIGN(const Pipeline* scale, op_pipeline(recorder, ShaderId::hessian_scale, 2, sizeof(HessianScalePush)));
  LB_TRY_VOID(recorder.bind(*scale, {xr, sr}));
  recorder.push(HessianScalePush{push.tokens, push.channels});
  LB_TRY_VOID(dispatch_elements(recorder, *scale, c));
  recorder.barrier();
  const ShaderId shader = path == MatmulPath::Cooperative ? ShaderId::hessian_coop : ShaderId::hessian_coop_emulated;
  LB_TRY_ASSIGN(const Pipeline* coop, op_pipeline(recorder, shader, 3, sizeof(HessianPush)));
  LB_TRY_VOID(recorder.bind(*coop, {xr, hr, sr}));
  recorder.push(push);
  return dispatch_rows(recorder, upper_tiles(c, kCoopTile));
}

Expected<void> hessian_accumulate(Device& device, std::span<const float> x, int64_t tokens, int64_t channels, float alpha,
                                  float beta, std::span<float> h, MatmulPath path) {
  const HessianShape shape{tokens, channels};
  LB_TRY_VOID(shape.validate());
  const uint64_t t = tokens, c = channels;
  if (x.size() != t * c || h.size() != c * c)
    return make_error(ErrorCode::InvalidArgument, "hessian: x has " + std::to_string(x.size()) + " floats and h " +
                                                      std::to_string(h.size()) + "; " + shape_text(shape) +
                                                      " needs T·C and C·C");
  LB_TRY_ASSIGN(Buffer xb, Buffer::create(device, x.size_bytes(), MemoryUse::Device));
  LB_TRY_ASSIGN(Buffer hb, Buffer::create(device, h.size_bytes(), MemoryUse::Device));
  LB_TRY_ASSIGN(Buffer sb, op_buffer(device, resolve_hessian_path(device, path) == MatmulPath::Portable ? 0 : c * sizeof(float)));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(xb, std::as_bytes(x)));
  if (beta != 0.0f) LB_TRY_VOID(rec.upload(hb, std::as_bytes(std::span<const float>(h))));
  rec.barrier();
  LB_TRY_VOID(record_hessian_accumulate(rec, shape, alpha, beta, xb, hb, path, &sb));
  rec.barrier();
  LB_TRY_VOID(rec.download(hb, std::as_writable_bytes(h)));
  return rec.submit_and_wait();
}

}  // namespace lowbit::gpu
