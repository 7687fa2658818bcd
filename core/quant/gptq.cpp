#include "core/quant/gptq.h"

#include <omp.h>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include <Eigen/Cholesky>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>
#include <vector>

#include "core/quant/ggml_formats.h"
#include "core/quant/ggml_grid.h"
#include "core/tensor/eigen_types.h"
#include "core/util/check.h"

namespace lowbit {
namespace {

using Index = Eigen::Index;
using MatrixCM = Eigen::MatrixXf;  // column-major: the sweep reads and updates whole columns

// The upper Cholesky factor U of (H + λI)⁻¹ (so (H + λI)⁻¹ = Uᵀ U), without forming the inverse:
// with J the reversal permutation, J(H + λI)J = L Lᵀ gives H + λI = R Rᵀ with R = J L J upper
// triangular, so U = R⁻¹ = J L⁻¹ J — the same factor as the reference's cholesky → cholesky_inverse
// → cholesky (it is unique), in a third of the work: one factorization and one triangular inverse
// (0.67 n³ flops instead of 2.67 n³; for a 7B down projection, n = 11008, most of a block's GPTQ
// time). L⁻¹ is solved by panels of columns: a panel's columns of L⁻¹ are zero above the panel, so
// each solves only the trailing triangle; the panels are fixed, so the bits do not depend on the
// thread count. Computed in H's own storage (a 7B down projection's H is 485 MB, and a copy of it
// was the job's peak). Returns 1 on success (H is then destroyed), 0 when H + λI is not positive
// definite in float arithmetic and H is intact (the factorization reads and writes only one
// triangle: it is restored from the other), -1 when U came out non-finite and H is lost.
int inverse_cholesky_upper(MatrixCM& h, double lambda, MatrixCM& u) {
  const Index n = h.rows();
  const Eigen::VectorXf diag = h.diagonal();
  h.diagonal().array() += static_cast<float>(lambda);
  h.reverseInPlace();  // J (H + λI) J
  Eigen::LLT<Eigen::Ref<MatrixCM>, Eigen::Lower> llt(h);
  if (llt.info() != Eigen::Success) {
    h.triangularView<Eigen::StrictlyLower>() = h.transpose();
    h.reverseInPlace();
    h.diagonal() = diag;
    return 0;
  }
  constexpr Index kPanel = 256;
  u.setIdentity(n, n);
  const Index panels = (n + kPanel - 1) / kPanel;
#pragma omp parallel for schedule(dynamic, 1) if (panels > 1)
  for (Index p = 0; p < panels; ++p) {
    const Index c0 = p * kPanel, nc = std::min(kPanel, n - c0);
    auto rhs = u.block(c0, c0, n - c0, nc);
    h.bottomRightCorner(n - c0, n - c0).triangularView<Eigen::Lower>().solveInPlace(rhs);
  }
  u.reverseInPlace();  // J L⁻¹ J: upper triangular
  return u.diagonal().allFinite() && (u.diagonal().array() > 0).all() ? 1 : -1;
}

// Rows are swept in chunks of this many inside a column block, one chunk per OpenMP work item:
// rows are independent there, and a chunk's 128 columns stay in cache.
constexpr int64_t kRowChunk = 64;

// ggml's quantizer on one block's weights x as GPTQ fixes its grid: the reference quantizer, or with
// `importance` (the block's columns' diag H) the importance-weighted one on a row of one block.
void fix_block(DType type, const float* x, uint8_t* blk, const float* importance) {
  const int64_t bs = traits(type).block_size;
  if (importance)
    ggml_quantize_weighted(type, x, blk, 1, bs, importance);
  else
    ggml_quantize(type, x, blk, static_cast<size_t>(bs));
}

// The int family: one min-max grid per row and group of g columns (g = cols without groups).
class IntTarget {
 public:
  IntTarget(const Format& f, int64_t rows, int64_t cols, bool fp16_scales)
      : f_(f),
        rows_(rows),
        cols_(cols),
        gs_(f.group_size(cols)),
        ngroups_(cols / gs_),
        maxq_(max_code(f.bits)),
        fp16_scales_(fp16_scales),
        grids_(static_cast<size_t>(rows * ngroups_)) {}
  int64_t group() const { return gs_; }

