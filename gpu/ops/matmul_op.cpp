#include "gpu/ops/matmul_op.h"

#include <optional>
#include <string>
#include <vector>

#include "core/tensor/dtype.h"
#include "gpu/ops/int_weights.h"
#include "gpu/ops/op_support.h"
#include "gpu/pipeline/pipeline.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/matmul.comp (every variant); the last five fields are the
// shader's WeightParams (gpu/shaders/common/dequant.glsl), zero where a format has no use for them.
struct MatmulPush {
  uint32_t m;
  uint32_t n;
  uint32_t k;
  uint32_t row_stride;   // ggml: bytes per row of W; int: words of codes per row
  uint32_t bits;         // int: bits per code
  uint32_t group;        // int: columns per group
  uint32_t groups;       // int: groups per row
  uint32_t grid_offset;  // int: word index of the first (scale, zero) pair
};
static_assert(sizeof(MatmulPush) == 32, "MatmulPush must match the push-constant block of matmul.comp");

// Mirrors `Params` in gpu/shaders/matmul_coop_x.comp.
struct CoopXPush {
  uint32_t m;
  uint32_t k;
};
static_assert(sizeof(CoopXPush) == 8, "CoopXPush must match the push-constant block of matmul_coop_x.comp");

constexpr uint32_t kBindings = 3;                   // x, w, y
constexpr uint32_t kOutputsPerInvocation = 8;       // along each of M and N (matmul.comp)
constexpr uint64_t kMaxOffset = uint64_t{1} << 32;  // the shader's offsets are 32-bit
// matmul_coop.comp: Y's tile per workgroup along M and N, and the shared memory it takes (fp16 X and
// W tiles of 128 rows × 40, one fp32 16×16 scratch for each of its 4 subgroups) and its invocations.
constexpr uint64_t kCoopTile = 128;
constexpr uint32_t kCoopSharedBytes = 2 * 128 * 40 * 2 + 4 * 16 * 16 * 4;
constexpr uint32_t kCoopInvocations = 128;

// The two variants of the product for weights stored as `f`, or none where the format has none.
struct MatmulShaders {
  ShaderId portable;     // matmul.comp
  ShaderId cooperative;  // matmul_coop.comp
  ShaderId emulated;     // matmul_coop.comp, EMULATE_COOP
};

std::optional<MatmulShaders> shaders_for(const Format& f) {
  using S = ShaderId;
  switch (f.kind) {
    case Format::Kind::Float:
      switch (f.dtype) {
        case DType::F32: return MatmulShaders{S::matmul_f32, S::matmul_coop_f32, S::matmul_coop_emulated_f32};
        case DType::F16: return MatmulShaders{S::matmul_f16, S::matmul_coop_f16, S::matmul_coop_emulated_f16};
        case DType::BF16: return MatmulShaders{S::matmul_bf16, S::matmul_coop_bf16, S::matmul_coop_emulated_bf16};
        default: return std::nullopt;
      }
    case Format::Kind::Ggml:
      switch (f.dtype) {
        case DType::Q4_0: return MatmulShaders{S::matmul_q4_0, S::matmul_coop_q4_0, S::matmul_coop_emulated_q4_0};
        case DType::Q4_1: return MatmulShaders{S::matmul_q4_1, S::matmul_coop_q4_1, S::matmul_coop_emulated_q4_1};
        case DType::Q5_0: return MatmulShaders{S::matmul_q5_0, S::matmul_coop_q5_0, S::matmul_coop_emulated_q5_0};
        case DType::Q5_1: return MatmulShaders{S::matmul_q5_1, S::matmul_coop_q5_1, S::matmul_coop_emulated_q5_1};
        case DType::Q8_0: return MatmulShaders{S::matmul_q8_0, S::matmul_coop_q8_0, S::matmul_coop_emulated_q8_0};
        case DType::Q2_K: return MatmulShaders{S::matmul_q2_k, S::matmul_coop_q2_k, S::matmul_coop_emulated_q2_k};
        case DType::Q3_K: return MatmulShaders{S::matmul_q3_k, S::matmul_coop_q3_k, S::matmul_coop_emulated_q3_k};
        case DType::Q4_K: return MatmulShaders{S::matmul_q4_k, S::matmul_coop_q4_k, S::matmul_coop_emulated_q4_k};
        case DType::Q5_K: return MatmulShaders{S::matmul_q5_k, S::matmul_coop_q5_k, S::matmul_coop_emulated_q5_k};
        case DType::Q6_K: return MatmulShaders{S::matmul_q6_k, S::matmul_coop_q6_k, S::matmul_coop_emulated_q6_k};
        default: return std::nullopt;
      }
    case Format::Kind::Int: return MatmulShaders{S::matmul_int, S::matmul_coop_int, S::matmul_coop_emulated_int};
    case Format::Kind::OneBit: return std::nullopt;
  }
  return std::nullopt;
}

