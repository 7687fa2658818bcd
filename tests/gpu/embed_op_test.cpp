// The embed op (gpu/ops/embed_op.h) on every Vulkan device present: token rows, and token plus
// learned position rows for several windows (row i at position i mod T), equal bit for bit to the
// CPU's gather and float addition; ids outside the vocabulary and shape errors.
// Skips with a message where there is no Vulkan device.
#include "gpu/ops/embed_op.h"

#include <gtest/gtest.h>

#include "gpu_test_support.h"
#include "op_test_support.h"

namespace lowbit::gpu {
namespace {

TEST(EmbedOp, GathersTokensAndPositions) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  const int64_t vocab = 50, hidden = 24, positions = 16, T = 9, B = 3, rows = B * T;
  const std::vector<float> tok = random_floats(vocab * hidden, 41), pos = random_floats(positions * hidden, 42);
  std::vector<int32_t> ids(rows);
  for (int64_t i = 0; i < rows; ++i) ids[static_cast<size_t>(i)] = static_cast<int32_t>((i * 7 + 3) % vocab);
  ids[0] = 0, ids[1] = static_cast<int32_t>(vocab - 1);
  for (auto& device : devices)
    for (const bool learned : {false, true}) {
      std::vector<float> x(rows * hidden, NAN);
      const EmbedShape shape{rows, hidden, vocab, T, learned ? positions : 0};
      auto r = embed(*device, shape, ids, tok, learned ? std::span<const float>(pos) : std::span<const float>(), x);
      ASSERT_TRUE(r.has_value()) << r.error().message;
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t c = 0; c < hidden; ++c) {
          float want = tok[static_cast<size_t>(ids[static_cast<size_t>(i)] * hidden + c)];
          if (learned) want += pos[static_cast<size_t>((i % T) * hidden + c)];
          ASSERT_EQ(x[static_cast<size_t>(i * hidden + c)], want) << device->info().name << " row " << i;
        }
    }
}

TEST(EmbedOp, Errors) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  Device& device = *devices.front();
  std::vector<float> tok(40), pos(8), x(8);
  std::vector<int32_t> ids = {1, 10};
  auto r = embed(device, {2, 4, 10, 2, 0}, ids, tok, {}, x);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message.find("10"), std::string::npos) << r.error().message;
  ids[1] = -1;
  EXPECT_EQ(embed(device, {2, 4, 10, 2, 0}, ids, tok, {}, x).error().code, ErrorCode::InvalidArgument);
  ids[1] = 2;
  EXPECT_EQ(embed(device, {2, 4, 10, 3, 2}, ids, tok, pos, x).error().code,
            ErrorCode::InvalidArgument);  // T > positions
  EXPECT_TRUE(embed(device, {2, 4, 10, 2, 2}, ids, tok, pos, x).has_value());
}

}  // namespace
}  // namespace lowbit::gpu
