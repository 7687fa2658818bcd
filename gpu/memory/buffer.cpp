#include "gpu/memory/buffer.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "gpu/device/device.h"
#include "gpu/device/vk_check.h"

namespace lowbit::gpu {
namespace {

const char* use_name(MemoryUse use) {
  switch (use) {
    case MemoryUse::Device:
      return "device-local";
    case MemoryUse::Upload:
      return "host-visible upload";
    case MemoryUse::Readback:
      return "host-visible readback";
  }
  return "?";
}

// memcpy, split over OpenMP's threads from 16 MiB on: one thread copies a few GB/s, well below what
// the host's memory and the mapped staging memory take, and GPTQ's uploads reach 0.5 GB per layer
// (an 11008² Hessian).
void copy_bytes(std::byte* dst, const std::byte* src, size_t n) {
  constexpr size_t kParallelFrom = size_t{16} << 20, kChunk = size_t{4} << 20;
  if (n < kParallelFrom) {
    std::memcpy(dst, src, n);
    return;
  }
  const auto chunks = static_cast<int64_t>((n + kChunk - 1) / kChunk);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const size_t at = static_cast<size_t>(c) * kChunk;
    std::memcpy(dst + at, src + at, std::min(kChunk, n - at));
  }
}

std::string describe_bytes(uint64_t bytes) {
  char text[64];
  const bool gib = bytes >= (1ull << 30);
  std::snprintf(text, sizeof(text), "%llu bytes (%.2f %s)", static_cast<unsigned long long>(bytes),
                static_cast<double>(bytes) / (gib ? (1ull << 30) : (1ull << 20)), gib ? "GiB" : "MiB");
  return text;
}

// The memory type for `use` among `type_bits`: required flags first, then the preferred ones, then the
// fewest avoided ones (upload staging stays out of the small device-local, host-visible BAR heap).
int pick_memory_type(const VkPhysicalDeviceMemoryProperties& memory, uint32_t type_bits, MemoryUse use) {
  VkMemoryPropertyFlags required = 0, preferred = 0, avoided = 0;
  switch (use) {
    case MemoryUse::Device:
      required = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
      break;
    case MemoryUse::Upload:
      required = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
      avoided = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
      break;
    case MemoryUse::Readback:
      required = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
      preferred = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
      avoided = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
      break;
  }
  int best = -1, best_score = -1;
  for (uint32_t i = 0; i < memory.memoryTypeCount; ++i) {
    const VkMemoryPropertyFlags flags = memory.memoryTypes[i].propertyFlags;
    if (!(type_bits & (1u << i)) || (flags & required) != required) continue;
    const int score = ((flags & preferred) == preferred ? 2 : 0) + ((flags & avoided) ? 0 : 1);
    if (score > best_score) best = static_cast<int>(i), best_score = score;
  }
  return best;
}

}  // namespace