std::string shape_text(const MatmulShape& s) {
  return "M=" + std::to_string(s.m) + ", N=" + std::to_string(s.n) + ", K=" + std::to_string(s.k);
}

Expected<void> check_size(const char* what, uint64_t have, uint64_t want, const char* formula, const MatmulShape& s) {
  if (have == want) return {};
  return make_error(ErrorCode::InvalidArgument, std::string("matmul: ") + what + " has " + std::to_string(have) +
                                                    ", expected " + formula + " = " + std::to_string(want) + " (" +
                                                    shape_text(s) + ")");
}

Expected<void> check_buffer(const char* what, const Buffer& b, uint64_t need, const MatmulShape& s) {
  if (b.size() >= need) return {};
  return make_error(ErrorCode::InvalidArgument, std::string("matmul: buffer ") + what + " holds " +
                                                    std::to_string(b.size()) + " bytes, " + std::to_string(need) +
                                                    " needed (" + shape_text(s) + ")");
}

MatmulPush push_constants(const Format& f, const MatmulShape& s) {
  MatmulPush push{static_cast<uint32_t>(s.m), static_cast<uint32_t>(s.n), static_cast<uint32_t>(s.k), 0, 0, 0, 0, 0};
  if (f.kind == Format::Kind::Ggml) {
    push.row_stride = static_cast<uint32_t>(dtype_bytes(f.dtype, static_cast<uint64_t>(s.k)));
  } else if (f.kind == Format::Kind::Int) {
    const IntWeightLayout l = int_weight_layout(f, s.n, s.k).value();  // checked by check_matmul_weights
    push.row_stride = static_cast<uint32_t>(l.row_words);
    push.bits = l.bits;
    push.group = static_cast<uint32_t>(l.group);
    push.groups = static_cast<uint32_t>(l.groups);
    push.grid_offset = static_cast<uint32_t>(l.grid_offset);
  }
  return push;
}

Expected<void> matmul_bytes(Device& device, const MatmulShape& shape, const Format& format, std::span<const float> x,
                            std::span<const std::byte> w, std::span<float> y, MatmulPath path = MatmulPath::Portable) {
  LB_TRY_VOID(shape.validate());
  LB_TRY_VOID(check_matmul_weights(format, shape));
  const uint64_t m = shape.m, n = shape.n, k = shape.k;
  LB_TRY_VOID(check_size("x (elements)", x.size(), m * k, "M·K", shape));
  LB_TRY_VOID(check_size("w (bytes)", w.size(), matmul_weight_bytes(format, shape), "the bytes of N·K weights", shape));
  LB_TRY_VOID(check_size("y (elements)", y.size(), m * n, "M·N", shape));

  LB_TRY_ASSIGN(Buffer xb, Buffer::create(device, x.size_bytes(), MemoryUse::Device));
  LB_TRY_ASSIGN(Buffer wb, Buffer::create(device, matmul_weight_buffer_bytes(format, shape), MemoryUse::Device));
  LB_TRY_ASSIGN(Buffer yb, Buffer::create(device, y.size_bytes(), MemoryUse::Device));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(xb, std::as_bytes(x)));
  LB_TRY_VOID(rec.upload(wb, w));
  rec.barrier();
  LB_TRY_VOID(record_matmul(rec, shape, format, xb, wb, yb, path));
  rec.barrier();
  LB_TRY_VOID(rec.download(yb, std::as_writable_bytes(y)));
  return rec.submit_and_wait();
}

}  // namespace

const char* matmul_path_name(MatmulPath path) {
  switch (path) {
    case MatmulPath::Portable: return "portable";
    case MatmulPath::Cooperative: return "cooperative";
    case MatmulPath::CooperativeEmulated: return "cooperative-emulated";
  }
  return "portable";
}

MatmulPath resolve_matmul_path(const Device& device, MatmulPath path) {
  if (path == MatmulPath::CooperativeEmulated) return path;
  if (path == MatmulPath::Cooperative && device.features().cooperative_matrix &&
      device.limits().maxComputeSharedMemorySize >= kCoopSharedBytes &&
      device.limits().maxComputeWorkGroupInvocations >= kCoopInvocations)
    return MatmulPath::Cooperative;
  return MatmulPath::Portable;
}

Expected<void> MatmulShape::validate() const {
  if (m <= 0 || n <= 0 || k <= 0)
    return make_error(ErrorCode::InvalidArgument, "matmul: dimensions must be positive (" + shape_text(*this) + ")");
  // The shader indexes with 32-bit unsigned integers.
  if (uint64_t(m) >= kMaxOffset || uint64_t(n) >= kMaxOffset || uint64_t(k) >= kMaxOffset ||
      uint64_t(m) * uint64_t(k) >= kMaxOffset || uint64_t(n) * uint64_t(k) >= kMaxOffset ||
      uint64_t(m) * uint64_t(n) >= kMaxOffset)
    return make_error(ErrorCode::Unsupported, "matmul: a matrix of " + shape_text(*this) +
                                                  " has 2^32 or more elements; the shader's "
                                                  "indices are 32-bit");
  return {};
}