  // Grids of group g from columns [col0, col0 + g) of src.
  void fix(const MatrixCM& src, Index col0, int64_t g) {
#pragma omp parallel if (rows_ > kRowChunk)
    {
      std::vector<float> tmp(static_cast<size_t>(gs_));
#pragma omp for schedule(static)
      for (Index r = 0; r < rows_; ++r) {
        for (int64_t j = 0; j < gs_; ++j) tmp[static_cast<size_t>(j)] = src(r, col0 + j);
        grids_[static_cast<size_t>(r * ngroups_ + g)] = minmax_grid(tmp.data(), gs_, f_.bits, f_.symmetric, 1.0f, fp16_scales_);
      }
    }
  }

  // Values of rows [r0, r0 + n) of original column `orig` (current weights w) on their grids.
  void quantize(int64_t orig, const float* w, float* q, int64_t r0, int64_t n) const {
    const int64_t g = orig / gs_;
    for (int64_t r = 0; r < n; ++r) {
      const IntGrid& grid = grids_[static_cast<size_t>((r0 + r) * ngroups_ + g)];
      q[r] = dequantize_code(quantize_code(w[r], grid, maxq_), grid);
    }
  }

  // Codes in the original column order, on the grids they were quantized with.
  void finish(const MatrixCM& Q, const std::vector<Index>& perm, GptqResult& res) {
    IntTensor& t = res.tensor;
    t.format = f_;
    t.rows = rows_;
    t.cols = cols_;
    t.codes.resize(static_cast<size_t>(rows_ * cols_));
    t.grids = std::move(grids_);
#pragma omp parallel for schedule(static) if (rows_ > kRowChunk)
    for (Index r = 0; r < rows_; ++r)
      for (Index j = 0; j < cols_; ++j) {
        const Index orig = perm[static_cast<size_t>(j)];
        const IntGrid& grid = t.grids[static_cast<size_t>(r * ngroups_ + orig / gs_)];
        t.codes[static_cast<size_t>(r * cols_ + orig)] = static_cast<uint8_t>(quantize_code(Q(r, j), grid, maxq_));
      }
  }

 private:
  Format f_;
  int64_t rows_, cols_, gs_, ngroups_;
  int maxq_;
  bool fp16_scales_;
  std::vector<IntGrid> grids_;
};

// A ggml block type: a row's block of 32 or 256 columns takes the grid (scales and mins) that
// ggml's quantizer picks for the block's current weights; codes are then chosen column by column.
// Per-column state is stored column-major ([column][row]) so that a column's rows are contiguous.
class GgmlTarget {
 public:
  GgmlTarget(DType type, int64_t rows, int64_t cols, std::vector<float> importance)
      : type_(type),
        layout_(ggml_grid_layout(type)),
        rows_(rows),
        cols_(cols),
        row_bytes_(static_cast<int64_t>(dtype_bytes(type, static_cast<uint64_t>(cols)))),
        block_bytes_(static_cast<int64_t>(traits(type).block_bytes)),
        importance_(std::move(importance)),
        bytes_(static_cast<size_t>(rows * row_bytes_)),
        grids_(static_cast<size_t>(rows * (cols / layout_.sub))),
        fix_w_(static_cast<size_t>(rows * cols)),
        codes_(static_cast<size_t>(rows * cols)) {}
  int64_t group() const { return layout_.block; }

