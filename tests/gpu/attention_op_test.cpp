// The attention op (gpu/ops/attention_op.h) against a double-precision causal softmax attention on
// every Vulkan device present: multi-head and grouped-query (heads 4 over 2 and 1 kv heads), several
// windows, T shorter and longer than the 64 keys the shader takes at a time (so the online softmax
// rescales), a sliding window, head_dim 256 (the largest), and shape errors. Tolerance 1e-5
// relative to max |out|. Skips with a message where there is no Vulkan device.
#include "gpu/ops/attention_op.h"

#include <gtest/gtest.h>

#include <cmath>

#include "gpu_test_support.h"
#include "op_test_support.h"

namespace lowbit::gpu {
namespace {

std::vector<double> cpu_attention(const AttentionShape& s, const std::vector<float>& q, const std::vector<float>& k,
                                  const std::vector<float>& v) {
  const int64_t hd = s.head_dim, qw = s.heads * hd, kw = s.kv_heads * hd, group = s.heads / s.kv_heads;
  std::vector<double> out(q.size());
  std::vector<double> p(static_cast<size_t>(s.T));
  for (int64_t b = 0; b < s.windows; ++b)
    for (int64_t h = 0; h < s.heads; ++h)
      for (int64_t i = 0; i < s.T; ++i) {
        const int64_t lo = s.sliding_window > 0 ? std::max<int64_t>(0, i - s.sliding_window + 1) : 0;
        const float* qi = q.data() + (b * s.T + i) * qw + h * hd;
        double mx = -INFINITY, sum = 0;
        for (int64_t j = lo; j <= i; ++j) {
          const float* kj = k.data() + (b * s.T + j) * kw + (h / group) * hd;
          double dot = 0;
          for (int64_t d = 0; d < hd; ++d) dot += static_cast<double>(qi[d]) * kj[d];
          p[static_cast<size_t>(j)] = dot / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, p[static_cast<size_t>(j)]);
        }
        for (int64_t j = lo; j <= i; ++j) sum += p[static_cast<size_t>(j)] = std::exp(p[static_cast<size_t>(j)] - mx);
        for (int64_t d = 0; d < hd; ++d) {
          double acc = 0;
          for (int64_t j = lo; j <= i; ++j)
            acc += p[static_cast<size_t>(j)] * v[static_cast<size_t>((b * s.T + j) * kw + (h / group) * hd + d)];
          out[static_cast<size_t>((b * s.T + i) * qw + h * hd + d)] = acc / sum;
        }
      }
  return out;
}

TEST(AttentionOp, MatchesCpu) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  const AttentionShape shapes[] = {
      {1, 1, 1, 1, 8, 0},    {2, 9, 4, 4, 16, 0},  {2, 70, 4, 2, 16, 0},  {1, 150, 4, 1, 32, 0},
      {2, 70, 2, 1, 16, 20}, {1, 40, 2, 2, 96, 7}, {1, 20, 1, 1, 256, 0},
      // T · head_dim past 65535: lavapipe's loop limit, which a plain loop over d ran into.
      {1, 1200, 1, 1, 64, 0},
  };
  for (auto& device : devices)
    for (const AttentionShape& s : shapes) {
      // Scaled inputs give peaked softmaxes, where a wrong maximum or rescaling shows.
      const auto q = random_floats(s.q_floats(), 11, 2.0f), k = random_floats(s.kv_floats(), 12, 2.0f);
      const auto v = random_floats(s.kv_floats(), 13);
      std::vector<float> out(s.q_floats(), NAN);
      auto r = attention(*device, s, q, k, v, out);
      ASSERT_TRUE(r.has_value()) << r.error().message;
      const double err = max_relative_error<std::vector<double>>(out, cpu_attention(s, q, k, v));
      EXPECT_LE(err, 1e-5) << device->info().name << " B " << s.windows << " T " << s.T << " heads " << s.heads << "/"
                           << s.kv_heads << " head_dim " << s.head_dim << " window " << s.sliding_window;
    }
}

TEST(AttentionOp, Errors) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  Device& device = *devices.front();
  std::vector<float> q(64), k(64), v(64), out(64);
  EXPECT_EQ(attention(device, {1, 4, 3, 2, 8, 0}, q, k, v, out).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(attention(device, {1, 4, 2, 1, 8, 0}, q, k, v, out).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(attention(device, {1, 1, 1, 1, 512, 0}, q, k, v, out).error().code, ErrorCode::Unsupported);
  // On lavapipe a window whose loops would pass its 65535-iteration limit is refused, not computed
  // wrongly (17000 tokens: 1063 chunks of 16 keys, each walking head_dim 64).
  if (device.info().driver.rfind("llvmpipe", 0) == 0) {
    const AttentionShape longest{1, 17000, 1, 1, 64, 0};
    std::vector<float> big(longest.q_floats(), 0.0f), big_out(longest.q_floats());
    auto r = attention(device, longest, big, big, big, big_out);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::Unsupported) << r.error().message;
  }
  EXPECT_TRUE(attention(device, {1, 4, 2, 2, 8, 0}, {q.data(), 64}, {k.data(), 64}, {v.data(), 64}, out).has_value());
}

}  // namespace
}  // namespace lowbit::gpu
