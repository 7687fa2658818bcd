// Rotary position embeddings on the CPU, shared by the forward pass (core/model/forward.cpp) and
// block reconstruction's backward pass (core/recon/block_grad.cpp), so that both rotate with the
// same table and the same operations.
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/config.h"
#include "core/tensor/eigen_types.h"

namespace lowbit {

// cos/sin for positions [0, T) and the rotary_dim / 2 frequencies, computed in fp32 as transformers does.
struct RopeTable {
  int64_t half = 0;
  std::vector<float> cos, sin;  // [T, half]
};

RopeTable rope_table(const ModelConfig& c, int64_t T);

// Rotates the first rotary_dim elements of every head (`heads` of `hd` each) of every row of x, row i
// at position i % T, pairs as `style` takes them; `inverse`: the transposed rotation (the backward of
// a rotation), −sin for sin.
void apply_rope(MatrixRM& x, int64_t heads, int64_t hd, int64_t T, const RopeTable& r, RopeStyle style, bool inverse = false);

}  // namespace lowbit