  // Grids of block b (columns [col0, col0 + block)) from src: ggml's quantizer on each row's span.
  void fix(const MatrixCM& src, Index col0, int64_t b) {
    const int bs = layout_.block, subs = layout_.subs();
#pragma omp parallel if (rows_ > kRowChunk)
    {
      std::vector<float> tmp(static_cast<size_t>(bs));
      std::vector<int8_t> codes(static_cast<size_t>(bs));
      std::vector<GgmlSubGrid> g(static_cast<size_t>(subs));
#pragma omp for schedule(static)
      for (Index r = 0; r < rows_; ++r) {
        for (int j = 0; j < bs; ++j) tmp[static_cast<size_t>(j)] = src(r, col0 + j);
        uint8_t* blk = bytes_.data() + r * row_bytes_ + b * block_bytes_;
        fix_block(type_, tmp.data(), blk, importance_.empty() ? nullptr : importance_.data() + col0);
        ggml_block_grids(type_, blk, g.data());
        ggml_block_codes(type_, blk, codes.data());
        for (int s = 0; s < subs; ++s)
          grids_[static_cast<size_t>((b * subs + s) * rows_ + r)] = g[static_cast<size_t>(s)];
        for (int j = 0; j < bs; ++j) {
          const auto at = static_cast<size_t>((col0 + j) * rows_ + r);
          fix_w_[at] = tmp[static_cast<size_t>(j)];
          codes_[at] = codes[static_cast<size_t>(j)];
        }
      }
    }
  }

  void quantize(int64_t orig, const float* w, float* q, int64_t r0, int64_t n) {
    const auto at = static_cast<size_t>(orig * rows_ + r0);
    ggml_choose_codes(layout_, grids_.data() + (orig / layout_.sub) * rows_ + r0, w, fix_w_.data() + at,
                      codes_.data() + at, q, n);
  }

  // The chosen codes packed into the blocks, whose scales stay as fixed.
  void finish(GptqResult& res) {
    const int bs = layout_.block;
    const int64_t nb = cols_ / bs;
#pragma omp parallel if (rows_ > kRowChunk)
    {
      std::vector<int8_t> codes(static_cast<size_t>(bs));
#pragma omp for schedule(static)
      for (Index r = 0; r < rows_; ++r)
        for (int64_t b = 0; b < nb; ++b) {
          for (int j = 0; j < bs; ++j)
            codes[static_cast<size_t>(j)] = codes_[static_cast<size_t>((b * bs + j) * rows_ + r)];
          ggml_pack_codes(type_, codes.data(), bytes_.data() + r * row_bytes_ + b * block_bytes_);
        }
    }
    res.ggml = std::move(bytes_);
  }

 private:
  DType type_;
  GgmlGridLayout layout_;
  int64_t rows_, cols_, row_bytes_, block_bytes_;
  std::vector<float> importance_;  // diag H in the original column order, or empty (reference quantizer)
  std::vector<uint8_t> bytes_;
  std::vector<GgmlSubGrid> grids_;  // [block · subs + sub][row]
  std::vector<float> fix_w_;        // [column][row]: the weight each block's grid was fixed from
  std::vector<int8_t> codes_;       // [column][row]: ggml's codes at the fix, then the chosen ones
};

// The lazy batch update after a column block [i1, i2): W[r][c] −= Σ_k Err[r][k] · U[i1 + k][c] for
// every column c ≥ i2. Each element's sum is accumulated in k order from zero, every product and sum
// rounded (no fused multiply-add: Vulkan does not promise that its fma fuses, while its products and
// sums are exact roundings), and subtracted once — what gptq_update.comp computes — so the CPU and
// Vulkan sweeps agree bit for bit (with a GEMM library's order, rounding ties broken differently
// changed 1–2 % of a whole model's codes through its chained blocks) and the result does not depend
// on the thread count. This file is compiled without FMA contraction. Blocked as a GEMM: Err packed once into tiles of 16 rows ([tile][k][16],
// zero-padded), a panel of row tiles kept in cache while every thread walks its columns six at a time
// (the six U columns packed [k][6]); a tile's 16 × 6 sums live in twelve AVX registers.
class BlockErrorUpdate {
 public:
  static constexpr Index kTileRows = 16, kTileCols = 6, kPanelTiles = 32;

