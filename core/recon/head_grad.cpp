// The output head's loss for block reconstruction: KL(teacher ‖ student) of the next-token
// distributions, mean over rows, and its gradient with respect to the hidden states entering the
// final norm. Rows go through in chunks so the student logits never exceed chunk × vocab floats.
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "core/recon/block_grad.h"
#include "core/recon/norm_grad.h"
#include "core/util/check.h"

namespace lowbit {

using Index = Eigen::Index;

void head_logits(const ModelWeights& m, const MatrixRM& x, MatrixRM& logits) {
  MatrixRM h;
  VectorF rstd, mean;
  norm_forward(m.config.norm, m.config.norm_eps, x, m.final_norm, m.final_norm_b, h, rstd, mean);
  logits.resize(x.rows(), m.config.vocab);
  logits.noalias() = h * m.output().transpose();
}

double head_kl_loss_and_grad(const ModelWeights& m, const MatrixRM& x, const MatrixRM& teacher_logits, MatrixRM* dx) {
  const ModelConfig& c = m.config;
  const Index n = x.rows(), vocab = c.vocab;
  LB_CHECK(teacher_logits.rows() == n && teacher_logits.cols() == vocab, "head_kl_loss_and_grad: teacher logits are not [N, vocab]");
  const MatrixRM& out = m.output();
  MatrixRM h, dh, logits;
  VectorF rstd, mean;
  norm_forward(c.norm, c.norm_eps, x, m.final_norm, m.final_norm_b, h, rstd, mean);
  if (dx) dh.resize(n, c.hidden);
  const Index chunk = 256;
  double loss = 0;
  const float inv_n = 1.0f / static_cast<float>(n);
  for (Index r0 = 0; r0 < n; r0 += chunk) {
    const Index rows = std::min(chunk, n - r0);
    logits.resize(rows, vocab);
    logits.noalias() = h.middleRows(r0, rows) * out.transpose();
    double chunk_loss = 0;
#pragma omp parallel for schedule(static) reduction(+ : chunk_loss)
    for (Index i = 0; i < rows; ++i) {
      const auto t = teacher_logits.row(r0 + i);
      auto s = logits.row(i);
      const float tmax = t.maxCoeff(), smax = s.maxCoeff();
      double tsum = 0, ssum = 0;
      for (Index j = 0; j < vocab; ++j) {
        tsum += std::exp(static_cast<double>(t[j] - tmax));
        ssum += std::exp(static_cast<double>(s[j] - smax));
      }
      const double tlog = std::log(tsum), slog = std::log(ssum);
      double kl = 0;
      for (Index j = 0; j < vocab; ++j) {
        const double lt = static_cast<double>(t[j] - tmax) - tlog;  // log p_teacher
        const double ls = static_cast<double>(s[j] - smax) - slog;  // log p_student
        const double pt = std::exp(lt);
        kl += pt * (lt - ls);
        s[j] = static_cast<float>(std::exp(ls) - pt) * inv_n;  // ∂L/∂logit
      }
      chunk_loss += kl;
    }
    loss += chunk_loss;
    if (dx) dh.middleRows(r0, rows).noalias() = logits * out;
  }
  if (dx) norm_backward(c.norm, x, m.final_norm, rstd, mean, dh, *dx, nullptr, nullptr);
  return loss / static_cast<double>(n);
}

}  // namespace lowbit
