#include "gpu/pipeline/command_recorder.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "gpu/device/device.h"
#include "gpu/device/vk_check.h"
#include "gpu/pipeline/pipeline.h"

namespace lowbit::gpu {
namespace {

constexpr uint32_t kSetsPerPool = 64;
constexpr uint32_t kBuffersPerSet = 16;  // pool sizing only: a set may have more, the pool grows to fit

void memory_barrier(VkCommandBuffer cmd, VkPipelineStageFlags src_stages, VkAccessFlags src_access,
                    VkPipelineStageFlags dst_stages, VkAccessFlags dst_access) {
  VkMemoryBarrier barrier{};
  barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  barrier.srcAccessMask = src_access;
  barrier.dstAccessMask = dst_access;
  vkCmdPipelineBarrier(cmd, src_stages, dst_stages, 0, 1, &barrier, 0, nullptr, 0, nullptr);
}

constexpr VkPipelineStageFlags kWorkStages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;

}  // namespace

Expected<CommandRecorder> CommandRecorder::begin(Device& device) {
  CommandRecorder r(device);
  VkCommandBufferAllocateInfo alloc{};
  alloc.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
  alloc.commandPool = device.command_pool();
  alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  alloc.commandBufferCount = 1;
  LB_VK_TRY(vkAllocateCommandBuffers(device.handle(), &alloc, &r.cmd_));
  VkFenceCreateInfo fence{};
  fence.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
  LB_VK_TRY(vkCreateFence(device.handle(), &fence, nullptr, &r.fence_));
  VkCommandBufferBeginInfo info{};
  info.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  info.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  LB_VK_TRY(vkBeginCommandBuffer(r.cmd_, &info));
  return r;
}

CommandRecorder::CommandRecorder(CommandRecorder&& other) noexcept
    : device_(other.device_),
      cmd_(std::exchange(other.cmd_, VK_NULL_HANDLE)),
      fence_(std::exchange(other.fence_, VK_NULL_HANDLE)),
      pools_(std::move(other.pools_)),
      staging_(std::move(other.staging_)),
      scratch_(std::move(other.scratch_)),
      downloads_(std::move(other.downloads_)),
      queries_(std::exchange(other.queries_, VK_NULL_HANDLE)),
      marks_(std::move(other.marks_)),
      profile_(std::move(other.profile_)),
      host_upload_s_(other.host_upload_s_),
      host_wait_s_(other.host_wait_s_),
      host_read_s_(other.host_read_s_),
      bound_(other.bound_),
      pushed_(other.pushed_),
      state_(other.state_) {
  other.pools_.clear();
  other.state_ = State::Done;
}

CommandRecorder::~CommandRecorder() {
  const VkDevice dev = device_->handle();
  // Work in flight still reads the staging buffers and descriptor sets freed below.
  if (state_ == State::Submitted && fence_) vkWaitForFences(dev, 1, &fence_, VK_TRUE, UINT64_MAX);
  for (Buffer& b : staging_) device_->give_back_staging(std::move(b));
  if (cmd_) vkFreeCommandBuffers(dev, device_->command_pool(), 1, &cmd_);
  if (fence_) vkDestroyFence(dev, fence_, nullptr);
  for (VkDescriptorPool pool : pools_) vkDestroyDescriptorPool(dev, pool, nullptr);
  if (queries_) vkDestroyQueryPool(dev, queries_, nullptr);
}

bool CommandRecorder::profiling() {
  static const bool on = [] {
    const char* v = std::getenv("LOWBIT_GPU_PROFILE");
    return v != nullptr && *v != '\0' && std::string(v) != "0";
  }();
  return on;
}

void CommandRecorder::mark(const char* label) {
  LB_CHECK(state_ == State::Recording, "CommandRecorder::mark after submission");
  if (!profiling() || !device_->limits().timestampComputeAndGraphics || marks_.size() >= kMaxMarks) return;
  if (!queries_) {
    VkQueryPoolCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO;
    info.queryType = VK_QUERY_TYPE_TIMESTAMP;
    info.queryCount = kMaxMarks;
    if (vkCreateQueryPool(device_->handle(), &info, nullptr, &queries_) != VK_SUCCESS) {
      queries_ = VK_NULL_HANDLE;
      return;  // profiling only: the work itself goes on
    }
    vkCmdResetQueryPool(cmd_, queries_, 0, kMaxMarks);
  }
  vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_, static_cast<uint32_t>(marks_.size()));
  marks_.push_back(label);
}

