#include "gpu/ops/gptq_op.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <cstring>
#include <optional>
#include <string>

#include "core/quant/ggml_grid.h"
#include "core/tensor/dtype.h"
#include "core/tensor/half.h"

#include "gpu/ops/gptq_factor_op.h"
#include "gpu/ops/op_support.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/gptq_block.comp.
struct GptqBlockPush {
  uint32_t rows, cols, col0, count, group, groups, bits, symmetric, fp16_scales, static_grids, weighted, ggml_static;
  int32_t qmin, qmax;
};
static_assert(sizeof(GptqBlockPush) == 56, "GptqBlockPush must match the push-constant block of gptq_block.comp");

// Mirrors `Params` in gpu/shaders/gptq_update.comp.
struct GptqUpdatePush {
  uint32_t rows, cols, col0, count, col1;
};
static_assert(sizeof(GptqUpdatePush) == 20, "GptqUpdatePush must match the push-constant block of gptq_update.comp");

struct PackBytesPush {
  uint32_t n;
};
static_assert(sizeof(PackBytesPush) == 4, "PackBytesPush must match the push-constant block of pack_low_bytes.comp");

constexpr const char* kOp = "gptq_int";
constexpr uint32_t kTile = 128;  // gptq_update.comp's TILE
constexpr int64_t kBlockRows = 32;  // gptq_block.comp's ROWS

// The gptq_block variant of a format: the int family's, or a ggml block type's (a K-quant's
// importance-weighted one with `weighted`; the legacy types weigh through a push constant).
std::optional<ShaderId> block_shader(const Format& f, bool weighted = false) {
  if (f.kind == Format::Kind::Int) return ShaderId::gptq_block;
  if (f.kind != Format::Kind::Ggml) return std::nullopt;
  if (weighted) switch (f.dtype) {
      case DType::Q2_K: return ShaderId::gptq_block_weighted_q2_k;
      case DType::Q3_K: return ShaderId::gptq_block_weighted_q3_k;
      case DType::Q4_K: return ShaderId::gptq_block_weighted_q4_k;
      case DType::Q5_K: return ShaderId::gptq_block_weighted_q5_k;
      case DType::Q6_K: return ShaderId::gptq_block_weighted_q6_k;
      default: break;
    }
  switch (f.dtype) {
    case DType::Q4_0: return ShaderId::gptq_block_q4_0;
    case DType::Q4_1: return ShaderId::gptq_block_q4_1;
    case DType::Q5_0: return ShaderId::gptq_block_q5_0;
    case DType::Q5_1: return ShaderId::gptq_block_q5_1;
    case DType::Q8_0: return ShaderId::gptq_block_q8_0;
    case DType::Q2_K: return ShaderId::gptq_block_q2_k;
    case DType::Q3_K: return ShaderId::gptq_block_q3_k;
    case DType::Q4_K: return ShaderId::gptq_block_q4_k;
    case DType::Q5_K: return ShaderId::gptq_block_q5_k;
    case DType::Q6_K: return ShaderId::gptq_block_q6_k;
    default: return std::nullopt;
  }
}

// The packed ggml blocks of signed codes [rows, cols] on grids (d, m) [rows, cols / 32].
std::vector<uint8_t> pack_legacy(DType type, int64_t rows, int64_t cols, const std::vector<uint8_t>& codes,
                                 const std::vector<float>& grids) {
  const uint64_t block_bytes = traits(type).block_bytes;
  const int64_t blocks = rows * (cols / 32);
  const bool type1 = type == DType::Q4_1 || type == DType::Q5_1;
  std::vector<uint8_t> out(static_cast<size_t>(blocks) * block_bytes, 0);
#pragma omp parallel for schedule(static) if (blocks > 4096)
  for (int64_t b = 0; b < blocks; ++b) {
    int8_t c[32];
    uint8_t* blk = out.data() + b * block_bytes;
    const uint16_t d = f32_to_f16(grids[static_cast<size_t>(2 * b)]);
    std::memcpy(blk, &d, 2);
    if (type1) {
      const uint16_t m = f32_to_f16(grids[static_cast<size_t>(2 * b + 1)]);
      std::memcpy(blk + 2, &m, 2);
    }
    for (int j = 0; j < 32; ++j) c[j] = static_cast<int8_t>(codes[static_cast<size_t>(b * 32 + j)]);
    ggml_pack_codes(type, c, blk);
  }
  return out;
}

