// Buffers, transfers and the recorder's bookkeeping on every Vulkan device present: round trips
// through device-local memory, offsets, transfers large enough to be copied in parallel, an allocation that cannot succeed (OutOfMemory naming the
// size), the device-memory limit of DeviceOptions (counted, enforced, given back), an empty buffer.
// Skips with a message where there is no Vulkan device.
#include "gpu/memory/buffer.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "gpu/device/device.h"
#include "gpu/memory/transfer.h"
#include "gpu/pipeline/command_recorder.h"
#include "gpu_test_support.h"

namespace lowbit::gpu {
namespace {

TEST(Buffer, RoundTripThroughDeviceMemory) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  for (auto& d : devices) {
    Device& device = *d;
    std::vector<float> data(1000);
    std::iota(data.begin(), data.end(), -3.5f);
    auto buffer = Buffer::create(device, data.size() * sizeof(float), MemoryUse::Device);
    ASSERT_TRUE(buffer.has_value()) << buffer.error().message;
    ASSERT_TRUE(upload(device, *buffer, std::as_bytes(std::span(data))).has_value());
    std::vector<float> back(data.size(), 0.0f);
    auto done = download(device, *buffer, std::as_writable_bytes(std::span(back)));
    ASSERT_TRUE(done.has_value()) << done.error().message;
    EXPECT_EQ(back, data) << device.info().name;

    // A part of the buffer, at an offset, in one recorder with a barrier between the copies.
    std::vector<float> part = {1.0f, 2.0f, 3.0f};
    std::vector<float> got(5, 0.0f);
    auto rec = CommandRecorder::begin(device);
    ASSERT_TRUE(rec.has_value()) << rec.error().message;
    ASSERT_TRUE(rec->upload(*buffer, std::as_bytes(std::span(part)), 10 * sizeof(float)).has_value());
    rec->barrier();
    ASSERT_TRUE(rec->download(*buffer, std::as_writable_bytes(std::span(got)), 9 * sizeof(float)).has_value());
    ASSERT_TRUE(rec->submit_and_wait().has_value());
    EXPECT_EQ(got, (std::vector<float>{data[9], 1.0f, 2.0f, 3.0f, data[13]}));
  }
}

// From 16 MiB the staging copies are split over threads (4 MiB chunks): an odd size whose last
// chunk is short comes back byte for byte.
TEST(Buffer, LargeTransfersAreCopiedWhole) {
  const size_t n = (size_t{21} << 20) / 4 + 3;  // 21 MiB and 12 bytes
  std::vector<uint32_t> data(n), back(n, 0u);
  std::iota(data.begin(), data.end(), 7u);
  FOR_EACH_DEVICE({
    auto buffer = Buffer::create(device, n * 4, MemoryUse::Device);
    ASSERT_TRUE(buffer.has_value()) << buffer.error().message;
    ASSERT_TRUE(upload(device, *buffer, std::as_bytes(std::span(data))).has_value());
    auto done = download(device, *buffer, std::as_writable_bytes(std::span(back)));
    ASSERT_TRUE(done.has_value()) << done.error().message;
    EXPECT_EQ(back, data);
  });
}

TEST(Buffer, ImpossibleAllocationIsOutOfMemoryNamingTheSize) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  for (auto& d : devices) {
    Device& device = *d;
    const uint64_t huge = uint64_t{1} << 50;  // 1 PiB
    auto buffer = Buffer::create(device, huge, MemoryUse::Device);
    ASSERT_FALSE(buffer.has_value());
    EXPECT_EQ(buffer.error().code, ErrorCode::OutOfMemory);
    EXPECT_NE(buffer.error().message.find(std::to_string(huge)), std::string::npos) << buffer.error().message;
    std::printf("[ %s ] %s\n", device.info().name.c_str(), buffer.error().message.c_str());
  }
}

