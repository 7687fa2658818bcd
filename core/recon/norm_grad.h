// RMSNorm / LayerNorm forward with saved statistics and their reverse mode, shared by the block
// engine and the output head (core/recon/block_grad.cpp, head_grad.cpp). The forward repeats the
// arithmetic of core/model/forward.cpp so taped and plain forwards agree to rounding.
#pragma once

#include "core/model/config.h"
#include "core/tensor/eigen_types.h"

namespace lowbit {

// y = norm(x) · w (+ b for LayerNorm); rstd[i] = 1/σ of row i, mean[i] its mean (LayerNorm only).
void norm_forward(NormKind kind, double eps, const MatrixRM& x, const VectorF& w, const VectorF& b, MatrixRM& y, VectorF& rstd,
                  VectorF& mean);

// dx = ∂L/∂x for dy = ∂L/∂y (dx is assigned); dw, db (optional) accumulate the parameter gradients.
void norm_backward(NormKind kind, const MatrixRM& x, const VectorF& w, const VectorF& rstd, const VectorF& mean,
                   const MatrixRM& dy, MatrixRM& dx, VectorF* dw, VectorF* db);

}  // namespace lowbit