bool is_k_quant(const Format& f) {
  return f.kind == Format::Kind::Ggml && traits(f.dtype).block_size == 256;
}

// The words of one super-block's slot in gptq_block's B (its bytes rounded up to a word).
uint64_t k_slot_words(DType type) {
  return (traits(type).block_bytes + 3) / 4;
}

// The ggml blocks as fixed (`fixed`: block b at b · stride bytes) with the chosen signed codes
// [rows, cols] packed in, their scales kept: a K-quant's from the sweep's slots (B: [rows, cols /
// 256], stride 4 · k_slot_words), or the blocks fixed up front (stride: the block's bytes).
std::vector<uint8_t> pack_codes(DType type, int64_t rows, int64_t cols, const uint8_t* fixed, uint64_t stride,
                                const std::vector<uint8_t>& codes) {
  const uint64_t block_bytes = traits(type).block_bytes;
  const int64_t bs = static_cast<int64_t>(traits(type).block_size), blocks = rows * (cols / bs);
  std::vector<uint8_t> out(static_cast<size_t>(blocks) * block_bytes);
#pragma omp parallel for schedule(static) if (blocks > 512)
  for (int64_t b = 0; b < blocks; ++b) {
    int8_t c[256];
    uint8_t* blk = out.data() + b * block_bytes;
    std::memcpy(blk, fixed + b * stride, block_bytes);
    for (int64_t j = 0; j < bs; ++j) c[j] = static_cast<int8_t>(codes[static_cast<size_t>(b * bs + j)]);
    ggml_pack_codes(type, c, blk);
  }
  return out;
}

// The sweep's dequantized weights [rows, cols] (in its column order) from its codes and grids, each
// as gptq_block.comp forms it: scale · (code − zero) for the int family, scale · code + offset for a
// ggml type (signed codes); column j's grid is its group's, or with grids fixed up front, that of
// its original column perm[j]. This file is compiled without FMA contraction (gpu/CMakeLists.txt),
// so the values are the device's bit for bit, and 4 bytes per weight need not come back.
std::vector<float> dequantize_sweep(bool ggml, int64_t rows, int64_t cols, int64_t group, const std::vector<uint8_t>& codes,
                                    const std::vector<float>& grids, std::span<const uint32_t> perm) {
  const int64_t groups = cols / group;
  std::vector<int64_t> group_of(static_cast<size_t>(cols));  // column j's group (no division per weight)
  for (int64_t c = 0; c < cols; ++c)
    group_of[static_cast<size_t>(c)] = (perm.empty() ? c : static_cast<int64_t>(perm[static_cast<size_t>(c)])) / group;
  std::vector<float> out(codes.size());
#pragma omp parallel for schedule(static) if (rows * cols > (int64_t{1} << 16))
  for (int64_t r = 0; r < rows; ++r) {
    const float* g = grids.data() + 2 * r * groups;
    const uint8_t* code = codes.data() + r * cols;
    float* o = out.data() + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t gi = group_of[static_cast<size_t>(c)];
      const float scale = g[2 * gi], zero = g[2 * gi + 1];
      if (ggml) {
        const float scaled = scale * static_cast<float>(static_cast<int8_t>(code[c]));
        o[c] = scaled + zero;
      } else {
        o[c] = scale * (static_cast<float>(code[c]) - zero);
      }
    }
  }
  return out;
}

}  // namespace

