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

// Mirrors `Params` in gpu/shaders/hessian_coop.comp.
struct HessianCoopPush {
  uint32_t tokens;
  uint32_t channels;
  float alpha;
  float beta;
  uint32_t cp_quads;
  uint32_t lo_quads;
};
static_assert(sizeof(HessianCoopPush) == 24, "HessianCoopPush must match the push-constant block of hessian_coop.comp");

// Mirrors `Params` in gpu/shaders/hessian_split.comp.
struct HessianSplitPush {
  uint32_t tokens;
  uint32_t channels;
  uint32_t cp;
  uint32_t words;
};
static_assert(sizeof(HessianSplitPush) == 16, "HessianSplitPush must match the push-constant block of hessian_split.comp");

// Mirrors `Params` in gpu/shaders/hessian_scale.comp.
struct HessianScalePush {
  uint32_t tokens;
  uint32_t channels;
};
static_assert(sizeof(HessianScalePush) == 8, "HessianScalePush must match the push-constant block of hessian_scale.comp");

constexpr uint64_t kTile = 128;      // hessian_accumulate.comp's TILE
constexpr uint64_t kCoopTile = 128;  // hessian_coop.comp's TILE
constexpr uint64_t kCoopStep = 16;   // hessian_coop.comp's BK
// hessian_coop.comp's shared memory: four fp16 panels of 16 × 136 and a 16×16 fp32 scratch per subgroup.
constexpr uint32_t kCoopSharedBytes = 4 * 16 * 136 * 2 + 4 * 16 * 16 * 4;

// The cooperative path's scratch: the channels' scales (Cp floats), then HI and LO (Tp × Cp fp16 each).
struct CoopLayout {
  uint64_t tp, cp, scale_bytes, split_bytes;
};

CoopLayout coop_layout(const HessianShape& s) {
  CoopLayout l;
  l.tp = (static_cast<uint64_t>(s.tokens) + kCoopStep - 1) / kCoopStep * kCoopStep;
  l.cp = (static_cast<uint64_t>(s.channels) + kCoopTile - 1) / kCoopTile * kCoopTile;
  l.scale_bytes = l.cp * sizeof(float);  // a multiple of 512: HI starts on any device's offset alignment
  l.split_bytes = 2 * l.tp * l.cp * 2;
  return l;
}

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

uint64_t hessian_scratch_bytes(const Device& device, const HessianShape& shape, MatmulPath path) {
  if (resolve_hessian_path(device, path) == MatmulPath::Portable) return 0;
  const CoopLayout l = coop_layout(shape);
  return l.scale_bytes + l.split_bytes;
}

MatmulPath resolve_hessian_path(const Device& device, MatmulPath path) {
  if (path == MatmulPath::CooperativeEmulated) return path;
  if (path == MatmulPath::Cooperative && device.features().cooperative_matrix &&
      device.limits().maxComputeSharedMemorySize >= kCoopSharedBytes && device.limits().maxComputeWorkGroupInvocations >= 128)
    return MatmulPath::Cooperative;
  return MatmulPath::Portable;
}

Expected<void> record_hessian_accumulate(CommandRecorder& recorder, const HessianShape& shape, float alpha, float beta,
                                         const Buffer& x, const Buffer& h, MatmulPath path, const Buffer* scratch) {
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
  if (!scratch) return make_error(ErrorCode::InvalidArgument, "hessian: the cooperative path needs a scratch buffer");
  const CoopLayout l = coop_layout(shape);
  if (l.tp * l.cp >= (uint64_t{1} << 32))
    return make_error(ErrorCode::Unsupported,
                      "hessian: " + shape_text(shape) + " padded to whole tiles needs 2^32 or more halves; the shader's indices are 32-bit");
  LB_TRY_VOID(check_buffer("scratch", *scratch, l.scale_bytes + l.split_bytes, shape));
  const BufferRange sr(*scratch, 0, c * sizeof(float)), pr(*scratch, l.scale_bytes, l.split_bytes);
  LB_TRY_ASSIGN(const Pipeline* scale, op_pipeline(recorder, ShaderId::hessian_scale, 2, sizeof(HessianScalePush)));
  LB_TRY_VOID(recorder.bind(*scale, {xr, sr}));
  recorder.push(HessianScalePush{push.tokens, push.channels});
  LB_TRY_VOID(dispatch_elements(recorder, *scale, c));
  recorder.barrier();
  LB_TRY_ASSIGN(const Pipeline* split, op_pipeline(recorder, ShaderId::hessian_split, 3, sizeof(HessianSplitPush)));
  LB_TRY_VOID(recorder.bind(*split, {xr, sr, pr}));
  const uint64_t words = l.tp * l.cp / 2;
  recorder.push(HessianSplitPush{push.tokens, push.channels, static_cast<uint32_t>(l.cp), static_cast<uint32_t>(words)});
  LB_TRY_VOID(dispatch_elements(recorder, *split, words));
  recorder.barrier();
  const ShaderId shader = path == MatmulPath::Cooperative ? ShaderId::hessian_coop : ShaderId::hessian_coop_emulated;
  LB_TRY_ASSIGN(const Pipeline* coop, op_pipeline(recorder, shader, 3, sizeof(HessianCoopPush)));
  LB_TRY_VOID(recorder.bind(*coop, {pr, hr, sr}));
  recorder.push(HessianCoopPush{push.tokens, push.channels, alpha, beta, static_cast<uint32_t>(l.cp / 8),
                                static_cast<uint32_t>(l.tp * l.cp / 8)});
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
  LB_TRY_ASSIGN(Buffer sb, op_buffer(device, hessian_scratch_bytes(device, shape, path)));
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
