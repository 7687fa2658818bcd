// Device enumeration and opening on every Vulkan device present (lavapipe in CI): the DeviceInfo of
// `lowbit info --devices`, the ordering DeviceOptions::device_index relies on, option validation, and
// a clean Error (not a crash) when no Vulkan driver can be found. Skips with a message without Vulkan.
#include "gpu/device/device.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <regex>
#include <string>

#include "gpu/device/device_list.h"

namespace lowbit::gpu {
namespace {

int rank(const std::string& type) {
  if (type == "discrete") return 0;
  if (type == "integrated") return 1;
  if (type == "cpu") return 3;
  return 2;
}

// Sets an environment variable for the scope of a test and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(DeviceList, DescribesEveryDeviceInOrder) {
  auto list = list_devices();
  if (!list) GTEST_SKIP() << "no Vulkan device here: " << list.error().message;
  ASSERT_FALSE(list->empty());  // none is an Error, not an empty list
  const std::regex version(R"(\d+\.\d+\.\d+)");
  for (size_t i = 0; i < list->size(); ++i) {
    const DeviceInfo& d = (*list)[i];
    std::printf("[ device %zu ] %s (%s), %.2f GiB device-local, Vulkan %s, driver %s%s\n", i, d.name.c_str(),
                d.type.c_str(), static_cast<double>(d.device_local_bytes) / (1 << 30), d.api_version.c_str(),
                d.driver.c_str(), d.cooperative_matrix ? ", cooperative matrices" : "");
    EXPECT_FALSE(d.name.empty());
    EXPECT_TRUE(d.type == "discrete" || d.type == "integrated" || d.type == "virtual" || d.type == "cpu" ||
                d.type == "other")
        << d.type;
    EXPECT_GT(d.device_local_bytes, 0u);
    EXPECT_TRUE(std::regex_match(d.api_version, version)) << d.api_version;
    EXPECT_FALSE(d.driver.empty());
    // The cooperative-matrix path runs on the NV extension (gpu/ops/matmul_op.h).
    if (d.cooperative_matrix) {
      EXPECT_NE(d.cooperative_matrix_extensions.find("VK_NV_cooperative_matrix"), std::string::npos);
    }
    if (i > 0) {
      EXPECT_LE(rank((*list)[i - 1].type), rank(d.type)) << "devices out of order at " << i;
    }
  }
}

TEST(DeviceList, MissingDriverIsAnErrorNotACrash) {
  // The loader reads these when an instance is created: pointing them at nothing hides every driver.
  ScopedEnv driver_files("VK_DRIVER_FILES", "/nonexistent/lowbit_no_driver.json");
  ScopedEnv icd_filenames("VK_ICD_FILENAMES", "/nonexistent/lowbit_no_driver.json");
  auto list = list_devices();
  ASSERT_FALSE(list.has_value()) << "found " << list->size() << " device(s) with no driver manifest";
  EXPECT_EQ(list.error().code, ErrorCode::Device);
  EXPECT_NE(list.error().message.find("Vulkan"), std::string::npos) << list.error().message;
  std::printf("[ no driver ] %s\n", list.error().message.c_str());
}

TEST(DeviceOptions, Validate) {
  EXPECT_TRUE(DeviceOptions{}.validate().has_value());
  EXPECT_TRUE(DeviceOptions{.device_index = 0}.validate().has_value());
  auto bad = DeviceOptions{.device_index = -2}.validate();
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::InvalidArgument);
  auto device = Device::create(DeviceOptions{.device_index = -2});
  ASSERT_FALSE(device.has_value());
  EXPECT_EQ(device.error().code, ErrorCode::InvalidArgument);
}

TEST(Device, OpensEveryDevice) {
  auto list = list_devices();
  if (!list) GTEST_SKIP() << "no Vulkan device here: " << list.error().message;
  for (size_t i = 0; i < list->size(); ++i) {
    auto device = Device::create(DeviceOptions{.device_index = static_cast<int>(i)});
    if (!device) {
      // A device below Vulkan 1.2 or without compute is refused with a reason, never opened half-way.
      EXPECT_EQ(device.error().code, ErrorCode::Unsupported) << device.error().message;
      continue;
    }
    const Device& d = **device;
    EXPECT_EQ(d.info().name, (*list)[i].name);
    EXPECT_NE(d.handle(), VK_NULL_HANDLE);
    EXPECT_NE(d.queue(), VK_NULL_HANDLE);
    EXPECT_NE(d.command_pool(), VK_NULL_HANDLE);
    EXPECT_NE(d.pipeline_cache(), VK_NULL_HANDLE);
    EXPECT_GT(d.max_allocation_bytes(), 0u);
  }
}

TEST(Device, BestIsTheFirstUsableInListOrder) {
  auto list = list_devices();
  if (!list) GTEST_SKIP() << "no Vulkan device here: " << list.error().message;
  auto best = Device::create();
  ASSERT_TRUE(best.has_value()) << best.error().message;
  for (size_t i = 0; i < list->size(); ++i) {
    if (Device::create(DeviceOptions{.device_index = static_cast<int>(i)}).has_value()) {
      EXPECT_EQ((*best)->info().name, (*list)[i].name);
      break;
    }
  }
}

TEST(Device, ValidationIsOptInAndExplainsWhenMissing) {
  auto list = list_devices();
  if (!list) GTEST_SKIP() << "no Vulkan device here: " << list.error().message;
  auto device = Device::create(DeviceOptions{.validation = true});
  if (!device) {
    EXPECT_EQ(device.error().code, ErrorCode::Unsupported) << device.error().message;
    EXPECT_NE(device.error().message.find("VK_LAYER_KHRONOS_validation"), std::string::npos);
  }
}

TEST(Device, IndexOutOfRangeIsAnError) {
  auto list = list_devices();
  if (!list) GTEST_SKIP() << "no Vulkan device here: " << list.error().message;
  auto device = Device::create(DeviceOptions{.device_index = static_cast<int>(list->size())});
  ASSERT_FALSE(device.has_value());
  EXPECT_EQ(device.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(device.error().message.find("out of range"), std::string::npos) << device.error().message;
}

}  // namespace
}  // namespace lowbit::gpu