Expected<void> GptqIntShape::validate() const {
  const bool ggml = format.kind == Format::Kind::Ggml;
  if (!block_shader(format) || (!ggml && (format.bits < 2 || format.bits > 8)))
    return make_error(ErrorCode::InvalidArgument,
                      std::string(kOp) + ": " + format.name() + " is neither of the int family nor a ggml block type");
  if (rows <= 0 || cols <= 0 || !format.fits(cols))
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": " + format.name() + " does not fit a tensor of " +
                                                      std::to_string(rows) + " × " + std::to_string(cols));
  if (weighted_grids && !ggml)
    return make_error(ErrorCode::Unsupported, std::string(kOp) + ": importance-weighted grids are the ggml types' only (" +
                                                  format.name() + ")");
  if (weighted_grids && static_grids)
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": grids fixed up front come fixed (" + format.name() +
                                                      "'s importance-weighted blocks are the host's)");
  // A K-quant super-block spans two column blocks; every other group divides one (unless its grids are fixed up front).
  const int64_t g = is_k_quant(format) ? kGptqBlock : ggml ? 32 : format.group_size(cols);
  if (!static_grids && (g > kGptqBlock || kGptqBlock % g != 0))
    return make_error(ErrorCode::Unsupported, std::string(kOp) + ": groups of " + std::to_string(g) +
                                                  " columns do not divide the GPU sweep's block of " + std::to_string(kGptqBlock));
  LB_TRY_VOID(check_op_size(kOp, "rows·cols", static_cast<uint64_t>(rows * cols)));
  return check_op_size(kOp, "cols·cols", static_cast<uint64_t>(cols * cols));
}

