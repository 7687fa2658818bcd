#include "gpu/ops/op_support.h"

#include <algorithm>

#include "gpu/device/device.h"

namespace lowbit::gpu {
namespace {

constexpr uint64_t kMaxIndex = uint64_t{1} << 32;

// Groups along x and y for `groups` workgroups: x as wide as the device allows, y the rest.
Expected<void> dispatch_groups(CommandRecorder& recorder, uint64_t groups) {
  if (groups == 0) return {};
  const uint64_t max_x = recorder.device().limits().maxComputeWorkGroupCount[0];
  const uint64_t x = std::min(groups, max_x);
  const uint64_t y = (groups + x - 1) / x;
  if (y > recorder.device().limits().maxComputeWorkGroupCount[1])
    return make_error(ErrorCode::Unsupported,
                      std::to_string(groups) + " workgroups exceed the device's grid of workgroups");
  return recorder.dispatch(static_cast<uint32_t>(x), static_cast<uint32_t>(y));
}

}  // namespace

Expected<void> check_op_buffer(const char* op, const char* name, const Buffer& buffer, uint64_t bytes) {
  if (buffer.handle() && buffer.size() >= bytes) return {};
  return make_error(ErrorCode::InvalidArgument, std::string(op) + ": buffer " + name + " holds " +
                                                    std::to_string(buffer.size()) + " bytes, " + std::to_string(bytes) +
                                                    " needed");
}

Expected<void> check_op_size(const char* op, const char* name, uint64_t value, bool may_be_zero) {
  if (value == 0 && !may_be_zero)
    return make_error(ErrorCode::InvalidArgument, std::string(op) + ": " + name + " must be positive");
  if (value >= kMaxIndex)
    return make_error(ErrorCode::Unsupported, std::string(op) + ": " + name + " = " + std::to_string(value) +
                                                  " is 2^32 or more; the shader's indices are 32-bit");
  return {};
}

Expected<const Pipeline*> op_pipeline(CommandRecorder& recorder, ShaderId shader, uint32_t bindings,
                                      uint32_t push_constant_bytes) {
  return recorder.device().pipeline(PipelineDesc{
      .shader = shader, .bindings = bindings, .push_constant_bytes = push_constant_bytes, .local_size = std::nullopt});
}

Expected<void> check_loop_budget(const Device& device, const char* op, uint64_t iterations, const std::string& what) {
  if (iterations < kLavapipeLoopLimit || device.info().driver.rfind("llvmpipe", 0) != 0) return {};
  return make_error(ErrorCode::Unsupported, std::string(op) + ": " + what + " takes " + std::to_string(iterations) +
                                                " iterations of one shader loop, past lavapipe's limit of " +
                                                std::to_string(kLavapipeLoopLimit) + " (it would give wrong results)");
}

Expected<Buffer> op_buffer(Device& device, uint64_t bytes) {
  return Buffer::create(device, std::max<uint64_t>(bytes, 4), MemoryUse::Device);
}

Expected<void> dispatch_rows(CommandRecorder& recorder, uint64_t rows) {
  return dispatch_groups(recorder, rows);
}

Expected<void> dispatch_elements(CommandRecorder& recorder, const Pipeline& pipeline, uint64_t n) {
  const uint64_t local = pipeline.local_size()[0];
  return dispatch_groups(recorder, (n + local - 1) / local);
}

}  // namespace lowbit::gpu
