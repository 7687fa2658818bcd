// The weight-Hessian view (METHODS.md §7): for the four linear inputs of chosen blocks, the input
// Hessian H = 2/n Σ x xᵀ at full precision ("fp") and "at b bits" ("b2", "b3", …): collected from
// the calibration windows run through a model whose blocks before the layer's block are RTN-quantized
// to an int-family format (default int{b}g64a: the 2-bit grid of GreenBitAI's mixes and of the
// README's tables; group and symmetry are options). The layer's own block stays fp32, so block 0's
// Hessians at b bits equal the fp ones. Each Hessian is summarized by its diagonal, its eigenvalues
// (Eigen's SelfAdjointEigenSolver in double, stored descending) and two numbers for the intra-layer
// dependency:
//   offdiag_mass   = Σ_{i≠j} |H_ij| / Σ_{i,j} |H_ij|  (share of |H| off the diagonal, in [0, 1));
//   mean_abs_corr  = mean over i≠j of |H_ij| / sqrt(H_ii H_jj)  (the same with every channel's scale
//                    divided out, so that a few loud channels do not decide it; zero-diagonal
//                    channels are left out);
// and the participation ratio (Σλ)² / Σλ² as an effective rank.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/calib/analyze.h"
#include "core/quant/format.h"

namespace lowbit {

struct HessianSummary {
  int64_t block = 0;
  LinearInput input = LinearInput::kQkv;
  std::string level;  // "fp" or "b<bits>"
  int64_t channels = 0;
  int64_t tokens = 0;
  double trace = 0;
  double offdiag_mass = 0;
  double mean_abs_corr = 0;
  double eig_min = 0, eig_max = 0;
  double effective_rank = 0;
};

// A Hessian with its diagonal and spectrum.
struct HessianArrays {
  MatrixRM h;          // [c, c]
  VectorF diag;        // [c]
  VectorF eigenvalues; // [c], descending
  HessianSummary summary;
};

double hessian_offdiag_mass(const MatrixRM& h);
double hessian_mean_abs_corr(const MatrixRM& h);
// `h` from InputStats::hessian() (or a calibration folder) over `tokens` tokens.
HessianArrays analyze_hessian(MatrixRM h, int64_t tokens, int64_t block, LinearInput input, const std::string& level);

// "fp" or "b<bits>".
std::string hessian_level_name(int bits);  // bits <= 0: "fp"

// The blocks the view covers by default: all of them when the Hessians of one level fit in 32 Mi
// floats (128 MiB), else the first two, the middle and the last block.
std::vector<int64_t> default_hessian_blocks(const ModelConfig& c);

// collect_block_stats on a model whose blocks before b are RTN-quantized to `format` (nullptr: none,
// the fp walk) when block b's statistics reach `sink`. Quantizes one block at a time in place and
// restores it once the windows are past it, so `m` is unchanged on return (on errors too) and only
// one block's fp32 weights are held on the side. `hooks`: the walk's (its walker: where it runs).
Expected<void> collect_quantized_prefix_stats(ModelWeights& m, std::span<const int32_t> windows, int64_t ctx,
                                              const Format* format, const BlockStatsSink& sink,
                                              Progress* progress = nullptr, const CancelToken* cancel = nullptr,
                                              const BlockHooks& hooks = {});

}  // namespace lowbit
