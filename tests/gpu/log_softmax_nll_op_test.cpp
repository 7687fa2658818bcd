// The log_softmax_nll op (gpu/ops/log_softmax_nll_op.h) against core's token_nll (double) on every
// Vulkan device present: vocabularies smaller and larger than the workgroup (256) up to 50,000,
// logits spread wide (a peaked softmax) and offset far from zero, rows without a target (0), the
// chunked form that writes a slice of a larger batch, and errors. Tolerance: 2e-6 absolute plus
// 1e-6 relative on each NLL. Skips with a message where there is no Vulkan device.
#include "gpu/ops/log_softmax_nll_op.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/eval/forward_backend.h"
#include "gpu_test_support.h"
#include "op_test_support.h"

namespace lowbit::gpu {
namespace {

TEST(LogSoftmaxNllOp, MatchesTokenNll) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  struct Case {
    int64_t rows, vocab;
    float scale, offset;
  };
  for (auto& device : devices)
    for (const Case c : {Case{3, 1, 1, 0}, Case{7, 100, 1, 0}, Case{9, 4096, 4, 30}, Case{4, 50000, 8, -20}}) {
      std::vector<float> logits = random_floats(static_cast<size_t>(c.rows * c.vocab), 51, c.scale);
      for (float& l : logits) l += c.offset;
      std::vector<int32_t> targets(static_cast<size_t>(c.rows));
      for (int64_t r = 0; r < c.rows; ++r) targets[static_cast<size_t>(r)] = static_cast<int32_t>((r * 977) % c.vocab);
      targets.back() = -1;
      std::vector<float> nll(static_cast<size_t>(c.rows), NAN);
      auto ok = log_softmax_nll(*device, c.rows, c.vocab, logits, targets, nll);
      ASSERT_TRUE(ok.has_value()) << ok.error().message;
      for (int64_t r = 0; r < c.rows; ++r) {
        const int32_t t = targets[static_cast<size_t>(r)];
        const double want =
            t < 0 ? 0.0
                  : token_nll(std::span<const float>(logits).subspan(static_cast<size_t>(r * c.vocab), c.vocab), t);
        EXPECT_NEAR(nll[static_cast<size_t>(r)], want, 2e-6 + 1e-6 * std::abs(want))
            << device->info().name << " vocab " << c.vocab << " row " << r;
      }
    }
}

TEST(LogSoftmaxNllOp, ChunkWritesItsSlice) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  const int64_t rows = 6, vocab = 300, first = 4;
  Device& device = *devices.front();
  const std::vector<float> logits = random_floats(rows * vocab, 52);
  std::vector<int32_t> targets(first + rows, -1);
  for (int64_t r = 0; r < rows; ++r) targets[static_cast<size_t>(first + r)] = static_cast<int32_t>(r * 41);
  auto lb = Buffer::create(device, logits.size() * 4, MemoryUse::Device);
  auto tb = Buffer::create(device, targets.size() * 4, MemoryUse::Device);
  auto nb = Buffer::create(device, targets.size() * 4, MemoryUse::Device);
  ASSERT_TRUE(lb && tb && nb);
  std::vector<float> nll(targets.size(), -7.0f), sentinel(first, -7.0f);
  auto rec = CommandRecorder::begin(device);
  ASSERT_TRUE(rec.has_value());
  ASSERT_TRUE(rec->upload(*lb, std::as_bytes(std::span<const float>(logits))).has_value());
  ASSERT_TRUE(rec->upload(*tb, std::as_bytes(std::span<const int32_t>(targets))).has_value());
  ASSERT_TRUE(rec->upload(*nb, std::as_bytes(std::span<const float>(sentinel))).has_value());
  rec->barrier();
  ASSERT_TRUE(record_log_softmax_nll(*rec, {rows, vocab, first}, *lb, *tb, *nb).has_value());
  rec->barrier();
  ASSERT_TRUE(rec->download(*nb, std::as_writable_bytes(std::span<float>(nll))).has_value());
  ASSERT_TRUE(rec->submit_and_wait().has_value());
  for (int64_t i = 0; i < first; ++i) EXPECT_EQ(nll[static_cast<size_t>(i)], -7.0f) << "row before the slice";
  for (int64_t r = 0; r < rows; ++r) {
    const double want = token_nll(std::span<const float>(logits).subspan(static_cast<size_t>(r * vocab), vocab),
                                  targets[static_cast<size_t>(first + r)]);
    EXPECT_NEAR(nll[static_cast<size_t>(first + r)], want, 2e-6 + 1e-6 * want);
  }
}

TEST(LogSoftmaxNllOp, Errors) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  std::vector<float> logits(20), nll(2);
  std::vector<int32_t> targets = {1, 10};
  EXPECT_EQ(log_softmax_nll(*devices.front(), 2, 10, logits, targets, nll).error().code, ErrorCode::InvalidArgument);
  targets[1] = 9;
  EXPECT_EQ(log_softmax_nll(*devices.front(), 2, 11, logits, targets, nll).error().code, ErrorCode::InvalidArgument);
  EXPECT_TRUE(log_softmax_nll(*devices.front(), 2, 10, logits, targets, nll).has_value());
}

}  // namespace
}  // namespace lowbit::gpu