  void operator()(MatrixCM& W, const MatrixCM& Err, const MatrixCM& U, Index i1, Index i2) {
    const Index rows = W.rows(), cols = W.cols(), count = Err.cols();
    const Index row_tiles = (rows + kTileRows - 1) / kTileRows, col_tiles = (cols - i2 + kTileCols - 1) / kTileCols;
    errp_.assign(static_cast<size_t>(row_tiles * count * kTileRows), 0.0f);
#pragma omp parallel for schedule(static) if (row_tiles > kPanelTiles)
    for (Index t = 0; t < row_tiles; ++t)
      for (Index k = 0; k < count; ++k)
        for (Index r = t * kTileRows; r < std::min(rows, (t + 1) * kTileRows); ++r)
          errp_[static_cast<size_t>((t * count + k) * kTileRows + r - t * kTileRows)] = Err(r, k);
    for (Index p0 = 0; p0 < row_tiles; p0 += kPanelTiles) {
      const Index p1 = std::min(row_tiles, p0 + kPanelTiles);
#pragma omp parallel for schedule(static) if (col_tiles > 1)
      for (Index ct = 0; ct < col_tiles; ++ct) {
        const Index c0 = i2 + ct * kTileCols, nc = std::min(kTileCols, cols - c0);
        float up[128 * kTileCols];
        float* upp = count <= 128 ? up : nullptr;
        std::vector<float> up_big;
        if (!upp) {
          up_big.resize(static_cast<size_t>(count * kTileCols));
          upp = up_big.data();
        }
        for (Index k = 0; k < count; ++k)
          for (Index j = 0; j < kTileCols; ++j) upp[k * kTileCols + j] = j < nc ? U(i1 + k, c0 + j) : 0.0f;
        for (Index t = p0; t < p1; ++t) {
          float acc[kTileCols][kTileRows];
          tile(errp_.data() + t * count * kTileRows, upp, count, acc);
          const Index r0 = t * kTileRows, nr = std::min(kTileRows, rows - r0);
          for (Index j = 0; j < nc; ++j) {
            float* w = &W(r0, c0 + j);
            for (Index r = 0; r < nr; ++r) w[r] -= acc[j][r];
          }
        }
      }
    }
  }

 private:
  // acc[j][r] = Σ_k e[k][r] · u[k][j], in k order, products and sums rounded one by one.
  static void tile(const float* e, const float* u, Index count, float (&acc)[kTileCols][kTileRows]) {
#if defined(__AVX2__)
    __m256 a[kTileCols][2];
    for (auto& x : a) x[0] = x[1] = _mm256_setzero_ps();
    for (Index k = 0; k < count; ++k, e += kTileRows, u += kTileCols) {
      const __m256 e0 = _mm256_loadu_ps(e), e1 = _mm256_loadu_ps(e + 8);
      for (Index j = 0; j < kTileCols; ++j) {
        const __m256 uj = _mm256_broadcast_ss(u + j);
        a[j][0] = _mm256_add_ps(a[j][0], _mm256_mul_ps(e0, uj));
        a[j][1] = _mm256_add_ps(a[j][1], _mm256_mul_ps(e1, uj));
      }
    }
    for (Index j = 0; j < kTileCols; ++j) {
      _mm256_storeu_ps(acc[j], a[j][0]);
      _mm256_storeu_ps(acc[j] + 8, a[j][1]);
    }
#else
    for (auto& x : acc) std::fill(std::begin(x), std::end(x), 0.0f);
    for (Index k = 0; k < count; ++k, e += kTileRows, u += kTileCols)
      for (Index j = 0; j < kTileCols; ++j)
        for (Index r = 0; r < kTileRows; ++r) acc[j][r] += e[r] * u[j];
#endif
  }