Expected<Buffer> Buffer::create(Device& device, uint64_t bytes, MemoryUse use) {
  const std::string what = describe_bytes(bytes) + " of " + use_name(use) + " memory on " + device.info().name;
  if (bytes == 0) return make_error(ErrorCode::InvalidArgument, "cannot create an empty buffer (" + what + ")");
  if (bytes > device.max_allocation_bytes())
    return make_error(ErrorCode::OutOfMemory, "cannot allocate " + what + ": one allocation is limited to " +
                                                  describe_bytes(device.max_allocation_bytes()));

  Buffer b;
  b.device_ = device.handle();
  b.size_ = bytes;
  b.use_ = use;
  VkBufferCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  info.size = bytes;
  info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  LB_VK_TRY(vkCreateBuffer(b.device_, &info, nullptr, &b.buffer_));

  VkMemoryRequirements req{};
  vkGetBufferMemoryRequirements(b.device_, b.buffer_, &req);
  const int type = pick_memory_type(device.memory_properties(), req.memoryTypeBits, use);
  if (type < 0) return make_error(ErrorCode::Unsupported, "no memory type fits " + what);
  const VkMemoryHeap& heap =
      device.memory_properties().memoryHeaps[device.memory_properties().memoryTypes[type].heapIndex];
  if (req.size > heap.size)
    return make_error(ErrorCode::OutOfMemory, "cannot allocate " + what + ": larger than the whole memory heap (" +
                                                  describe_bytes(heap.size) + ")");
  if (use == MemoryUse::Device && device.max_device_bytes_ > 0 &&
      req.size > device.max_device_bytes_ - std::min(device.max_device_bytes_, device.device_bytes_in_use_))
    return make_error(ErrorCode::OutOfMemory,
                      "out of device memory on " + device.info().name + ": needed " + describe_bytes(req.size) +
                          " more with " + describe_bytes(device.device_bytes_in_use_) + " in use, limit " +
                          describe_bytes(device.max_device_bytes_) + " (--max-device-mb)");

  VkMemoryAllocateInfo alloc{};
  alloc.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  alloc.allocationSize = req.size;
  alloc.memoryTypeIndex = static_cast<uint32_t>(type);
  const VkResult result = vkAllocateMemory(b.device_, &alloc, nullptr, &b.memory_);
  if (result != VK_SUCCESS) {
    b.memory_ = VK_NULL_HANDLE;
    const auto error = vk_error(result, "vkAllocateMemory").error;
    return make_error(error.code, "cannot allocate " + what + ": " + error.message);
  }
  if (use == MemoryUse::Device) {
    b.owner_ = &device;
    b.counted_bytes_ = req.size;
    device.device_bytes_in_use_ += req.size;
  }
  LB_VK_TRY(vkBindBufferMemory(b.device_, b.buffer_, b.memory_, 0));
  if (use != MemoryUse::Device) {
    void* mapped = nullptr;
    LB_VK_TRY(vkMapMemory(b.device_, b.memory_, 0, VK_WHOLE_SIZE, 0, &mapped));
    b.mapped_ = static_cast<std::byte*>(mapped);
  }
  return b;
}

void Buffer::write(std::span<const std::byte> src, uint64_t offset) {
  LB_CHECK(mapped_, "Buffer::write on a buffer the host cannot see");
  LB_CHECK(offset <= size_ && src.size() <= size_ - offset, "Buffer::write past the end of the buffer");
  if (!src.empty()) copy_bytes(mapped_ + offset, src.data(), src.size());
}

void Buffer::read(std::span<std::byte> dst, uint64_t offset) const {
  LB_CHECK(mapped_, "Buffer::read on a buffer the host cannot see");
  LB_CHECK(offset <= size_ && dst.size() <= size_ - offset, "Buffer::read past the end of the buffer");
  if (!dst.empty()) copy_bytes(dst.data(), mapped_ + offset, dst.size());
}

Buffer::Buffer(Buffer&& other) noexcept {
  *this = std::move(other);
}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    counted_bytes_ = std::exchange(other.counted_bytes_, 0);
    device_ = other.device_;
    buffer_ = std::exchange(other.buffer_, VK_NULL_HANDLE);
    memory_ = std::exchange(other.memory_, VK_NULL_HANDLE);
    mapped_ = std::exchange(other.mapped_, nullptr);
    size_ = std::exchange(other.size_, 0);
    use_ = other.use_;
  }
  return *this;
}

Buffer::~Buffer() {
  release();
}

void Buffer::release() {
  // Freeing the memory unmaps it.
  if (buffer_) vkDestroyBuffer(device_, buffer_, nullptr);
  if (memory_) vkFreeMemory(device_, memory_, nullptr);
  buffer_ = VK_NULL_HANDLE;
  memory_ = VK_NULL_HANDLE;
  mapped_ = nullptr;
  if (owner_) owner_->device_bytes_in_use_ -= counted_bytes_;
  owner_ = nullptr;
  counted_bytes_ = 0;
}

}  // namespace lowbit::gpu
