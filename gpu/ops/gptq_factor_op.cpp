#include "gpu/ops/gptq_factor_op.h"

#include <algorithm>
#include <string>

#include "gpu/ops/op_support.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/gptq_factor_flip.comp.
struct FactorFlipPush {
  uint32_t n, mode;
  float lambda;
  uint32_t permuted;
};
static_assert(sizeof(FactorFlipPush) == 16, "FactorFlipPush must match the push-constant block of gptq_factor_flip.comp");

// Mirrors `Params` in gpu/shaders/gptq_factor_diag.comp.
struct FactorDiagPush {
  uint32_t n, k0, dbase;
};
static_assert(sizeof(FactorDiagPush) == 12, "FactorDiagPush must match the push-constant block of gptq_factor_diag.comp");

// Mirrors `Params` in gpu/shaders/gptq_factor_tri.comp.
struct FactorTriPush {
  uint32_t base, vstride, estride, count, kb, dbase;
};
static_assert(sizeof(FactorTriPush) == 24, "FactorTriPush must match the push-constant block of gptq_factor_tri.comp");

// Mirrors `Params` in gpu/shaders/gptq_factor_update.comp.
struct FactorUpdatePush {
  uint32_t ld, rows, cols, kb, p_off, q_off, c_off, flags;
};
static_assert(sizeof(FactorUpdatePush) == 32, "FactorUpdatePush must match the push-constant block of gptq_factor_update.comp");

constexpr const char* kOp = "gptq_factor";
constexpr uint32_t kNb = 64;       // the shaders' NB: rows of a diagonal block
constexpr uint32_t kTriVecs = 32;  // gptq_factor_tri's VECS
constexpr uint32_t kTile = 128;    // gptq_factor_update's TILE
constexpr uint32_t kModeH = 0, kModeU = 1, kModeIdentity = 2;
constexpr uint32_t kQTransposed = 1, kLower = 2;
// Bits of the status word.
constexpr uint32_t kNotFinite = 1, kNotPositiveDefinite = 2, kBadU = 4;

struct Pipelines {
  const Pipeline *flip, *diag, *tri, *update;
};

Expected<Pipelines> pipelines(CommandRecorder& rec) {
  Pipelines p{};
  LB_TRY_ASSIGN(p.flip, op_pipeline(rec, ShaderId::gptq_factor_flip, 4, sizeof(FactorFlipPush)));
  LB_TRY_ASSIGN(p.diag, op_pipeline(rec, ShaderId::gptq_factor_diag, 3, sizeof(FactorDiagPush)));
  LB_TRY_ASSIGN(p.tri, op_pipeline(rec, ShaderId::gptq_factor_tri, 2, sizeof(FactorTriPush)));
  LB_TRY_ASSIGN(p.update, op_pipeline(rec, ShaderId::gptq_factor_update, 3, sizeof(FactorUpdatePush)));
  return p;
}

struct Buffers {
  Buffer h, a, x, dinv, status, perm;  // h: H, then U; a: J(H + λI)J, then L; x: L⁻¹; perm: the sweep's order
  bool permuted = false;
};

Expected<void> flip(CommandRecorder& rec, const Pipelines& p, const Buffers& b, const Buffer& dst, const Buffer& src,
                    uint32_t n, uint32_t mode, float lambda) {
  const uint64_t bytes = uint64_t{n} * n * 4;
  LB_TRY_VOID(rec.bind(*p.flip, {BufferRange(dst, 0, bytes), BufferRange(src, 0, bytes), BufferRange(b.status, 0, 4),
                                 BufferRange(b.perm, 0, b.perm.size())}));
  rec.push(FactorFlipPush{n, mode, lambda, mode == kModeH && b.permuted ? 1u : 0u});
  return dispatch_elements(rec, *p.flip, uint64_t{n} * n);
}

Expected<void> tri(CommandRecorder& rec, const Pipelines& p, const Buffer& x, const Buffer& dinv, const FactorTriPush& push) {
  LB_TRY_VOID(rec.bind(*p.tri, {BufferRange(x, 0, x.size()), BufferRange(dinv, 0, dinv.size())}));
  rec.push(push);
  return dispatch_rows(rec, (push.count + kTriVecs - 1) / kTriVecs);
}