  std::vector<float> errp_;
};

// The column sweep (METHODS.md §2.3) over W (permuted by `perm` under act-order); a column block,
// once swept, holds the chosen values, so W ends as Ŵ (in sweep order). Grids that are not static
// are fixed at the start of the column block that holds their first column, from W as corrected up
// to that block, as the reference does. Rows are independent inside a column block: each chunk of
// rows runs the whole block on its own thread. Returns Σ (w − q)² / U[i,i]² / 2.
template <class Target>
double sweep(MatrixCM& W, const MatrixCM& U, const std::vector<Index>& perm, int64_t B, bool fix_in_sweep,
             Target& target) {
  const int64_t rows = W.rows(), cols = W.cols(), gs = target.group();
  const int64_t nchunks = (rows + kRowChunk - 1) / kRowChunk;
  std::vector<double> chunk_loss(static_cast<size_t>(nchunks), 0.0);
  MatrixCM W1, Err1;
  BlockErrorUpdate update;
  for (int64_t i1 = 0; i1 < cols; i1 += B) {
    const int64_t i2 = std::min(i1 + B, cols), count = i2 - i1;
    if (fix_in_sweep)
      for (int64_t col = i1; col < i2; ++col)
        if (col % gs == 0) target.fix(W, col, col / gs);
    W1 = W.middleCols(i1, count);
    Err1.resize(rows, count);
#pragma omp parallel for schedule(static) if (nchunks > 1)
    for (int64_t c = 0; c < nchunks; ++c) {
      const int64_t r0 = c * kRowChunk, n = std::min(kRowChunk, rows - r0);
      double loss = 0;
      float q[kRowChunk];
      for (int64_t i = 0; i < count; ++i) {
        const int64_t col = i1 + i;
        const float d = U(col, col);
        float* w = &W1(r0, i);
        float* e = &Err1(r0, i);
        target.quantize(perm[static_cast<size_t>(col)], w, q, r0, n);
        for (int64_t r = 0; r < n; ++r) {
          loss += static_cast<double>((w[r] - q[r]) * (w[r] - q[r])) / (static_cast<double>(d) * d) / 2.0;
          e[r] = (w[r] - q[r]) / d;
          w[r] = q[r];
        }
        float ec[kRowChunk];
        std::copy(e, e + n, ec);
        for (int64_t k = i + 1; k < count; ++k) {  // w_k −= e · U[col][k], product and difference rounded
          const float u = U(col, i1 + k);
          float* __restrict wk = &W1(r0, k);
          for (int64_t r = 0; r < n; ++r) wk[r] -= ec[r] * u;
        }
      }
      chunk_loss[static_cast<size_t>(c)] += loss;
    }
    W.middleCols(i1, count) = W1;
    if (i2 < cols) update(W, Err1, U, i1, i2);
  }
  return std::accumulate(chunk_loss.begin(), chunk_loss.end(), 0.0);
}

}  // namespace

Expected<void> GptqOptions::validate() const {
  if (format.kind != Format::Kind::Int && !(format.kind == Format::Kind::Ggml && is_ggml_quant_type(format.dtype)))
    return make_error(ErrorCode::InvalidArgument,
                      "GPTQ: format " + format.name() + " is neither in the int family nor a ggml block type");
  if (block_size < 1) return make_error(ErrorCode::InvalidArgument, "GPTQ: block size must be positive");
  if (!(damp > 0 && damp < 1)) return make_error(ErrorCode::InvalidArgument, "GPTQ: damping must be in (0, 1)");
  return {};
}

Expected<double> gptq_next_damp(const std::string& who, double damp, std::vector<std::string>& warnings) {
  if (damp >= 1.0) return make_error(ErrorCode::Format, who + ": the Hessian is not positive definite even with damping 1.0");
  const double next = std::min(1.0, damp * 5);
  warnings.push_back(who + ": Hessian not positive definite with damping " + std::to_string(damp) + "; raised to " +
                     std::to_string(next));
  return next;
}

Expected<GptqResult> gptq_quantize(std::span<const float> w_in, int64_t rows, int64_t cols, std::span<const float> h_in,
                                   const GptqOptions& opt, const std::string& name) {
  LB_TRY_VOID(opt.validate());
  const std::string who = name.empty() ? std::string("GPTQ") : "GPTQ on " + name;
  if (static_cast<int64_t>(w_in.size()) != rows * cols || static_cast<int64_t>(h_in.size()) != cols * cols)
    return make_error(ErrorCode::InvalidArgument, who + ": weight or Hessian size does not match " +
                                                      std::to_string(rows) + " × " + std::to_string(cols));
  const Format& f = opt.format;
  const bool ggml = f.kind == Format::Kind::Ggml;
  if (!f.fits(cols))
    return make_error(ErrorCode::Unsupported,
                      who + ": rows of " + std::to_string(cols) + " columns are not a multiple of " +
                          (ggml ? f.name() + "'s block of " + std::to_string(traits(f.dtype).block_size)
                                : std::string("the group size")));
  const bool grouped = ggml || f.group > 0;
  const bool static_groups = grouped && (opt.static_groups || opt.act_order);

  MatrixCM W = ConstMatrixRMMap(w_in.data(), rows, cols);  // copy into column-major
  MatrixCM H = ConstMatrixRMMap(h_in.data(), cols, cols);
  if (!H.allFinite() || !W.allFinite())
    return make_error(ErrorCode::InvalidArgument, who + ": weights or Hessian contain NaN or Inf");

  GptqResult res;
  std::vector<Index> dead;
  for (Index i = 0; i < cols; ++i)
    if (H(i, i) == 0) {
      H(i, i) = 1;
      W.col(i).setZero();
      dead.push_back(i);
      ++res.dead_columns;
    }

  std::optional<IntTarget> int_target;
  std::optional<GgmlTarget> ggml_target;
  if (ggml) {
    std::vector<float> importance;
    if (opt.weighted_grids)
      for (Index i = 0; i < cols; ++i) importance.push_back(H(i, i));
    ggml_target.emplace(f.dtype, rows, cols, std::move(importance));
  } else {
    int_target.emplace(f, rows, cols, opt.fp16_scales);
  }
  // Grids fixed up front: per row (no groups), or per static group, from the (dead-zeroed) original weights.
  if (!grouped || static_groups) {
    const int64_t gs = ggml ? ggml_target->group() : int_target->group();
    for (int64_t g = 0; g < cols / gs; ++g) {
      if (ggml)
        ggml_target->fix(W, g * gs, g);
      else
        int_target->fix(W, g * gs, g);
    }
  }

  // Act-order: sweep columns by decreasing H[i,i] (stable for ties, as torch.argsort is not guaranteed to be).
  std::vector<Index> perm(static_cast<size_t>(cols));
  std::iota(perm.begin(), perm.end(), 0);
  // H as the sweep sees it (dead columns, act-order permutation), from the caller's Hessian: built
  // once here, and again only if its inverse's factorization failed after H's storage was reused.
  auto permute_h = [&](MatrixCM& h) {
    MatrixCM hp(cols, cols);
    for (Index j = 0; j < cols; ++j)
      for (Index i = 0; i < cols; ++i) hp(i, j) = h(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(j)]);
    h.swap(hp);
  };
  if (opt.act_order) {
    std::stable_sort(perm.begin(), perm.end(), [&](Index a, Index b) { return H(a, a) > H(b, b); });
    MatrixCM Wp(rows, cols);
    for (Index j = 0; j < cols; ++j) Wp.col(j) = W.col(perm[static_cast<size_t>(j)]);
    W.swap(Wp);
    permute_h(H);
  }
  auto rebuild_h = [&] {
    H = ConstMatrixRMMap(h_in.data(), cols, cols);
    for (Index i : dead) H(i, i) = 1;
    if (opt.act_order) permute_h(H);
  };