TEST(Buffer, DeviceMemoryLimitIsCountedAndEnforced) {
  auto list = list_devices();
  if (!list || list->empty()) GTEST_SKIP() << "no Vulkan device here";
  auto opened = Device::create(DeviceOptions{.device_index = 0, .max_device_bytes = 1 << 20});
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  Device& device = **opened;
  EXPECT_EQ(device.max_device_bytes(), 1u << 20);
  EXPECT_EQ(device.device_bytes_in_use(), 0u);
  {
    auto a = Buffer::create(device, 600 << 10, MemoryUse::Device);
    ASSERT_TRUE(a.has_value()) << a.error().message;
    const uint64_t in_use = device.device_bytes_in_use();
    EXPECT_GE(in_use, 600u << 10);
    // Host-visible staging is not device-local memory and does not count.
    auto staging = Buffer::create(device, 2 << 20, MemoryUse::Upload);
    ASSERT_TRUE(staging.has_value()) << staging.error().message;
    EXPECT_EQ(device.device_bytes_in_use(), in_use);
    auto b = Buffer::create(device, 600 << 10, MemoryUse::Device);
    ASSERT_FALSE(b.has_value());
    EXPECT_EQ(b.error().code, ErrorCode::OutOfMemory);
    EXPECT_NE(b.error().message.find("out of device memory"), std::string::npos) << b.error().message;
    EXPECT_NE(b.error().message.find("limit 1048576 bytes"), std::string::npos) << b.error().message;
    EXPECT_EQ(device.device_bytes_in_use(), in_use);
    Buffer moved = std::move(*a);  // the count follows the memory, not the object
    EXPECT_EQ(device.device_bytes_in_use(), in_use);
  }
  EXPECT_EQ(device.device_bytes_in_use(), 0u);
  device.set_max_device_bytes(0);  // no limit
  auto big = Buffer::create(device, 2 << 20, MemoryUse::Device);
  EXPECT_TRUE(big.has_value()) << big.error().message;
}

TEST(Buffer, EmptyBufferIsInvalid) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  for (auto& d : devices) {
    Device& device = *d;
    auto buffer = Buffer::create(device, 0, MemoryUse::Upload);
    ASSERT_FALSE(buffer.has_value());
    EXPECT_EQ(buffer.error().code, ErrorCode::InvalidArgument);
  }
}

TEST(Buffer, HostBuffersAreMapped) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  for (auto& d : devices) {
    Device& device = *d;
    auto buffer = Buffer::create(device, 16, MemoryUse::Readback);
    ASSERT_TRUE(buffer.has_value()) << buffer.error().message;
    const std::vector<std::byte> in(16, std::byte{0x5a});
    buffer->write(in);
    std::vector<std::byte> out(16);
    buffer->read(out);
    EXPECT_EQ(in, out);
  }
}

// Staging buffers given back are reused (the smallest that fits, of the same use), sizes of a MiB and
// more rounded up to whole MiB; past Device::staging_kept_bytes() the oldest go; and transfers
// through a recorder that reuse them move the right bytes.
TEST(Buffer, StagingBuffersAreReused) {
  std::string why;
  auto devices = open_devices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  for (auto& d : devices) {
    Device& device = *d;
    SCOPED_TRACE(device.info().name);
    auto a = device.take_staging(1000, MemoryUse::Upload);
    ASSERT_TRUE(a.has_value()) << a.error().message;
    EXPECT_EQ(a->size(), 1000u);
    const VkBuffer handle = a->handle();
    device.give_back_staging(std::move(*a));
    auto r = device.take_staging(500, MemoryUse::Readback);  // another use: not that one
    ASSERT_TRUE(r.has_value());
    EXPECT_NE(r->handle(), handle);
    auto b = device.take_staging(600, MemoryUse::Upload);  // fits: reused
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->handle(), handle);
    auto c = device.take_staging(1001, MemoryUse::Upload);  // too small (and in use): a new one
    ASSERT_TRUE(c.has_value());
    EXPECT_NE(c->handle(), handle);
    auto big = device.take_staging((uint64_t{1} << 20) + 1, MemoryUse::Upload);
    ASSERT_TRUE(big.has_value());
    EXPECT_EQ(big->size(), uint64_t{2} << 20);
    device.give_back_staging(std::move(*b));
    device.give_back_staging(std::move(*c));
    device.give_back_staging(std::move(*r));
    device.give_back_staging(std::move(*big));
    EXPECT_EQ(device.staging_bytes_kept(), 1000u + 1001u + 500u + (uint64_t{2} << 20));

    // Round trips of several sizes, each recorder taking what the last gave back.
    for (size_t n : {size_t{10}, size_t{300}, size_t{7}, size_t{300000}, size_t{250}}) {
      std::vector<float> data(n), back(n, 0.0f);
      std::iota(data.begin(), data.end(), static_cast<float>(n));
      auto buf = Buffer::create(device, n * sizeof(float), MemoryUse::Device);
      ASSERT_TRUE(buf.has_value());
      ASSERT_TRUE(upload(device, *buf, std::as_bytes(std::span(data))).has_value());
      ASSERT_TRUE(download(device, *buf, std::as_writable_bytes(std::span(back))).has_value());
      EXPECT_EQ(back, data) << n;
    }
    EXPECT_LE(device.staging_bytes_kept(), device.staging_kept_bytes());
  }
}

}  // namespace
}  // namespace lowbit::gpu