namespace {

// The sweep with U in `u_dev`, or uploaded from `u_host` into it when that is not empty.
// W comes from `w`, or from `w_dev` (w empty; not with a ggml type's grids fixed up front, which need
// W on the host).
Expected<GptqIntResult> sweep(Device& device, const GptqIntShape& shape, std::span<const float> w, const Buffer* w_dev,
                              std::span<const float> u_host, const Buffer* u_dev, const GptqStaticGrids* fixed,
                              std::span<const float> importance) {
  LB_TRY_VOID(shape.validate());
  HostPhases phases("GPTQ sweep");
  const int64_t rows = shape.rows, cols = shape.cols;
  const uint64_t ub = static_cast<uint64_t>(cols * cols) * 4, nw = static_cast<uint64_t>(rows * cols);
  if ((w_dev ? w_dev->size() < nw * 4 : w.size() != nw) || (u_dev ? u_dev->size() < ub : u_host.size_bytes() != ub))
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": w or u does not hold " + std::to_string(rows) + " × " +
                                                      std::to_string(cols) + " and " + std::to_string(cols) + "² floats");
  const bool ggml = shape.format.kind == Format::Kind::Ggml, k_quant = is_k_quant(shape.format);
  // Grids per group: the int family's groups, a ggml type's sub-blocks.
  const int64_t group = ggml ? ggml_grid_layout(shape.format.dtype).sub : shape.format.group_size(cols), groups = cols / group;
  // A ggml type's grids fixed up front: the base variant sweeps with them (the int family's, codes
  // chosen as ggml's), the blocks' codes as the codes' starting values, w as the weights they were
  // fixed from.
  const bool ggml_static = ggml && fixed;
  const uint64_t fixed_bytes = ggml ? rows * dtype_bytes(shape.format.dtype, static_cast<uint64_t>(cols)) : 0;
  if (shape.static_grids != (fixed != nullptr) ||
      (fixed && ((ggml ? fixed->ggml_blocks.size() != fixed_bytes : fixed->grids.size() != static_cast<size_t>(rows * groups)) ||
                 fixed->perm.size() != static_cast<size_t>(cols))))
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": static grids need " +
                                                      (ggml ? std::to_string(fixed_bytes) + " bytes of fixed blocks"
                                                            : std::to_string(rows * groups) + " grids") +
                                                      " and a column order of " + std::to_string(cols));
  if (shape.weighted_grids != !importance.empty() || (!importance.empty() && importance.size() != static_cast<size_t>(cols)))
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": weighted grids need one importance per column (" +
                                                      std::to_string(cols) + ")");
  GptqIntResult res;
  if (w_dev && fixed && shape.format.kind == Format::Kind::Ggml)
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": a ggml type's grids fixed up front need W on the host");
  std::vector<uint8_t> codes(nw);  // each code's low byte (pack_low_bytes.comp): the int family's
                                        // codes are below 256, a ggml type's fit int8
  std::vector<float> grids(static_cast<size_t>(2 * rows * groups)), loss(static_cast<size_t>(rows), 0.0f);
  std::vector<uint32_t> fixed_codes;  // ggml_static: the blocks' codes (signed) in the sweep's order
  if (ggml_static) {
    const int64_t bs = static_cast<int64_t>(traits(shape.format.dtype).block_size), nb = cols / bs, subs = bs / group;
    const uint64_t block_bytes = traits(shape.format.dtype).block_bytes;
    fixed_codes.resize(nw);
#pragma omp parallel if (rows > 64)
    {
      std::vector<int8_t> c(static_cast<size_t>(cols));
      std::vector<GgmlSubGrid> g(static_cast<size_t>(subs));
#pragma omp for schedule(static)
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t b = 0; b < nb; ++b) {
          const uint8_t* blk = fixed->ggml_blocks.data() + (r * nb + b) * block_bytes;
          ggml_block_grids(shape.format.dtype, blk, g.data());
          ggml_block_codes(shape.format.dtype, blk, c.data() + b * bs);
          for (int64_t k = 0; k < subs; ++k) {
            const auto gi = static_cast<size_t>(r * groups + b * subs + k);
            grids[2 * gi] = g[static_cast<size_t>(k)].scale, grids[2 * gi + 1] = g[static_cast<size_t>(k)].offset;
          }
        }
        for (int64_t j = 0; j < cols; ++j)
          fixed_codes[static_cast<size_t>(r * cols + j)] = static_cast<uint32_t>(static_cast<int32_t>(c[fixed->perm[static_cast<size_t>(j)]]));
      }
    }
  } else if (fixed) {
    for (size_t i = 0; i < fixed->grids.size(); ++i) grids[2 * i] = fixed->grids[i].scale, grids[2 * i + 1] = fixed->grids[i].zero;
  }
  const uint64_t wb = nw * 4, eb = static_cast<uint64_t>(rows * kGptqBlock) * 4;
  LB_TRY_ASSIGN(Buffer wbuf, op_buffer(device, wb));
  Buffer uploaded;
  if (!u_dev) {
    LB_TRY_ASSIGN(uploaded, op_buffer(device, ub));
  }
  const Buffer& ubuf = u_dev ? *u_dev : uploaded;
  LB_TRY_ASSIGN(Buffer ebuf, op_buffer(device, eb));
  LB_TRY_ASSIGN(Buffer cbuf, op_buffer(device, wb));
  const uint64_t cpb = (nw + 3) / 4 * 4;
  LB_TRY_ASSIGN(Buffer cpbuf, op_buffer(device, cpb));
  LB_TRY_ASSIGN(Buffer gbuf, op_buffer(device, grids.size() * 4));
  LB_TRY_ASSIGN(Buffer lbuf, op_buffer(device, loss.size() * 4));
  // The weights the grids were fixed from (a K-quant's in the sweep: [rows, 256]; ggml_static: w) and
  // a K-quant's blocks as the sweep fixes them.
  const bool k_sweep = k_quant && !ggml_static;
  std::vector<uint32_t> slots(k_sweep ? static_cast<size_t>(rows * (cols / 256)) * k_slot_words(shape.format.dtype) : 0);
  const uint64_t fb = ggml_static ? wb : k_sweep ? static_cast<uint64_t>(rows * 256) * 4 : 4, sb = k_sweep ? slots.size() * 4 : 4;
  LB_TRY_ASSIGN(Buffer fbuf, op_buffer(device, fb));
  LB_TRY_ASSIGN(Buffer sbuf, op_buffer(device, sb));
  // Binding 6 of the int family and the legacy types (8 of the weighted K-quants): the column order,
  // or the importances.
  const uint64_t pb = fixed ? fixed->perm.size_bytes() : std::max<uint64_t>(importance.size_bytes(), 4);
  LB_TRY_ASSIGN(Buffer pbuf, op_buffer(device, pb));
  phases.mark("buffers");
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  rec.mark("start");
  if (w_dev)
    rec.copy(*w_dev, wbuf, wb);  // the sweep writes W: the caller's stays as it is
  else
    LB_TRY_VOID(rec.upload(wbuf, std::as_bytes(w)));
  if (!u_dev) LB_TRY_VOID(rec.upload(ubuf, std::as_bytes(u_host)));
  LB_TRY_VOID(rec.upload(lbuf, std::as_bytes(std::span<const float>(loss))));
  if (fixed) {
    LB_TRY_VOID(rec.upload(gbuf, std::as_bytes(std::span<const float>(grids))));
    LB_TRY_VOID(rec.upload(pbuf, std::as_bytes(fixed->perm)));
  }
  if (ggml_static) {
    LB_TRY_VOID(rec.upload(cbuf, std::as_bytes(std::span<const uint32_t>(fixed_codes))));
    LB_TRY_VOID(rec.upload(fbuf, std::as_bytes(w)));
  }
  if (!importance.empty()) LB_TRY_VOID(rec.upload(pbuf, std::as_bytes(importance)));
  rec.barrier();
  rec.mark("upload");
  const bool k_weighted = k_sweep && shape.weighted_grids;
  const ShaderId block_id = ggml_static ? ShaderId::gptq_block : *block_shader(shape.format, k_weighted);
  LB_TRY_ASSIGN(const Pipeline* block, op_pipeline(rec, block_id, k_weighted ? 9 : ggml && !ggml_static && !k_sweep ? 7 : 8,
                                                   sizeof(GptqBlockPush)));
  const GgmlGridLayout layout = ggml ? ggml_grid_layout(shape.format.dtype) : GgmlGridLayout{};
  LB_TRY_ASSIGN(const Pipeline* update, op_pipeline(rec, ShaderId::gptq_update, 3, sizeof(GptqUpdatePush)));
  LB_TRY_ASSIGN(const Pipeline* pack, op_pipeline(rec, ShaderId::pack_low_bytes, 2, sizeof(PackBytesPush)));
  const uint64_t gb = grids.size() * 4, lb = loss.size() * 4;
  for (int64_t c0 = 0; c0 < cols; c0 += kGptqBlock) {
    const int64_t count = std::min(kGptqBlock, cols - c0), c1 = c0 + count;
    if (k_weighted)
      LB_TRY_VOID(rec.bind(*block, {BufferRange(wbuf, 0, wb), BufferRange(ubuf, 0, ub), BufferRange(ebuf, 0, eb),
                                    BufferRange(cbuf, 0, wb), BufferRange(gbuf, 0, gb), BufferRange(lbuf, 0, lb),
                                    BufferRange(fbuf, 0, fb), BufferRange(sbuf, 0, sb), BufferRange(pbuf, 0, pb)}));
    else if (k_sweep)
      LB_TRY_VOID(rec.bind(*block, {BufferRange(wbuf, 0, wb), BufferRange(ubuf, 0, ub), BufferRange(ebuf, 0, eb),
                                    BufferRange(cbuf, 0, wb), BufferRange(gbuf, 0, gb), BufferRange(lbuf, 0, lb),
                                    BufferRange(fbuf, 0, fb), BufferRange(sbuf, 0, sb)}));
    else if (ggml && !ggml_static)  // a legacy type's sweep variant
      LB_TRY_VOID(rec.bind(*block, {BufferRange(wbuf, 0, wb), BufferRange(ubuf, 0, ub), BufferRange(ebuf, 0, eb),
                                    BufferRange(cbuf, 0, wb), BufferRange(gbuf, 0, gb), BufferRange(lbuf, 0, lb),
                                    BufferRange(pbuf, 0, pb)}));
    else  // the base variant: the int family, or a ggml type's grids fixed up front
      LB_TRY_VOID(rec.bind(*block, {BufferRange(wbuf, 0, wb), BufferRange(ubuf, 0, ub), BufferRange(ebuf, 0, eb),
                                    BufferRange(cbuf, 0, wb), BufferRange(gbuf, 0, gb), BufferRange(lbuf, 0, lb),
                                    BufferRange(pbuf, 0, pb), BufferRange(fbuf, 0, fb)}));
    rec.push(GptqBlockPush{static_cast<uint32_t>(rows), static_cast<uint32_t>(cols), static_cast<uint32_t>(c0),
                           static_cast<uint32_t>(count), static_cast<uint32_t>(group), static_cast<uint32_t>(groups),
                           static_cast<uint32_t>(shape.format.bits), shape.format.symmetric ? 1u : 0u, shape.fp16_scales ? 1u : 0u,
                           fixed ? 1u : 0u, importance.empty() ? 0u : 1u, ggml_static ? 1u : 0u, layout.qmin, layout.qmax});
    LB_TRY_VOID(dispatch_rows(rec, static_cast<uint64_t>((rows + kBlockRows - 1) / kBlockRows)));
    rec.barrier();
    rec.mark("block");
    if (c1 < cols) {
      LB_TRY_VOID(rec.bind(*update, {BufferRange(wbuf, 0, wb), BufferRange(ubuf, 0, ub), BufferRange(ebuf, 0, eb)}));
      rec.push(GptqUpdatePush{static_cast<uint32_t>(rows), static_cast<uint32_t>(cols), static_cast<uint32_t>(c0),
                              static_cast<uint32_t>(count), static_cast<uint32_t>(c1)});
      LB_TRY_VOID(rec.dispatch(static_cast<uint32_t>((cols - c1 + kTile - 1) / kTile), static_cast<uint32_t>((rows + kTile - 1) / kTile)));
      rec.barrier();
      rec.mark("update");
    }
  }
  LB_TRY_VOID(rec.bind(*pack, {BufferRange(cbuf, 0, wb), BufferRange(cpbuf, 0, cpb)}));
  rec.push(PackBytesPush{static_cast<uint32_t>(nw)});
  LB_TRY_VOID(dispatch_elements(rec, *pack, (nw + 3) / 4));
  rec.barrier();
  rec.mark("pack");
  LB_TRY_VOID(rec.download(cpbuf, std::as_writable_bytes(std::span<uint8_t>(codes))));
  LB_TRY_VOID(rec.download(gbuf, std::as_writable_bytes(std::span<float>(grids))));
  LB_TRY_VOID(rec.download(lbuf, std::as_writable_bytes(std::span<float>(loss))));
  if (k_sweep) LB_TRY_VOID(rec.download(sbuf, std::as_writable_bytes(std::span<uint32_t>(slots))));
  rec.mark("download");
  phases.mark("record");
  LB_TRY_VOID(rec.submit_and_wait());
  phases.mark("submit and wait");
  rec.report_profile("GPTQ sweep");

  for (float l : loss) res.loss += l;
  const std::span<const uint32_t> grid_order = fixed ? std::span<const uint32_t>(fixed->perm) : std::span<const uint32_t>();
  res.dequantized = dequantize_sweep(ggml, rows, cols, group, codes, grids, grid_order);
  phases.mark("dequantize");
  if (ggml_static) {
    std::vector<uint8_t> original(codes.size());  // the codes in the original column order
#pragma omp parallel for schedule(static) if (rows > 64)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < cols; ++j)
        original[static_cast<size_t>(r * cols + fixed->perm[static_cast<size_t>(j)])] = codes[static_cast<size_t>(r * cols + j)];
    res.ggml = pack_codes(shape.format.dtype, rows, cols, fixed->ggml_blocks.data(), traits(shape.format.dtype).block_bytes, original);
    return res;
  }
  if (ggml) {
    res.ggml = k_quant ? pack_codes(shape.format.dtype, rows, cols, reinterpret_cast<const uint8_t*>(slots.data()),
                                    4 * k_slot_words(shape.format.dtype), codes)
                       : pack_legacy(shape.format.dtype, rows, cols, codes, grids);
    return res;
  }
  IntTensor& t = res.tensor;
  t.format = shape.format;
  t.rows = rows;
  t.cols = cols;
  t.codes = std::move(codes);
  t.grids.resize(grids.size() / 2);
  for (size_t i = 0; i < t.grids.size(); ++i) t.grids[i] = IntGrid{grids[2 * i], grids[2 * i + 1]};
  phases.mark("results");
  return res;
}

}  // namespace