Expected<void> update(CommandRecorder& rec, const Pipelines& p, const Buffer& c, const Buffer& pm, const Buffer& qm,
                      const FactorUpdatePush& push) {
  LB_TRY_VOID(rec.bind(*p.update, {BufferRange(c, 0, c.size()), BufferRange(pm, 0, pm.size()), BufferRange(qm, 0, qm.size())}));
  rec.push(push);
  const uint64_t ti = (push.rows + kTile - 1) / kTile, tj = (push.cols + kTile - 1) / kTile;
  return dispatch_rows(rec, (push.flags & kLower) ? ti * (ti + 1) / 2 : ti * tj);
}

// One attempt with damping λ, U in b.h; the status word read back. H comes from `h_dev` (left as it
// is), or is uploaded from `h` into b.h (a failed attempt left U in its place).
Expected<uint32_t> attempt(Device& device, std::span<const float> h, const Buffer* h_dev, const Buffers& b, uint32_t n,
                           float lambda) {
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_ASSIGN(const Pipelines p, pipelines(rec));
  const uint32_t zero = 0;
  rec.mark("start");
  if (!h_dev) LB_TRY_VOID(rec.upload(b.h, std::as_bytes(h)));
  LB_TRY_VOID(rec.upload(b.status, std::as_bytes(std::span<const uint32_t>(&zero, 1))));
  rec.barrier();
  rec.mark("upload");
  LB_TRY_VOID(flip(rec, p, b, b.a, h_dev ? *h_dev : b.h, n, kModeH, lambda));
  LB_TRY_VOID(flip(rec, p, b, b.x, b.h, n, kModeIdentity, 0.0f));
  rec.barrier();
  rec.mark("flip");
  // Cholesky, L overwriting A's lower triangle.
  for (uint32_t k0 = 0, k = 0; k0 < n; k0 += kNb, ++k) {
    const uint32_t kb = std::min(kNb, n - k0), t0 = k0 + kb, dbase = k * kNb * kNb;
    LB_TRY_VOID(rec.bind(*p.diag, {BufferRange(b.a, 0, b.a.size()), BufferRange(b.dinv, 0, b.dinv.size()),
                                   BufferRange(b.status, 0, 4)}));
    rec.push(FactorDiagPush{n, k0, dbase});
    LB_TRY_VOID(rec.dispatch(1));
    rec.barrier();
    rec.mark("chol-diag");
    if (t0 == n) break;
    LB_TRY_VOID(tri(rec, p, b.a, b.dinv, FactorTriPush{t0 * n + k0, n, 1, n - t0, kb, dbase}));  // L_rk = A_rk L_kk⁻ᵀ
    rec.barrier();
    rec.mark("chol-tri");
    LB_TRY_VOID(update(rec, p, b.a, b.a, b.a,
                       FactorUpdatePush{n, n - t0, n - t0, kb, t0 * n + k0, t0 * n + k0, t0 * n + t0, kQTransposed | kLower}));
    rec.barrier();
    rec.mark("chol-update");
  }
  // L⁻¹ by block rows from B = I: X_k = D_k B_k, then B_m −= L_mk X_k below.
  for (uint32_t k0 = 0, k = 0; k0 < n; k0 += kNb, ++k) {
    const uint32_t kb = std::min(kNb, n - k0), t0 = k0 + kb;
    LB_TRY_VOID(tri(rec, p, b.x, b.dinv, FactorTriPush{k0 * n, 1, n, t0, kb, k * kNb * kNb}));
    rec.barrier();
    rec.mark("inv-tri");
    if (t0 == n) break;
    LB_TRY_VOID(update(rec, p, b.x, b.a, b.x, FactorUpdatePush{n, n - t0, t0, kb, t0 * n + k0, k0 * n, t0 * n, 0}));
    rec.barrier();
    rec.mark("inv-update");
  }
  LB_TRY_VOID(flip(rec, p, b, b.h, b.x, n, kModeU, 0.0f));
  rec.barrier();
  rec.mark("flip-u");
  uint32_t status = 0;
  LB_TRY_VOID(rec.download(b.status, std::as_writable_bytes(std::span<uint32_t>(&status, 1))));
  LB_TRY_VOID(rec.submit_and_wait());
  rec.report_profile("GPTQ factor");
  return status;
}