  using Clock = std::chrono::steady_clock;
  const auto t_factor = Clock::now();
  const double mean_diag = H.diagonal().mean();
  MatrixCM U;
  double damp = opt.damp;
  for (int ok; (ok = inverse_cholesky_upper(H, damp * mean_diag, U)) != 1;) {
    if (ok < 0) rebuild_h();
    LB_TRY_ASSIGN(damp, gptq_next_damp(who, damp, res.warnings));
  }
  res.damp_used = damp;
  H.resize(0, 0);  // its storage held the factorization; nothing reads it now
  const auto t_sweep = Clock::now();
  res.factor_seconds = std::chrono::duration<double>(t_sweep - t_factor).count();

  const bool fix_in_sweep = grouped && !static_groups;
  res.loss = ggml ? sweep(W, U, perm, opt.block_size, fix_in_sweep, *ggml_target)
                  : sweep(W, U, perm, opt.block_size, fix_in_sweep, *int_target);
  if (ggml)
    ggml_target->finish(res);
  else
    int_target->finish(W, perm, res);

  res.sweep_seconds = std::chrono::duration<double>(Clock::now() - t_sweep).count();
  res.dequantized.resize(static_cast<size_t>(rows * cols));
  MatrixRMMap out(res.dequantized.data(), rows, cols);
#pragma omp parallel for schedule(static) if (rows > kRowChunk)
  for (Index j = 0; j < cols; ++j) out.col(perm[static_cast<size_t>(j)]) = W.col(j);
  return res;
}

