// Adam (Kingma & Ba) over one flat span of parameters: the optimizer of block reconstruction (CBQ's
// rounding offsets and step sizes, OneBit's value vectors). Each Adam owns the moment estimates of
// the span it is stepped with, so a caller keeps one Adam per parameter tensor; the first step
// sizes the moments, later steps must pass spans of the same length. Hyper-parameters are plain
// fields (the learning rate may be changed between steps for a schedule); bias correction is
// always applied.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace lowbit {

struct Adam {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  int64_t t = 0;  // steps taken
  std::vector<float> m, v;

  Adam() = default;
  explicit Adam(float learning_rate) : lr(learning_rate) {}

  // params -= lr · m̂ / (√v̂ + eps), with the moments updated from grads first.
  void step(std::span<float> params, std::span<const float> grads);
  void reset() {
    t = 0;
    m.clear();
    v.clear();
  }
};

}  // namespace lowbit