// The factor of H from the host (`h`) or from the device (`h_dev`, h empty).
Expected<DeviceGptqFactor> factor(Device& device, std::span<const float> h, const Buffer* h_dev, int64_t cols, double damp,
                                  const std::string& name, std::span<const uint32_t> perm) {
  const std::string who = name.empty() ? std::string("GPTQ") : "GPTQ on " + name;
  const uint64_t bytes = static_cast<uint64_t>(cols > 0 ? cols * cols : 0) * 4;
  if (cols <= 0 || (h_dev ? h_dev->size() < bytes : h.size_bytes() != bytes))
    return make_error(ErrorCode::InvalidArgument, who + ": the Hessian is not " + std::to_string(cols) + " × " + std::to_string(cols));
  if (!perm.empty() && static_cast<int64_t>(perm.size()) != cols)
    return make_error(ErrorCode::InvalidArgument, who + ": the column order has " + std::to_string(perm.size()) + " entries, not " +
                                                      std::to_string(cols));
  LB_TRY_VOID(check_op_size(kOp, "cols·cols", static_cast<uint64_t>(cols * cols)));
  const auto n = static_cast<uint32_t>(cols);
  HostPhases phases("GPTQ factor");
  std::vector<float> diag(static_cast<size_t>(cols));
  if (h_dev) {  // H's diagonal from the device: dead columns and the mean
    LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
    LB_TRY_ASSIGN(const Buffer* d, rec.scratch(diag.size() * 4));
    rec.gather(*h_dev, *d, diag.size(), 4, 0, (uint64_t{n} + 1) * 4);
    rec.barrier();
    LB_TRY_VOID(rec.download(*d, std::as_writable_bytes(std::span<float>(diag))));
    LB_TRY_VOID(rec.submit_and_wait());
  } else {
    for (int64_t i = 0; i < cols; ++i) diag[static_cast<size_t>(i)] = h[static_cast<size_t>(i * cols + i)];
  }
  DeviceGptqFactor f;
  double sum = 0;
  for (int64_t i = 0; i < cols; ++i) {
    const float d = diag[static_cast<size_t>(i)];
    if (d == 0) f.dead.push_back(i);
    sum += d == 0 ? 1.0 : static_cast<double>(d);
  }
  const double mean_diag = sum / static_cast<double>(cols);
  const uint64_t blocks = (n + kNb - 1) / kNb;
  Buffers b;
  LB_TRY_ASSIGN(b.h, op_buffer(device, bytes));
  LB_TRY_ASSIGN(b.a, op_buffer(device, bytes));
  LB_TRY_ASSIGN(b.x, op_buffer(device, bytes));
  LB_TRY_ASSIGN(b.dinv, op_buffer(device, blocks * kNb * kNb * 4));
  LB_TRY_ASSIGN(b.status, op_buffer(device, 4));
  LB_TRY_ASSIGN(b.perm, op_buffer(device, perm.size_bytes()));
  b.permuted = !perm.empty();
  phases.mark("buffers");
  if (b.permuted) {
    LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
    LB_TRY_VOID(rec.upload(b.perm, std::as_bytes(perm)));
    LB_TRY_VOID(rec.submit_and_wait());
  }
  double d = damp;
  for (;;) {
    LB_TRY_ASSIGN(const uint32_t status, attempt(device, h, h_dev, b, n, static_cast<float>(d * mean_diag)));
    phases.mark("attempt");
    if (status & kNotFinite) return make_error(ErrorCode::InvalidArgument, who + ": the Hessian contains NaN or Inf");
    if (!(status & (kNotPositiveDefinite | kBadU))) break;
    LB_TRY_ASSIGN(d, gptq_next_damp(who, d, f.warnings));
  }
  f.damp_used = d;
  f.u = std::move(b.h);
  return f;
}

}  // namespace

Expected<DeviceGptqFactor> gptq_factor_on_device(Device& device, std::span<const float> h, int64_t cols, double damp,
                                                 const std::string& name, std::span<const uint32_t> perm) {
  return factor(device, h, nullptr, cols, damp, name, perm);
}

Expected<DeviceGptqFactor> gptq_factor_on_device(Device& device, const Buffer& h, int64_t cols, double damp,
                                                 const std::string& name, std::span<const uint32_t> perm) {
  return factor(device, {}, &h, cols, damp, name, perm);
}

Expected<GptqFactor> gptq_factor(Device& device, std::span<const float> h, int64_t cols, double damp,
                                         const std::string& name, std::span<const uint32_t> perm) {
  LB_TRY_ASSIGN(DeviceGptqFactor d, gptq_factor_on_device(device, h, cols, damp, name, perm));
  GptqFactor f;
  f.u.resize(h.size());
  {
    LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
    LB_TRY_VOID(rec.download(d.u, std::as_writable_bytes(std::span<float>(f.u))));
    LB_TRY_VOID(rec.submit_and_wait());
  }
  f.damp_used = d.damp_used;
  f.dead = std::move(d.dead);
  f.warnings = std::move(d.warnings);
  return f;
}

}  // namespace lowbit::gpu
