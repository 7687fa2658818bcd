// Buffer: one VkBuffer with its own VkDeviceMemory, in one of three memory uses: Device (device-local,
// what shaders read and write), Upload (host-visible, coherent, mapped: staging towards the device)
// and Readback (host-visible, coherent, cached where possible, mapped: staging back to the host).
// Every buffer can be a storage buffer and a transfer source or destination. An allocation that
// cannot succeed is ErrorCode::OutOfMemory, naming the size asked and the memory it was asked of;
// so is a device-local buffer that would take the device past DeviceOptions::max_device_bytes.
// Device-local buffers are counted in Device::device_bytes_in_use() while they live.
// BufferRange names the part of a buffer a dispatch binds. A Buffer must die before its Device.
#pragma once

#include <vulkan/vulkan.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/util/expected.h"

namespace lowbit::gpu {

class Device;

enum class MemoryUse { Device, Upload, Readback };

class Buffer {
 public:
  static Expected<Buffer> create(Device& device, uint64_t bytes, MemoryUse use);

  Buffer() = default;
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();

  VkBuffer handle() const { return buffer_; }
  uint64_t size() const { return size_; }
  MemoryUse use() const { return use_; }

  // Host access, for Upload and Readback buffers only (coherent memory: no flush or invalidate).
  void write(std::span<const std::byte> src, uint64_t offset = 0);
  void read(std::span<std::byte> dst, uint64_t offset = 0) const;

 private:
  void release();

  Device* owner_ = nullptr;  // for the device-local byte count
  uint64_t counted_bytes_ = 0;
  VkDevice device_ = VK_NULL_HANDLE;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  std::byte* mapped_ = nullptr;
  uint64_t size_ = 0;
  MemoryUse use_ = MemoryUse::Device;
};

// A byte range of a buffer as bound to a shader; the whole buffer by default.
struct BufferRange {
  BufferRange(const Buffer& b) : buffer(&b), size(b.size()) {}  // NOLINT: implicit by design
  BufferRange(const Buffer& b, uint64_t offset_, uint64_t size_) : buffer(&b), offset(offset_), size(size_) {}
  const Buffer* buffer;
  uint64_t offset = 0;
  uint64_t size;
};

}  // namespace lowbit::gpu
