#include "gpu/ops/matmul_op.h"

#include <string>

#include "gpu/pipeline/pipeline.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/matmul.comp (every variant).
struct MatmulPush {
  uint32_t m;
  uint32_t n;
  uint32_t k;
};
static_assert(sizeof(MatmulPush) == 12, "MatmulPush must match the push-constant block of matmul.comp");

constexpr uint32_t kBindings = 3;  // x, w, y

PipelineDesc pipeline_desc(WeightType type) {
  return PipelineDesc{.shader = type == WeightType::F16 ? ShaderId::matmul_f16 : ShaderId::matmul_f32,
                      .bindings = kBindings,
                      .push_constant_bytes = sizeof(MatmulPush),
                      .local_size = std::nullopt};
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

template <class WeightT>
Expected<void> matmul_host(Device& device, WeightType type, std::span<const float> x, std::span<const WeightT> w,
                           const MatmulShape& shape, std::span<float> y) {
  LB_TRY_VOID(shape.validate());
  const uint64_t m = shape.m, n = shape.n, k = shape.k;
  LB_TRY_VOID(check_size("x (elements)", x.size(), m * k, "M·K", shape));
  LB_TRY_VOID(check_size("w (elements)", w.size(), n * k, "N·K", shape));
  LB_TRY_VOID(check_size("y (elements)", y.size(), m * n, "M·N", shape));

  LB_TRY_ASSIGN(Buffer xb, Buffer::create(device, x.size_bytes(), MemoryUse::Device));
  LB_TRY_ASSIGN(Buffer wb, Buffer::create(device, matmul_weight_bytes(type, shape), MemoryUse::Device));
  LB_TRY_ASSIGN(Buffer yb, Buffer::create(device, y.size_bytes(), MemoryUse::Device));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(xb, std::as_bytes(x)));
  LB_TRY_VOID(rec.upload(wb, std::as_bytes(w)));
  rec.barrier();
  LB_TRY_VOID(record_matmul(rec, shape, type, xb, wb, yb));
  rec.barrier();
  LB_TRY_VOID(rec.download(yb, std::as_writable_bytes(y)));
  return rec.submit_and_wait();
}

}  // namespace

Expected<void> MatmulShape::validate() const {
  if (m <= 0 || n <= 0 || k <= 0)
    return make_error(ErrorCode::InvalidArgument, "matmul: dimensions must be positive (" + shape_text(*this) + ")");
  // The shader indexes with 32-bit unsigned integers.
  constexpr uint64_t kMaxElements = uint64_t{1} << 32;
  if (uint64_t(m) >= kMaxElements || uint64_t(n) >= kMaxElements || uint64_t(k) >= kMaxElements ||
      uint64_t(m) * uint64_t(k) >= kMaxElements || uint64_t(n) * uint64_t(k) >= kMaxElements ||
      uint64_t(m) * uint64_t(n) >= kMaxElements)
    return make_error(ErrorCode::Unsupported, "matmul: a matrix of " + shape_text(*this) +
                                                  " has 2^32 or more elements; the shader's "
                                                  "indices are 32-bit");
  return {};
}

uint64_t matmul_weight_bytes(WeightType type, const MatmulShape& shape) {
  const uint64_t count = uint64_t(shape.n) * uint64_t(shape.k);
  return type == WeightType::F16 ? (count * 2 + 3) / 4 * 4 : count * 4;
}

Expected<void> record_matmul(CommandRecorder& recorder, const MatmulShape& shape, WeightType type, const Buffer& x,
                             const Buffer& w, const Buffer& y) {
  LB_TRY_VOID(shape.validate());
  const uint64_t m = shape.m, n = shape.n, k = shape.k;
  LB_TRY_VOID(check_buffer("x", x, m * k * sizeof(float), shape));
  LB_TRY_VOID(check_buffer("w", w, matmul_weight_bytes(type, shape), shape));
  LB_TRY_VOID(check_buffer("y", y, m * n * sizeof(float), shape));

  LB_TRY_ASSIGN(const Pipeline* pipeline, recorder.device().pipeline(pipeline_desc(type)));
  LB_TRY_VOID(recorder.bind(
      *pipeline, {BufferRange(x, 0, m * k * sizeof(float)), BufferRange(w, 0, matmul_weight_bytes(type, shape)),
                  BufferRange(y, 0, m * n * sizeof(float))}));
  recorder.push(MatmulPush{static_cast<uint32_t>(m), static_cast<uint32_t>(n), static_cast<uint32_t>(k)});
  // One invocation per element of Y: x runs along N (columns), y along M (rows).
  return recorder.dispatch_threads(n, m, 1);
}

Expected<void> matmul(Device& device, std::span<const float> x, std::span<const float> w, int64_t M, int64_t N,
                      int64_t K, std::span<float> y) {
  return matmul_host(device, WeightType::F32, x, w, MatmulShape{M, N, K}, y);
}

Expected<void> matmul(Device& device, std::span<const float> x, std::span<const uint16_t> w, int64_t M, int64_t N,
                      int64_t K, std::span<float> y) {
  return matmul_host(device, WeightType::F16, x, w, MatmulShape{M, N, K}, y);
}

}  // namespace lowbit::gpu