void CommandRecorder::report_profile(const char* op) const {
  if (profile_.size() < 2) return;
  // The time between consecutive marks is the later mark's label's; the labels summed, in the order they first appear.
  std::vector<std::pair<std::string, std::pair<double, int>>> sums;
  for (size_t i = 1; i < profile_.size(); ++i) {
    const std::string label = profile_[i].first;
    auto it = std::find_if(sums.begin(), sums.end(), [&](const auto& s) { return s.first == label; });
    if (it == sums.end()) it = sums.insert(sums.end(), {label, {0.0, 0}});
    it->second.first += profile_[i].second - profile_[i - 1].second;
    ++it->second.second;
  }
  std::string line = std::string("[profile] ") + op + ":";
  for (const auto& [label, v] : sums) {
    char buf[128];
    std::snprintf(buf, sizeof buf, v.second > 1 ? " %s %.2f ms (%d×)," : " %s %.2f ms,", label.c_str(), 1e3 * v.first, v.second);
    line += buf;
  }
  std::fprintf(stderr, "%s %.2f ms in all; host: staging writes %.2f ms, submit and wait %.2f ms, readback copies %.2f ms\n",
               line.c_str(), 1e3 * profile_.back().second, 1e3 * host_upload_s_, 1e3 * host_wait_s_, 1e3 * host_read_s_);
}

Expected<const Buffer*> CommandRecorder::scratch(uint64_t bytes) {
  LB_CHECK(state_ == State::Recording, "CommandRecorder::scratch after submission");
  LB_TRY_ASSIGN(Buffer b, Buffer::create(*device_, std::max<uint64_t>(bytes, 4), MemoryUse::Device));
  scratch_.push_back(std::move(b));
  return &scratch_.back();
}

Expected<void> CommandRecorder::upload(const Buffer& dst, std::span<const std::byte> src, uint64_t dst_offset) {
  LB_CHECK(state_ == State::Recording, "CommandRecorder::upload after submission");
  LB_CHECK(dst_offset <= dst.size() && src.size() <= dst.size() - dst_offset, "upload past the end of the buffer");
  if (src.empty()) return {};
  const auto t0 = std::chrono::steady_clock::now();
  LB_TRY_ASSIGN(Buffer staging, device_->take_staging(src.size(), MemoryUse::Upload));
  staging.write(src);
  host_upload_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  copy(staging, dst, src.size(), 0, dst_offset);
  staging_.push_back(std::move(staging));
  return {};
}

Expected<void> CommandRecorder::download(const Buffer& src, std::span<std::byte> dst, uint64_t src_offset) {
  LB_CHECK(state_ == State::Recording, "CommandRecorder::download after submission");
  LB_CHECK(src_offset <= src.size() && dst.size() <= src.size() - src_offset, "download past the end of the buffer");
  if (dst.empty()) return {};
  LB_TRY_ASSIGN(Buffer staging, device_->take_staging(dst.size(), MemoryUse::Readback));
  copy(src, staging, dst.size(), src_offset, 0);
  staging_.push_back(std::move(staging));
  downloads_.push_back({staging_.size() - 1, dst});
  return {};
}

void CommandRecorder::copy(const Buffer& src, const Buffer& dst, uint64_t bytes, uint64_t src_offset,
                           uint64_t dst_offset) {
  LB_CHECK(state_ == State::Recording, "CommandRecorder::copy after submission");
  LB_CHECK(src_offset <= src.size() && bytes <= src.size() - src_offset, "copy reads past the end of the source");
  LB_CHECK(dst_offset <= dst.size() && bytes <= dst.size() - dst_offset, "copy writes past the end of the destination");
  if (bytes == 0) return;
  const VkBufferCopy region{src_offset, dst_offset, bytes};
  vkCmdCopyBuffer(cmd_, src.handle(), dst.handle(), 1, &region);
}

