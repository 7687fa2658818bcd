// Causal softmax attention on the CPU, shared by the forward pass (core/model/forward.cpp) and block
// reconstruction's backward pass (core/recon/block_grad.cpp), so that both attend with the same
// mask and the same operations.
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/config.h"
#include "core/tensor/eigen_types.h"

namespace lowbit {

// The first key position query i attends to: i − window + 1 with a sliding window, else 0.
int64_t attention_window_lo(int64_t window, int64_t i);

// softmax(Q Kᵀ / √hd) V over the keys [attention_window_lo(i), i] for every (window, head) of q, k, v
// ([B·T, heads·hd] and [B·T, kv_heads·hd], grouped-query heads sharing their k and v); writes
// [B·T, heads·hd]. With `lse`, also each row's log-sum-exp of the scaled scores, [B, heads, T].
void causal_attention(const ModelConfig& c, const MatrixRM& q, const MatrixRM& k, const MatrixRM& v, int64_t B, int64_t T,
                      MatrixRM& out, std::vector<float>* lse = nullptr);

}  // namespace lowbit
