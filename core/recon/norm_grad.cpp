#include "core/recon/norm_grad.h"

#include <cmath>

namespace lowbit {

using Index = Eigen::Index;

void norm_forward(NormKind kind, double eps, const MatrixRM& x, const VectorF& w, const VectorF& b, MatrixRM& y, VectorF& rstd,
                  VectorF& mean) {
  const Index n = x.rows();
  y.resize(n, x.cols());
  rstd.resize(n);
  const float inv_cols = 1.0f / static_cast<float>(x.cols());
  if (kind == NormKind::Rms) {
    mean.resize(0);
#pragma omp parallel for schedule(static)
    for (Index i = 0; i < n; ++i) {
      const float ms = x.row(i).squaredNorm() / static_cast<float>(x.cols());
      const float inv = 1.0f / std::sqrt(ms + static_cast<float>(eps));
      rstd[i] = inv;
      y.row(i) = (x.row(i) * inv).cwiseProduct(w.transpose());
    }
    return;
  }
  mean.resize(n);
#pragma omp parallel for schedule(static)
  for (Index i = 0; i < n; ++i) {
    const float mu = x.row(i).sum() * inv_cols;
    const auto centered = (x.row(i).array() - mu).matrix();
    const float var = centered.squaredNorm() * inv_cols;
    const float inv = 1.0f / std::sqrt(var + static_cast<float>(eps));
    rstd[i] = inv;
    mean[i] = mu;
    y.row(i) = (centered * inv).cwiseProduct(w.transpose()) + b.transpose();
  }
}

void norm_backward(NormKind kind, const MatrixRM& x, const VectorF& w, const VectorF& rstd, const VectorF& mean,
                   const MatrixRM& dy, MatrixRM& dx, VectorF* dw, VectorF* db) {
  const Index n = x.rows(), d = x.cols();
  dx.resize(n, d);
  const float inv_d = 1.0f / static_cast<float>(d);
  const bool layer = kind == NormKind::Layer;
#pragma omp parallel
  {
    VectorF dw_local = VectorF::Zero(dw ? d : 0);
    RowVectorF xhat(d), dyw(d);
#pragma omp for schedule(static)
    for (Index i = 0; i < n; ++i) {
      const float r = rstd[i];
      if (layer) xhat = (x.row(i).array() - mean[i]).matrix() * r;
      else xhat = x.row(i) * r;
      if (dw) dw_local += dy.row(i).cwiseProduct(xhat).transpose();
      dyw = dy.row(i).cwiseProduct(w.transpose());
      const float proj = dyw.dot(xhat) * inv_d;
      if (layer) {
        const float mu = dyw.sum() * inv_d;
        dx.row(i) = ((dyw.array() - mu - xhat.array() * proj) * r).matrix();
      } else {
        dx.row(i) = ((dyw.array() - xhat.array() * proj) * r).matrix();
      }
    }
    if (dw) {
#pragma omp critical
      *dw += dw_local;
    }
  }
  if (db) *db += dy.colwise().sum().transpose();
}

}  // namespace lowbit