Expected<GptqIntResult> gptq_int(Device& device, const GptqIntShape& shape, std::span<const float> w, std::span<const float> u,
                                 const GptqStaticGrids* fixed, std::span<const float> importance) {
  return sweep(device, shape, w, nullptr, u, nullptr, fixed, importance);
}

Expected<GptqIntResult> gptq_int(Device& device, const GptqIntShape& shape, std::span<const float> w, const Buffer& u,
                                 const GptqStaticGrids* fixed, std::span<const float> importance) {
  return sweep(device, shape, w, nullptr, {}, &u, fixed, importance);
}

Expected<GptqIntResult> gptq_int(Device& device, const GptqIntShape& shape, const Buffer& w, const Buffer& u,
                                 const GptqStaticGrids* fixed, std::span<const float> importance) {
  return sweep(device, shape, {}, &w, {}, &u, fixed, importance);
}

namespace {

// Rows [rows, cols] gathered into the sweep's column order: out[r][j] = w[r][perm[j]].
std::vector<float> permute_columns(std::span<const float> w, int64_t rows, int64_t cols, std::span<const uint32_t> perm) {
  std::vector<float> out(w.size());
#pragma omp parallel for schedule(static) if (rows > 64)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) out[static_cast<size_t>(r * cols + j)] = w[static_cast<size_t>(r * cols + perm[static_cast<size_t>(j)])];
  return out;
}

// Back from the sweep's order: out[r][perm[j]] = v[r][j].
template <class T>
void unpermute_columns(std::vector<T>& v, int64_t rows, int64_t cols, std::span<const uint32_t> perm) {
  std::vector<T> out(v.size());
#pragma omp parallel for schedule(static) if (rows > 64)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) out[static_cast<size_t>(r * cols + perm[static_cast<size_t>(j)])] = v[static_cast<size_t>(r * cols + j)];
  v.swap(out);
}

}  // namespace

