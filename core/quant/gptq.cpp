#include "core/quant/gptq.h"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/tensor/eigen_types.h"

namespace lowbit {
namespace {

using Index = Eigen::Index;
using MatrixCM = Eigen::MatrixXf;  // column-major: the sweep reads and updates whole columns

// Upper Cholesky factor U of (H + λI)⁻¹ (so (H + λI)⁻¹ = Uᵀ U), or false when H + λI is not
// positive definite in float arithmetic.
bool inverse_cholesky_upper(const MatrixCM& h, double lambda, MatrixCM& u) {
  MatrixCM hd = h;
  hd.diagonal().array() += static_cast<float>(lambda);
  Eigen::LLT<MatrixCM> llt(hd);
  if (llt.info() != Eigen::Success) return false;
  MatrixCM inv = MatrixCM::Identity(h.rows(), h.cols());
  llt.solveInPlace(inv);
  inv = (inv + inv.transpose()) * 0.5f;
  Eigen::LLT<MatrixCM> llt2(inv);
  if (llt2.info() != Eigen::Success) return false;
  u = llt2.matrixU();
  return u.diagonal().allFinite() && (u.diagonal().array() > 0).all();
}

}  // namespace

Expected<void> GptqOptions::validate() const {
  if (format.kind != Format::Kind::Int)
    return make_error(ErrorCode::InvalidArgument, "GPTQ: format " + format.name() + " is not in the int family");
  if (block_size < 1) return make_error(ErrorCode::InvalidArgument, "GPTQ: block size must be positive");
  if (!(damp > 0 && damp < 1)) return make_error(ErrorCode::InvalidArgument, "GPTQ: damping must be in (0, 1)");
  return {};
}

Expected<GptqResult> gptq_quantize(std::span<const float> w_in, int64_t rows, int64_t cols, std::span<const float> h_in,
                                   const GptqOptions& opt, const std::string& name) {
  LB_TRY_VOID(opt.validate());
  const std::string who = name.empty() ? std::string("GPTQ") : "GPTQ on " + name;
  if (static_cast<int64_t>(w_in.size()) != rows * cols || static_cast<int64_t>(h_in.size()) != cols * cols)
    return make_error(ErrorCode::InvalidArgument, who + ": weight or Hessian size does not match " + std::to_string(rows) + " × " +
                                                      std::to_string(cols));
  if (!opt.format.fits(cols))
    return make_error(ErrorCode::InvalidArgument, who + ": " + std::to_string(cols) + " columns are not a multiple of the group size");
  const Format& f = opt.format;
  const int maxq = max_code(f.bits);
  const int64_t gs = f.group_size(cols);
  const bool grouped = f.group > 0;
  const bool static_groups = grouped && (opt.static_groups || opt.act_order);

  MatrixCM W = ConstMatrixRMMap(w_in.data(), rows, cols);  // copy into column-major
  MatrixCM H = ConstMatrixRMMap(h_in.data(), cols, cols);
  if (!H.allFinite() || !W.allFinite()) return make_error(ErrorCode::InvalidArgument, who + ": weights or Hessian contain NaN or Inf");

  GptqResult res;
  for (Index i = 0; i < cols; ++i)
    if (H(i, i) == 0) {
      H(i, i) = 1;
      W.col(i).setZero();
      ++res.dead_columns;
    }

  // Grids fixed up front: per row (no groups), or per static group, from the (dead-zeroed) original weights.
  const int64_t ngroups = cols / gs;
  std::vector<IntGrid> grids(static_cast<size_t>(rows * ngroups));
  auto grid_from = [&](const MatrixCM& src, Index col0, int64_t g) {
    std::vector<float> tmp(static_cast<size_t>(gs));
    for (Index r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < gs; ++j) tmp[static_cast<size_t>(j)] = src(r, col0 + j);
      grids[static_cast<size_t>(r * ngroups + g)] = minmax_grid(tmp.data(), gs, f.bits, f.symmetric);
    }
  };
  if (!grouped || static_groups)
    for (int64_t g = 0; g < ngroups; ++g) grid_from(W, g * gs, g);

  // Act-order: sweep columns by decreasing H[i,i] (stable for ties, as torch.argsort is not guaranteed to be).
  std::vector<Index> perm(static_cast<size_t>(cols));
  std::iota(perm.begin(), perm.end(), 0);
  if (opt.act_order) {
    std::stable_sort(perm.begin(), perm.end(), [&](Index a, Index b) { return H(a, a) > H(b, b); });
    MatrixCM Wp(rows, cols), Hp(cols, cols);
    for (Index j = 0; j < cols; ++j) Wp.col(j) = W.col(perm[static_cast<size_t>(j)]);
    for (Index j = 0; j < cols; ++j)
      for (Index i = 0; i < cols; ++i) Hp(i, j) = H(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(j)]);
    W.swap(Wp);
    H.swap(Hp);
  }

  const double mean_diag = H.diagonal().mean();
  MatrixCM U;
  double damp = opt.damp;
  while (!inverse_cholesky_upper(H, damp * mean_diag, U)) {
    if (damp >= 1.0) return make_error(ErrorCode::Format, who + ": the Hessian is not positive definite even with damping 1.0");
    const double next = std::min(1.0, damp * 5);
    res.warnings.push_back(who + ": Hessian not positive definite with damping " + std::to_string(damp) + "; raised to " +
                           std::to_string(next));
    damp = next;
  }
  res.damp_used = damp;

  MatrixCM Q(rows, cols);
  const int64_t B = opt.block_size;
  MatrixCM W1, Err1;
  for (int64_t i1 = 0; i1 < cols; i1 += B) {
    const int64_t i2 = std::min(i1 + B, cols), count = i2 - i1;
    W1 = W.middleCols(i1, count);
    Err1.resize(rows, count);
    for (int64_t i = 0; i < count; ++i) {
      const int64_t col = i1 + i;
      if (grouped && !static_groups && col % gs == 0) grid_from(W, col, col / gs);  // W as of this block's start
      const int64_t orig_col = perm[static_cast<size_t>(col)];
      const int64_t g = orig_col / gs;
      const float d = U(col, col);
      for (Index r = 0; r < rows; ++r) {
        const IntGrid& grid = grids[static_cast<size_t>(r * ngroups + g)];
        const float wv = W1(r, i);
        const float q = dequantize_code(quantize_code(wv, grid, maxq), grid);
        Q(r, col) = q;
        res.loss += static_cast<double>((wv - q) * (wv - q)) / (static_cast<double>(d) * d) / 2.0;
        Err1(r, i) = (wv - q) / d;
      }
      if (i + 1 < count)
        W1.rightCols(count - i - 1).noalias() -= Err1.col(i) * U.row(col).segment(col + 1, count - i - 1);
    }
    if (i2 < cols) W.rightCols(cols - i2).noalias() -= Err1 * U.block(i1, i2, count, cols - i2);
  }

  // Codes in the original column order, on the grids they were quantized with.
  IntTensor& t = res.tensor;
  t.format = f;
  t.rows = rows;
  t.cols = cols;
  t.codes.resize(static_cast<size_t>(rows * cols));
  t.grids = std::move(grids);
  for (Index j = 0; j < cols; ++j) {
    const Index orig = perm[static_cast<size_t>(j)];
    for (Index r = 0; r < rows; ++r) {
      const IntGrid& grid = t.grids[static_cast<size_t>(r * ngroups + orig / gs)];
      t.codes[static_cast<size_t>(r * cols + orig)] = static_cast<uint8_t>(quantize_code(Q(r, j), grid, maxq));
    }
  }
  return res;
}

}  // namespace lowbit
