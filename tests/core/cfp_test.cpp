// CBQ's coarse-to-fine outlier fences (core/analysis/cfp.h) on constructed data: the type-7
// quartiles, clear outliers found and ranked, nothing flagged in a Gaussian without tails, a cluster
// of outliers kept together, ties never split, tiny and empty inputs, non-finite values ignored.
#include "core/analysis/cfp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace lowbit {
namespace {

std::vector<float> gaussian(int n, uint64_t seed, float clip) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v;
  while (static_cast<int>(v.size()) < n) {
    const float x = d(rng);
    if (std::fabs(x) <= clip) v.push_back(x);
  }
  return v;
}

TEST(Cfp, QuartilesInterpolateLinearly) {
  // Sorted 1..8: h = 7·0.25 = 1.75 → 2 + 0.75 = 2.75; h = 5.25 → 6.25.
  const std::vector<float> v = {8, 3, 1, 7, 2, 6, 5, 4};
  const CfpResult r = cfp_fences(v);
  EXPECT_DOUBLE_EQ(r.q1, 2.75);
  EXPECT_DOUBLE_EQ(r.q3, 6.25);
  EXPECT_DOUBLE_EQ(r.iqr, 3.5);
  EXPECT_DOUBLE_EQ(r.coarse_threshold, 6.25 + 1.5 * 3.5);
  EXPECT_TRUE(r.outliers.empty());
  EXPECT_DOUBLE_EQ(r.threshold, r.coarse_threshold);
}

TEST(Cfp, FindsClearOutliersLargestFirst) {
  std::vector<float> v = gaussian(1000, 1, 2.5f);
  v[17] = 30.0f;
  v[500] = 45.0f;
  v[900] = 38.0f;
  const CfpResult r = cfp_fences(v);
  ASSERT_EQ(r.outliers.size(), 3u);
  EXPECT_EQ(r.outliers[0], 500);
  EXPECT_EQ(r.outliers[1], 900);
  EXPECT_EQ(r.outliers[2], 17);
  EXPECT_LT(r.threshold, 30.0);
  EXPECT_GE(r.threshold, r.coarse_threshold);
  // The fence is the largest reserved value: nothing of the body lies above it.
  for (size_t i = 0; i < v.size(); ++i)
    if (i != 17 && i != 500 && i != 900) {
      EXPECT_LE(v[i], r.threshold);
    }
}

TEST(Cfp, KeepsACloseClusterOfOutliersTogether) {
  // A Gaussian body with its natural tail and five outliers at 20..24: the split falls between the
  // body and the cluster, not inside the cluster and not inside the body's tail.
  std::vector<float> v = gaussian(2000, 2, 100.0f);
  for (int i = 0; i < 5; ++i) v.push_back(20.0f + static_cast<float>(i));
  const CfpResult r = cfp_fences(v);
  ASSERT_EQ(r.outliers.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.outliers[static_cast<size_t>(i)], 2004 - i);
  EXPECT_LT(r.threshold, 20.0);
}

TEST(Cfp, NoOutliersInAGaussianWithoutTails) {
  const std::vector<float> v = gaussian(5000, 3, 2.0f);
  const CfpResult r = cfp_fences(v);
  EXPECT_TRUE(r.outliers.empty());
  EXPECT_NEAR(r.iqr, 1.2, 0.1);  // ≈ 1.349 × the truncated σ (≈ 0.88)
  EXPECT_GE(r.threshold, *std::max_element(v.begin(), v.end()));
}

TEST(Cfp, NoOutliersInTheNaturalTailOfAGaussian) {
  // Beyond the coarse fence (≈ 2.7σ) a Gaussian sample has a dozen values, but the gaps between them
  // are small next to the spread: the fine step keeps them, except now and then the single largest
  // value when it stands apart (the top spacing of 5000 normals exceeds ≈ 0.5σ about one time in 8).
  int flagged = 0;
  for (uint64_t seed = 10; seed < 20; ++seed) {
    const std::vector<float> v = gaussian(5000, seed, 100.0f);
    const CfpResult r = cfp_fences(v);
    int64_t candidates = 0;
    for (float x : v) candidates += x > r.coarse_threshold;
    EXPECT_GT(candidates, 5) << seed;
    EXPECT_LE(r.outliers.size(), 1u) << "seed " << seed;
    flagged += !r.outliers.empty();
  }
  EXPECT_LE(flagged, 3);
}

