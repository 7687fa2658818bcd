#include "gpu/ops/op_support.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

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

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

HostPhases::HostPhases(std::string op) : op_(std::move(op)), last_(CommandRecorder::profiling() ? now_seconds() : 0) {}

void HostPhases::mark(const char* label) {
  if (!CommandRecorder::profiling()) return;
  const double t = now_seconds(), d = t - last_;
  char buf[128];
  std::snprintf(buf, sizeof buf, " %s %.2f ms,", label, 1e3 * d);
  line_ += buf;
  total_ += d;
  last_ = t;
}

HostPhases::~HostPhases() {
  if (CommandRecorder::profiling() && !line_.empty())
    std::fprintf(stderr, "[profile] %s host:%s %.2f ms in all\n", op_.c_str(), line_.c_str(), 1e3 * total_);
}

}  // namespace lowbit::gpu
