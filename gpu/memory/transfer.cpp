#include "gpu/memory/transfer.h"

#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {

Expected<void> upload(Device& device, const Buffer& dst, std::span<const std::byte> src, uint64_t dst_offset) {
  LB_TRY_ASSIGN(CommandRecorder recorder, CommandRecorder::begin(device));
  LB_TRY_VOID(recorder.upload(dst, src, dst_offset));
  return recorder.submit_and_wait();
}

Expected<void> download(Device& device, const Buffer& src, std::span<std::byte> dst, uint64_t src_offset) {
  LB_TRY_ASSIGN(CommandRecorder recorder, CommandRecorder::begin(device));
  LB_TRY_VOID(recorder.download(src, dst, src_offset));
  return recorder.submit_and_wait();
}

}  // namespace lowbit::gpu