TEST(Cfp, ScaleInvariant) {
  std::vector<float> v = gaussian(500, 4, 2.5f);
  v[3] = 12.0f;
  v[4] = 9.0f;
  std::vector<float> w(v);
  for (float& x : w) x *= 1000.0f;
  const CfpResult a = cfp_fences(v), b = cfp_fences(w);
  EXPECT_EQ(a.outliers, b.outliers);
  EXPECT_NEAR(b.threshold, 1000.0 * a.threshold, 1e-3 * std::fabs(b.threshold));
}

TEST(Cfp, TiesAreNeverSplit) {
  std::vector<float> v;
  for (int i = 0; i < 50; ++i) v.push_back(1.0f);
  for (int i = 0; i < 30; ++i) v.push_back(2.0f);
  for (int i = 0; i < 15; ++i) v.push_back(3.0f);
  for (int i = 0; i < 5; ++i) v.push_back(100.0f);
  const CfpResult r = cfp_fences(v);
  ASSERT_EQ(r.outliers.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(r.outliers[i], static_cast<int64_t>(95 + i));  // equal: by index
  EXPECT_DOUBLE_EQ(r.threshold, r.coarse_threshold);
}

TEST(Cfp, ZeroIqrStillFindsASpike) {
  std::vector<float> v(99, 0.0f);
  v.push_back(5.0f);
  const CfpResult r = cfp_fences(v);
  EXPECT_EQ(r.iqr, 0.0);
  ASSERT_EQ(r.outliers.size(), 1u);
  EXPECT_EQ(r.outliers[0], 99);
  EXPECT_DOUBLE_EQ(r.threshold, 0.0);

  const std::vector<float> flat(10, 3.0f);
  const CfpResult f = cfp_fences(flat);
  EXPECT_TRUE(f.outliers.empty());
  EXPECT_DOUBLE_EQ(f.threshold, 3.0);
}

TEST(Cfp, TinyAndEmptyInputs) {
  const CfpResult e = cfp_fences(std::span<const float>{});
  EXPECT_TRUE(e.outliers.empty());
  EXPECT_EQ(e.threshold, 0.0);

  const std::vector<float> one = {7.0f};
  const CfpResult r1 = cfp_fences(one);
  EXPECT_DOUBLE_EQ(r1.q1, 7.0);
  EXPECT_DOUBLE_EQ(r1.q3, 7.0);
  EXPECT_TRUE(r1.outliers.empty());

  const std::vector<float> two = {0.0f, 10.0f};
  const CfpResult r2 = cfp_fences(two);
  EXPECT_DOUBLE_EQ(r2.q1, 2.5);
  EXPECT_DOUBLE_EQ(r2.q3, 7.5);
  EXPECT_TRUE(r2.outliers.empty());
}

TEST(Cfp, NonFiniteValuesAreIgnored) {
  std::vector<float> v = gaussian(200, 5, 2.0f);
  v.push_back(std::numeric_limits<float>::quiet_NaN());
  v.push_back(std::numeric_limits<float>::infinity());
  v.push_back(25.0f);
  const CfpResult r = cfp_fences(v);
  ASSERT_EQ(r.outliers.size(), 1u);
  EXPECT_EQ(r.outliers[0], 202);
  EXPECT_TRUE(std::isfinite(r.threshold));
}

TEST(Cfp, OptionsValidate) {
  EXPECT_TRUE(CfpOptions{}.validate().has_value());
  EXPECT_FALSE((CfpOptions{-1.0, 1.0}).validate().has_value());
  EXPECT_FALSE((CfpOptions{1.5, std::nan("")}).validate().has_value());
  // A very large λ₁ leaves no candidates.
  std::vector<float> v = gaussian(100, 6, 2.0f);
  v.push_back(20.0f);
  EXPECT_TRUE(cfp_fences(v, CfpOptions{100.0, 1.0}).outliers.empty());
  EXPECT_EQ(cfp_fences(v).outliers.size(), 1u);
}

}  // namespace
}  // namespace lowbit