Expected<void> check_matmul_weights(const Format& format, const MatmulShape& shape) {
  if (!shaders_for(format))
    return make_error(ErrorCode::Unsupported, "matmul: weights stored as " + format.name() + " are not supported");
  const uint64_t n = shape.n, k = shape.k;
  if (format.kind == Format::Kind::Ggml) {
    const uint32_t block = traits(format.dtype).block_size;
    if (k % block != 0)
      return make_error(ErrorCode::InvalidArgument, "matmul: K=" + std::to_string(k) + " is not a multiple of " +
                                                        format.name() + "'s block size " + std::to_string(block) +
                                                        " (" + shape_text(shape) + ")");
    if (n * dtype_bytes(format.dtype, k) >= kMaxOffset)
      return make_error(ErrorCode::Unsupported, "matmul: " + format.name() + " weights of " + shape_text(shape) +
                                                    " take 4 GiB or more; the shader's byte offsets are 32-bit");
  } else if (format.kind == Format::Kind::Int) {
    auto layout = int_weight_layout(format, shape.n, shape.k);
    if (!layout)
      return make_error(layout.error().code, "matmul: " + layout.error().message + " (" + shape_text(shape) + ")");
    if (layout->words >= kMaxOffset || k * layout->bits >= kMaxOffset)
      return make_error(ErrorCode::Unsupported, "matmul: " + format.name() + " weights of " + shape_text(shape) +
                                                    " need 2^32 or more words or bits per row; the shader's "
                                                    "offsets are 32-bit");
  }
  return {};
}

uint64_t matmul_weight_bytes(const Format& format, const MatmulShape& shape) {
  const uint64_t n = shape.n, k = shape.k;
  switch (format.kind) {
    case Format::Kind::Float:
    case Format::Kind::Ggml: return n * dtype_bytes(format.dtype, k);
    case Format::Kind::Int: {
      auto layout = int_weight_layout(format, shape.n, shape.k);
      return layout ? layout->bytes() : 0;
    }
    case Format::Kind::OneBit: return 0;
  }
  return 0;
}

uint64_t matmul_weight_buffer_bytes(const Format& format, const MatmulShape& shape) {
  return (matmul_weight_bytes(format, shape) + 3) / 4 * 4;
}

namespace {

// The product through `shader` (one of matmul.comp's or matmul_coop.comp's variants; `coop`: the
// latter's tiling, with X first converted into fp16 in a scratch buffer of the recorder's by
// matmul_coop_x.comp) on buffers already checked.
Expected<void> record_variant(CommandRecorder& recorder, const MatmulShape& shape, const Format& weights, const Buffer& x,
                              const Buffer& w, const Buffer& y, ShaderId shader, bool coop) {
  const uint64_t m = shape.m, n = shape.n, k = shape.k;
  const uint64_t w_bytes = matmul_weight_buffer_bytes(weights, shape);
  BufferRange x_range(x, 0, m * k * sizeof(float));
  if (coop) {
    const uint64_t xh_bytes = m * ((k + 7) / 8 * 8) * 2;  // [M, K rounded up to 8] halves
    LB_TRY_ASSIGN(const Buffer* xh, recorder.scratch(xh_bytes));
    LB_TRY_ASSIGN(const Pipeline* convert, recorder.device().pipeline(PipelineDesc{.shader = ShaderId::matmul_coop_x,
                                                                                   .bindings = 2,
                                                                                   .push_constant_bytes = sizeof(CoopXPush),
                                                                                   .local_size = std::nullopt}));
    LB_TRY_VOID(recorder.bind(*convert, {x_range, BufferRange(*xh, 0, xh_bytes)}));
    recorder.push(CoopXPush{static_cast<uint32_t>(m), static_cast<uint32_t>(k)});
    LB_TRY_VOID(dispatch_elements(recorder, *convert, xh_bytes / 4));
    recorder.barrier();
    x_range = BufferRange(*xh, 0, xh_bytes);
  }
  const PipelineDesc desc{.shader = shader,
                          .bindings = kBindings,
                          .push_constant_bytes = sizeof(MatmulPush),
                          .local_size = std::nullopt};
  LB_TRY_ASSIGN(const Pipeline* pipeline, recorder.device().pipeline(desc));
  LB_TRY_VOID(recorder.bind(*pipeline, {x_range, BufferRange(w, 0, w_bytes), BufferRange(y, 0, m * n * sizeof(float))}));
  recorder.push(push_constants(weights, shape));
  // One workgroup per tile of Y: x runs along N (columns), y along M (rows).
  if (coop)
    return recorder.dispatch(static_cast<uint32_t>((n + kCoopTile - 1) / kCoopTile),
                             static_cast<uint32_t>((m + kCoopTile - 1) / kCoopTile));
  // Portable: each invocation computes kOutputsPerInvocation² outputs.
  const auto& local = pipeline->local_size();
  const uint64_t tile_n = uint64_t{local[0]} * kOutputsPerInvocation;
  const uint64_t tile_m = uint64_t{local[1]} * kOutputsPerInvocation;
  return recorder.dispatch(static_cast<uint32_t>((n + tile_n - 1) / tile_n),
                           static_cast<uint32_t>((m + tile_m - 1) / tile_m));
}

Expected<void> check_buffers(const MatmulShape& shape, const Format& weights, const Buffer& x, const Buffer& w, const Buffer& y) {
  LB_TRY_VOID(shape.validate());
  LB_TRY_VOID(check_matmul_weights(weights, shape));
  const uint64_t m = shape.m, n = shape.n, k = shape.k;
  LB_TRY_VOID(check_buffer("x", x, m * k * sizeof(float), shape));
  LB_TRY_VOID(check_buffer("w", w, matmul_weight_buffer_bytes(weights, shape), shape));
  return check_buffer("y", y, m * n * sizeof(float), shape);
}

}  // namespace

