// CBQ's coarse-to-fine outlier fences (METHODS.md §4, "CFP"), one-sided: it finds the values that lie
// far above the rest of a sample. Callers pass magnitudes (|w| of a weight channel, max |x| per
// activation channel) when both signs matter. Pure function of its input; no state, no threads.
//
// Coarse: Q1 and Q3 by linear interpolation between order statistics (Hyndman–Fan type 7, numpy's
// default): with the finite values sorted x_0 ≤ … ≤ x_{n-1}, q(p) = x_⌊h⌋ + (h − ⌊h⌋)(x_⌊h⌋+1 − x_⌊h⌋),
// h = (n − 1)·p. IQR = Q3 − Q1; candidates are the values above T = Q3 + λ₁·IQR.
//
// Fine: S = the values ≥ Q3 in ascending order (the inliers' upper part followed by the candidates).
// A split k cuts S into a reserved set L = S[0, k) and an outlier set U = S[k, m), where U holds only
// candidates (S[k] > T) and ties never straddle the cut (S[k−1] < S[k]). Each split is scored in
// units of s = IQR (or, when IQR = 0, s = max(S) − Q3), so the score does not depend on the data's
// scale:
//     J(k) = (min(U) − max(L)) / s − λ₂ · (σ(L) + σ(U)) / s,
// the distance between the two sets (the gap at the cut) minus λ₂ times their within-set spread, with
// σ the population standard deviation (0 for one value). The split with the largest J is taken when
// J > 0 (ties of J: the higher split, i.e. fewer outliers); otherwise there are no outliers.
// Why not METHODS.md's literal wording (distance of the means, variances): a difference of means
// grows as U shrinks to the single largest value, and a variance grows with the square of the
// outliers' own spread, so three clear outliers at 30, 38 and 45 over a body in [−2.5, 2.5] would
// come out as one; the gap and standard deviations are both lengths and keep such a group together,
// while the natural tail of a Gaussian, whose gaps are small next to its spread, is seldom flagged
// (at most its largest value, in 2 of 10 samples of 5000 in tests/core/cfp_test.cpp).
// `threshold` = max(T, max(L)) — every value above it is an outlier, none at or below it is — so
// weight truncation clips to the largest reserved value.
// Non-finite values (NaN, ±inf) are ignored: never counted in the quartiles, never outliers.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/util/expected.h"

namespace lowbit {

struct CfpOptions {
  double lambda1 = 1.5;  // coarse fence: T = Q3 + λ₁·IQR (Tukey's 1.5)
  double lambda2 = 1.0;  // weight of the within-set spread against the between-set distance
  Expected<void> validate() const;
};

struct CfpResult {
  double q1 = 0, q3 = 0, iqr = 0;
  double coarse_threshold = 0;    // T = Q3 + λ₁·IQR
  double threshold = 0;           // the fine fence: outliers are exactly the values above it
  std::vector<int64_t> outliers;  // indices into the input, largest value first (ties: lower index first)
};

// Empty input (or no finite value) gives zeros and no outliers.
CfpResult cfp_fences(std::span<const float> values, const CfpOptions& o = {});

}  // namespace lowbit
