// CommandRecorder: the small recording API every op uses. It records into one command buffer:
// uploads and downloads through staging buffers it owns, pipeline binds with their storage buffers,
// push constants, dispatches (group counts from the pipeline's local size) and barriers; then
// submit_and_wait() runs everything in one submission and copies downloads to their destinations.
// Barriers are explicit: record barrier() between a write and a later read of the same buffer (upload
// → dispatch, dispatch → dispatch, dispatch → download). One recorder is one submission; it waits for
// its work before it dies, so buffers declared before it outlive the GPU's use of them.
#pragma once

#include <vulkan/vulkan.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <span>
#include <utility>
#include <vector>

#include "core/util/expected.h"
#include "gpu/memory/buffer.h"

namespace lowbit::gpu {

class Device;
class Pipeline;

class CommandRecorder {
 public:
  static Expected<CommandRecorder> begin(Device& device);

  CommandRecorder(CommandRecorder&& other) noexcept;
  CommandRecorder& operator=(CommandRecorder&&) = delete;
  CommandRecorder(const CommandRecorder&) = delete;
  CommandRecorder& operator=(const CommandRecorder&) = delete;
  ~CommandRecorder();

  Device& device() const { return *device_; }

  // Copies `src` into `dst` at `dst_offset` through a staging buffer (src is copied now).
  Expected<void> upload(const Buffer& dst, std::span<const std::byte> src, uint64_t dst_offset = 0);
  // After submit_and_wait(), `dst` holds src's bytes from `src_offset`; dst must outlive the recorder.
  Expected<void> download(const Buffer& src, std::span<std::byte> dst, uint64_t src_offset = 0);
  void copy(const Buffer& src, const Buffer& dst, uint64_t bytes, uint64_t src_offset = 0, uint64_t dst_offset = 0);
  // `count` pieces of `bytes` each, the i-th from src at src_offset + i · src_stride, to dst back to
  // back from 0 (one copy command: a matrix's diagonal, a column).
  void gather(const Buffer& src, const Buffer& dst, uint64_t count, uint64_t bytes, uint64_t src_offset, uint64_t src_stride);
  // A device-local buffer of at least `bytes` that lives as long as the recorder (an op's
  // intermediate that its caller need not know of); out of device memory is an Error.
  Expected<const Buffer*> scratch(uint64_t bytes);

  // Binds the pipeline and one range per binding, in binding order. A range larger than the device's
  // storage-buffer range is an Error; a wrong count or a misaligned offset is a bug.
  Expected<void> bind(const Pipeline& pipeline, std::initializer_list<BufferRange> buffers);
  // The push constants of the bound pipeline: T is the shader's mirror struct.
  template <class T>
  void push(const T& constants) {
    push_bytes(&constants, sizeof(T));
  }
  Expected<void> dispatch(uint32_t groups_x, uint32_t groups_y = 1, uint32_t groups_z = 1);
  // Enough groups of the bound pipeline's local size to cover x × y × z invocations.
  Expected<void> dispatch_threads(uint64_t x, uint64_t y = 1, uint64_t z = 1);
  // Makes every earlier transfer and shader write visible to every later transfer and shader access.
  void barrier();

  Expected<void> submit_and_wait();
  // Profiling (LOWBIT_GPU_PROFILE=1): mark() records a GPU timestamp named `label` once the work
  // recorded before it has finished (nothing where the device has no compute timestamps, or past
  // kMaxMarks); after submit_and_wait(), profile() returns each mark's time since the recording's
  // first (label, seconds) and report_profile(op) prints to stderr the time before each mark summed
  // by its label.
  static bool profiling();
  void mark(const char* label);
  std::vector<std::pair<const char*, double>> profile() const { return profile_; }
  void report_profile(const char* op) const;

 private:
  enum class State { Recording, Submitted, Done };
  struct Download {
    size_t staging;  // index into staging_
    std::span<std::byte> dst;
  };

  explicit CommandRecorder(Device& device) : device_(&device) {}
  void push_bytes(const void* data, size_t bytes);
  Expected<VkDescriptorSet> allocate_set(VkDescriptorSetLayout layout, uint32_t bindings);

  Device* device_;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  std::vector<VkDescriptorPool> pools_;
  std::vector<Buffer> staging_;
  std::deque<Buffer> scratch_;  // a deque: scratch() hands out addresses
  std::vector<Download> downloads_;
  static constexpr uint32_t kMaxMarks = 1024;
  VkQueryPool queries_ = VK_NULL_HANDLE;
  std::vector<const char*> marks_;
  std::vector<std::pair<const char*, double>> profile_;
  double host_upload_s_ = 0, host_wait_s_ = 0, host_read_s_ = 0;  // for report_profile
  const Pipeline* bound_ = nullptr;
  bool pushed_ = false;
  State state_ = State::Recording;
};

}  // namespace lowbit::gpu
