#include "core/recon/adam.h"

#include <cmath>

#include "core/util/check.h"

namespace lowbit {

void Adam::step(std::span<float> params, std::span<const float> grads) {
  LB_CHECK(params.size() == grads.size(), "Adam::step: parameter and gradient spans differ in length");
  if (m.empty()) {
    m.assign(params.size(), 0.0f);
    v.assign(params.size(), 0.0f);
  }
  LB_CHECK(m.size() == params.size(), "Adam::step: the span changed length between steps");
  ++t;
  const double c1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(t));
  const double c2 = 1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(t));
  const float step = static_cast<float>(static_cast<double>(lr) / c1);
  const float inv_c2 = static_cast<float>(1.0 / c2);
  const size_t n = params.size();
  for (size_t i = 0; i < n; ++i) {
    const float g = grads[i];
    m[i] = beta1 * m[i] + (1.0f - beta1) * g;
    v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
    params[i] -= step * m[i] / (std::sqrt(v[i] * inv_c2) + eps);
  }
}

}  // namespace lowbit