GptqBackend vulkan_gptq(Device& device, FactorOn factor) {
  return [&device, factor](std::span<const float> w, int64_t rows, int64_t cols, std::span<const float> h, const GptqOptions& o,
                           const std::string& name) -> Expected<GptqResult> {
    const std::string who = name.empty() ? std::string("GPTQ") : "GPTQ on " + name;
    HostPhases phases(who);
    const bool ggml = o.format.kind == Format::Kind::Ggml;
    const bool grouped = ggml || (o.format.kind == Format::Kind::Int && o.format.group > 0);
    // Grids fixed up front, as core's gptq_quantize fixes them: one per row, or per static group (a
    // ggml type's blocks).
    const bool static_grids = !grouped || o.static_groups || o.act_order;
    const bool weighted = ggml && o.weighted_grids;  // in the sweep, or in the blocks fixed up front
    const GptqIntShape shape{rows, cols, o.format, o.fp16_scales, static_grids, weighted && !static_grids};
    LB_TRY_VOID(o.validate());
    if (auto v = shape.validate(); !v) return make_error(ErrorCode::Unsupported, v.error().message);
    if (w.size() != static_cast<size_t>(rows * cols) || h.size() != static_cast<size_t>(cols * cols))
      return make_error(ErrorCode::InvalidArgument, who + ": weight or Hessian size does not match " + std::to_string(rows) + " × " +
                                                        std::to_string(cols));
    int64_t not_finite = 0;
#pragma omp parallel for schedule(static) reduction(+ : not_finite) if (w.size() > (size_t{1} << 20))
    for (size_t i = 0; i < w.size(); ++i) not_finite += std::isfinite(w[i]) ? 0 : 1;
    if (not_finite > 0) return make_error(ErrorCode::InvalidArgument, who + ": weights or Hessian contain NaN or Inf");
    const auto t0 = std::chrono::steady_clock::now();
    phases.mark("checks");

    // With static grids: dead columns (H[i][i] = 0, taken as 1) and the sweep's column order first
    // (act-order: by decreasing H[i][i], stable), the grids from the dead-zeroed original weights.
    std::vector<int64_t> dead;
    std::vector<uint32_t> perm;
    if (static_grids) {
      std::vector<float> diag(static_cast<size_t>(cols));
      for (int64_t i = 0; i < cols; ++i) {
        diag[static_cast<size_t>(i)] = h[static_cast<size_t>(i * cols + i)];
        if (diag[static_cast<size_t>(i)] == 0) dead.push_back(i), diag[static_cast<size_t>(i)] = 1;
      }
      perm.resize(static_cast<size_t>(cols));
      std::iota(perm.begin(), perm.end(), 0u);
      if (o.act_order) std::stable_sort(perm.begin(), perm.end(), [&](uint32_t a, uint32_t b) { return diag[a] > diag[b]; });
    }
    const std::span<const uint32_t> order = o.act_order ? std::span<const uint32_t>(perm) : std::span<const uint32_t>();

    GptqFactor f;
    DeviceGptqFactor fd;
    std::string fell_back;  // why a device factor ran on the CPU
    bool on_device = factor == FactorOn::Device;
    if (on_device) {
      auto d = gptq_factor_on_device(device, h, cols, o.damp, name, order);
      if (d) {
        fd = std::move(*d);
        f.damp_used = fd.damp_used;
        f.dead = std::move(fd.dead);
        f.warnings = std::move(fd.warnings);
      } else if (d.error().code == ErrorCode::OutOfMemory) {  // its scratch (2 n² floats) did not fit: the CPU's
        on_device = false;
        fell_back = who + ": the inverse factor ran on the CPU (" + d.error().message + ")";
      } else {
        return Unexpected{d.error()};
      }
    }
    if (!on_device) {
      if (order.empty()) {
        LB_TRY_ASSIGN(f, gptq_inverse_factor(h, cols, o.damp, name));
      } else {
        std::vector<float> hp(h.size());  // P H Pᵀ: H[perm[r]][perm[c]]
#pragma omp parallel for schedule(static) if (cols > 64)
        for (int64_t r = 0; r < cols; ++r)
          for (int64_t c = 0; c < cols; ++c)
            hp[static_cast<size_t>(r * cols + c)] = h[static_cast<size_t>(order[static_cast<size_t>(r)]) * cols + order[static_cast<size_t>(c)]];
        LB_TRY_ASSIGN(f, gptq_inverse_factor(hp, cols, o.damp, name));
      }
      if (!fell_back.empty()) f.warnings.insert(f.warnings.begin(), fell_back);
    }
    phases.mark("factor");
    if (static_grids) f.dead = dead;
    std::vector<float> wz;  // with dead columns, the weights with theirs zeroed, as gptq_quantize does
    if (!f.dead.empty()) {
      wz.assign(w.begin(), w.end());
      for (int64_t c : f.dead)
        for (int64_t r = 0; r < rows; ++r) wz[static_cast<size_t>(r * cols + c)] = 0.0f;
      w = wz;
    }
    std::vector<float> importance;  // H[i][i], a dead column's taken as 1 (as gptq_quantize's)
    if (weighted)
      for (int64_t i = 0; i < cols; ++i) {
        const float d = h[static_cast<size_t>(i * cols + i)];
        importance.push_back(d == 0 ? 1.0f : d);
      }
    std::vector<IntGrid> grids;
    std::vector<uint8_t> blocks;
    std::vector<float> wp;
    if (static_grids && ggml) {
      blocks = gptq_ggml_fixed_blocks(o.format.dtype, w, rows, cols, importance);
      importance.clear();
      if (!order.empty()) {
        wp = permute_columns(w, rows, cols, order);
        w = wp;
      }
    } else if (static_grids) {
      const int64_t gs = o.format.group_size(cols), groups = cols / gs;
      grids.resize(static_cast<size_t>(rows * groups));
#pragma omp parallel for schedule(static) if (rows > 64)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t g = 0; g < groups; ++g)
          grids[static_cast<size_t>(r * groups + g)] =
              minmax_grid(&w[static_cast<size_t>(r * cols + g * gs)], gs, o.format.bits, o.format.symmetric, 1.0f, o.fp16_scales);
      if (!order.empty()) {
        wp = permute_columns(w, rows, cols, order);
        w = wp;
      }
    }
    const GptqStaticGrids fixed{grids, perm, blocks};
    const GptqStaticGrids* fx = static_grids ? &fixed : nullptr;
    const auto t1 = std::chrono::steady_clock::now();
    phases.mark("grids");
    LB_TRY_ASSIGN(GptqIntResult g, on_device ? gptq_int(device, shape, w, fd.u, fx, importance)
                                             : gptq_int(device, shape, w, f.u, fx, importance));
    phases.mark("sweep");
    if (!order.empty()) {
      if (!ggml) unpermute_columns(g.tensor.codes, rows, cols, order);  // a ggml type's blocks come packed in the original order
      unpermute_columns(g.dequantized, rows, cols, order);
    }
    GptqResult res;
    res.tensor = std::move(g.tensor);
    res.ggml = std::move(g.ggml);
    res.dequantized = std::move(g.dequantized);
    res.loss = g.loss;
    res.damp_used = f.damp_used;
    res.dead_columns = static_cast<int64_t>(f.dead.size());
    res.warnings = std::move(f.warnings);
    res.factor_seconds = std::chrono::duration<double>(t1 - t0).count();
    res.sweep_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    phases.mark("results");
    return res;
  };
}

}  // namespace lowbit::gpu