void CommandRecorder::gather(const Buffer& src, const Buffer& dst, uint64_t count, uint64_t bytes, uint64_t src_offset,
                             uint64_t src_stride) {
  LB_CHECK(state_ == State::Recording, "CommandRecorder::gather after submission");
  if (count == 0 || bytes == 0) return;
  LB_CHECK(src_offset <= src.size() && (count - 1) * src_stride + bytes <= src.size() - src_offset,
           "gather reads past the end of the source");
  LB_CHECK(count * bytes <= dst.size(), "gather writes past the end of the destination");
  std::vector<VkBufferCopy> regions(count);
  for (uint64_t i = 0; i < count; ++i) regions[i] = VkBufferCopy{src_offset + i * src_stride, i * bytes, bytes};
  vkCmdCopyBuffer(cmd_, src.handle(), dst.handle(), static_cast<uint32_t>(count), regions.data());
}

Expected<VkDescriptorSet> CommandRecorder::allocate_set(VkDescriptorSetLayout layout, uint32_t bindings) {
  VkDescriptorSetAllocateInfo alloc{};
  alloc.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
  alloc.descriptorSetCount = 1;
  alloc.pSetLayouts = &layout;
  VkDescriptorSet set = VK_NULL_HANDLE;
  if (!pools_.empty()) {
    alloc.descriptorPool = pools_.back();
    const VkResult result = vkAllocateDescriptorSets(device_->handle(), &alloc, &set);
    if (result == VK_SUCCESS) return set;
    if (result != VK_ERROR_OUT_OF_POOL_MEMORY && result != VK_ERROR_FRAGMENTED_POOL)
      return vk_error(result, "vkAllocateDescriptorSets");
  }
  // The last pool is full (or there is none yet): start another.
  const VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSetsPerPool * std::max(bindings, kBuffersPerSet)};
  VkDescriptorPoolCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
  info.maxSets = kSetsPerPool;
  info.poolSizeCount = 1;
  info.pPoolSizes = &size;
  VkDescriptorPool pool = VK_NULL_HANDLE;
  LB_VK_TRY(vkCreateDescriptorPool(device_->handle(), &info, nullptr, &pool));
  pools_.push_back(pool);
  alloc.descriptorPool = pool;
  LB_VK_TRY(vkAllocateDescriptorSets(device_->handle(), &alloc, &set));
  return set;
}

Expected<void> CommandRecorder::bind(const Pipeline& pipeline, std::initializer_list<BufferRange> buffers) {
  LB_CHECK(state_ == State::Recording, "CommandRecorder::bind after submission");
  LB_CHECK(buffers.size() == pipeline.bindings(), std::string("pipeline ") + pipeline.name() + " has " +
                                                      std::to_string(pipeline.bindings()) + " bindings, " +
                                                      std::to_string(buffers.size()) + " buffers were bound");
  const VkPhysicalDeviceLimits& limits = device_->limits();
  std::vector<VkDescriptorBufferInfo> infos;
  infos.reserve(buffers.size());
  for (const BufferRange& range : buffers) {
    const uint32_t binding = static_cast<uint32_t>(infos.size());
    LB_CHECK(range.buffer && range.buffer->handle(), "binding an empty buffer");
    LB_CHECK(
        range.size > 0 && range.offset <= range.buffer->size() && range.size <= range.buffer->size() - range.offset,
        "bound range lies outside its buffer");
    LB_CHECK(range.offset % limits.minStorageBufferOffsetAlignment == 0, "misaligned storage-buffer offset");
    if (range.size > limits.maxStorageBufferRange)
      return make_error(ErrorCode::Unsupported, std::string(pipeline.name()) + " binding " + std::to_string(binding) +
                                                    ": " + std::to_string(range.size) +
                                                    " bytes exceed the device's storage-buffer range of " +
                                                    std::to_string(limits.maxStorageBufferRange) + " bytes");
    infos.push_back({range.buffer->handle(), range.offset, range.size});
  }
  LB_TRY_ASSIGN(VkDescriptorSet set, allocate_set(pipeline.set_layout(), pipeline.bindings()));
  std::vector<VkWriteDescriptorSet> writes(infos.size());
  for (uint32_t i = 0; i < writes.size(); ++i) {
    writes[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
    writes[i].dstSet = set;
    writes[i].dstBinding = i;
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &infos[i];
  }
  vkUpdateDescriptorSets(device_->handle(), static_cast<uint32_t>(writes.size()), writes.data(), 0, nullptr);
  vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.handle());
  vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.layout(), 0, 1, &set, 0, nullptr);
  bound_ = &pipeline;
  pushed_ = pipeline.push_constant_bytes() == 0;
  return {};
}