Expected<void> record_matmul(CommandRecorder& recorder, const MatmulShape& shape, const Format& weights,
                             const Buffer& x, const Buffer& w, const Buffer& y, MatmulPath path) {
  LB_TRY_VOID(check_buffers(shape, weights, x, w, y));
  const MatmulPath ran = resolve_matmul_path(recorder.device(), path);
  const MatmulShaders shaders = *shaders_for(weights);
  const ShaderId shader = ran == MatmulPath::Cooperative ? shaders.cooperative
                          : ran == MatmulPath::CooperativeEmulated ? shaders.emulated
                                                                   : shaders.portable;
  return record_variant(recorder, shape, weights, x, w, y, shader, ran != MatmulPath::Portable);
}

Expected<void> record_matmul_coop_probe(CommandRecorder& recorder, const MatmulShape& shape, const Buffer& x, const Buffer& w,
                                        const Buffer& y, CoopProbe probe) {
  const Format f16 = Format::float_type(DType::F16);
  LB_TRY_VOID(check_buffers(shape, f16, x, w, y));
  if (resolve_matmul_path(recorder.device(), MatmulPath::Cooperative) != MatmulPath::Cooperative)
    return make_error(ErrorCode::Unsupported, "matmul: the cooperative probes need a device with cooperative matrices");
  return record_variant(recorder, shape, f16, x, w, y,
                        probe == CoopProbe::Mma ? ShaderId::matmul_coop_probe_mma_f16 : ShaderId::matmul_coop_probe_loads_f16, true);
}

Expected<void> matmul(Device& device, const MatmulShape& shape, const Format& weights, std::span<const float> x,
                      std::span<const std::byte> w, std::span<float> y, MatmulPath path) {
  return matmul_bytes(device, shape, weights, x, w, y, path);
}

Expected<void> matmul(Device& device, std::span<const float> x, std::span<const float> w, int64_t M, int64_t N,
                      int64_t K, std::span<float> y) {
  const MatmulShape shape{M, N, K};
  LB_TRY_VOID(shape.validate());
  LB_TRY_VOID(check_size("w (elements)", w.size(), uint64_t(N) * uint64_t(K), "N·K", shape));
  return matmul_bytes(device, shape, Format::float_type(DType::F32), x, std::as_bytes(w), y);
}

Expected<void> matmul(Device& device, std::span<const float> x, std::span<const uint16_t> w, int64_t M, int64_t N,
                      int64_t K, std::span<float> y) {
  const MatmulShape shape{M, N, K};
  LB_TRY_VOID(shape.validate());
  LB_TRY_VOID(check_size("w (elements)", w.size(), uint64_t(N) * uint64_t(K), "N·K", shape));
  return matmul_bytes(device, shape, Format::float_type(DType::F16), x, std::as_bytes(w), y);
}

Expected<void> matmul(Device& device, std::span<const float> x, const IntTensor& w, int64_t M, std::span<float> y) {
  const MatmulShape shape{M, w.rows, w.cols};
  LB_TRY_VOID(shape.validate());
  LB_TRY_ASSIGN(const std::vector<uint32_t> words, pack_int_weights(w));
  return matmul_bytes(device, shape, w.format, x, std::as_bytes(std::span<const uint32_t>(words)), y);
}

}  // namespace lowbit::gpu