std::vector<uint8_t> gptq_ggml_fixed_blocks(DType type, std::span<const float> w, int64_t rows, int64_t cols,
                                            std::span<const float> importance) {
  const int64_t bs = traits(type).block_size, nb = cols / bs;
  const auto block_bytes = static_cast<int64_t>(traits(type).block_bytes);
  LB_CHECK(static_cast<int64_t>(w.size()) == rows * cols && cols % bs == 0 &&
               (importance.empty() || static_cast<int64_t>(importance.size()) == cols),
           "gptq_ggml_fixed_blocks: w, cols or the importances do not fit the type's blocks");
  std::vector<uint8_t> out(static_cast<size_t>(rows * nb * block_bytes));
#pragma omp parallel for schedule(static) if (rows * nb > 64)
  for (int64_t i = 0; i < rows * nb; ++i) {
    const int64_t r = i / nb, b = i % nb;
    fix_block(type, w.data() + r * cols + b * bs, out.data() + i * block_bytes,
              importance.empty() ? nullptr : importance.data() + b * bs);
  }
  return out;
}

Expected<GptqFactor> gptq_inverse_factor(std::span<const float> h, int64_t cols, double damp, const std::string& name) {
  const std::string who = name.empty() ? std::string("GPTQ") : "GPTQ on " + name;
  if (static_cast<int64_t>(h.size()) != cols * cols)
    return make_error(ErrorCode::InvalidArgument, who + ": the Hessian is not " + std::to_string(cols) + " × " + std::to_string(cols));
  GptqFactor f;
  MatrixCM H;
  auto build = [&] {
    H = ConstMatrixRMMap(h.data(), cols, cols);
    for (int64_t i : f.dead) H(i, i) = 1;
  };
  build();
  if (!H.allFinite()) return make_error(ErrorCode::InvalidArgument, who + ": the Hessian contains NaN or Inf");
  for (Index i = 0; i < cols; ++i)
    if (H(i, i) == 0) {
      H(i, i) = 1;
      f.dead.push_back(i);
    }
  const double mean_diag = H.diagonal().mean();
  MatrixCM U;
  for (int ok; (ok = inverse_cholesky_upper(H, damp * mean_diag, U)) != 1;) {
    if (ok < 0) build();
    LB_TRY_ASSIGN(damp, gptq_next_damp(who, damp, f.warnings));
  }
  f.damp_used = damp;
  f.u.resize(static_cast<size_t>(cols * cols));
  MatrixRMMap(f.u.data(), cols, cols) = U;
  return f;
}

}  // namespace lowbit