void CommandRecorder::push_bytes(const void* data, size_t bytes) {
  LB_CHECK(state_ == State::Recording && bound_, "push constants need a bound pipeline");
  LB_CHECK(bytes == bound_->push_constant_bytes(), std::string("push constants of ") + std::to_string(bytes) +
                                                       " bytes for " + bound_->name() + ", which takes " +
                                                       std::to_string(bound_->push_constant_bytes()));
  vkCmdPushConstants(cmd_, bound_->layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, static_cast<uint32_t>(bytes), data);
  pushed_ = true;
}

Expected<void> CommandRecorder::dispatch(uint32_t groups_x, uint32_t groups_y, uint32_t groups_z) {
  LB_CHECK(state_ == State::Recording && bound_, "dispatch needs a bound pipeline");
  LB_CHECK(pushed_, std::string("dispatch of ") + bound_->name() + " before its push constants");
  const uint32_t groups[3] = {groups_x, groups_y, groups_z};
  for (int i = 0; i < 3; ++i)
    if (groups[i] > device_->limits().maxComputeWorkGroupCount[i])
      return make_error(ErrorCode::Unsupported, std::string(bound_->name()) + ": " + std::to_string(groups[i]) +
                                                    " workgroups in dimension " + std::to_string(i) +
                                                    " exceed the device's limit of " +
                                                    std::to_string(device_->limits().maxComputeWorkGroupCount[i]));
  if (groups_x == 0 || groups_y == 0 || groups_z == 0) return {};
  vkCmdDispatch(cmd_, groups_x, groups_y, groups_z);
  return {};
}

Expected<void> CommandRecorder::dispatch_threads(uint64_t x, uint64_t y, uint64_t z) {
  LB_CHECK(bound_, "dispatch needs a bound pipeline");
  const auto& local = bound_->local_size();
  const uint64_t n[3] = {x, y, z};
  uint32_t groups[3];
  for (int i = 0; i < 3; ++i) {
    const uint64_t g = (n[i] + local[i] - 1) / local[i];
    if (g > UINT32_MAX)
      return make_error(ErrorCode::Unsupported, std::string(bound_->name()) + ": " + std::to_string(n[i]) +
                                                    " invocations in dimension " + std::to_string(i) +
                                                    " are too many for one dispatch");
    groups[i] = static_cast<uint32_t>(g);
  }
  return dispatch(groups[0], groups[1], groups[2]);
}

void CommandRecorder::barrier() {
  LB_CHECK(state_ == State::Recording, "CommandRecorder::barrier after submission");
  memory_barrier(cmd_, kWorkStages, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT, kWorkStages,
                 VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                     VK_ACCESS_TRANSFER_WRITE_BIT);
}

Expected<void> CommandRecorder::submit_and_wait() {
  LB_CHECK(state_ == State::Recording, "CommandRecorder::submit_and_wait called twice");
  // Device writes (downloads into readback memory) become visible to the host once the fence signals.
  memory_barrier(cmd_, kWorkStages, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                 VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
  state_ = State::Done;  // a recorder that failed to end or submit has nothing in flight
  LB_VK_TRY(vkEndCommandBuffer(cmd_));
  VkSubmitInfo submit{};
  submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &cmd_;
  const auto t0 = std::chrono::steady_clock::now();
  LB_VK_TRY(vkQueueSubmit(device_->queue(), 1, &submit, fence_));
  state_ = State::Submitted;
  LB_VK_TRY(vkWaitForFences(device_->handle(), 1, &fence_, VK_TRUE, UINT64_MAX));
  state_ = State::Done;
  const auto t1 = std::chrono::steady_clock::now();
  for (const Download& d : downloads_) staging_[d.staging].read(d.dst);
  host_wait_s_ = std::chrono::duration<double>(t1 - t0).count();
  host_read_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  if (queries_ && !marks_.empty()) {
    std::vector<uint64_t> ticks(marks_.size());
    if (vkGetQueryPoolResults(device_->handle(), queries_, 0, static_cast<uint32_t>(marks_.size()), ticks.size() * 8, ticks.data(), 8,
                              VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) == VK_SUCCESS) {
      const double period = 1e-9 * static_cast<double>(device_->limits().timestampPeriod);
      for (size_t i = 0; i < marks_.size(); ++i)
        profile_.emplace_back(marks_[i], period * static_cast<double>(ticks[i] - ticks[0]));
    }
  }
  return {};
}

}  // namespace lowbit::gpu
