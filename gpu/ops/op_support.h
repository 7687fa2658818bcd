// Shared by the ops of the forward pass (norm, rope, attention, activation, add, embed,
// log_softmax_nll): checking that a device buffer is large enough and that a size fits the shaders'
// 32-bit indices (each an Error naming the op), getting a variant's pipeline, and dispatching over
// a 2-D grid of workgroups so that more groups than maxComputeWorkGroupCount[0] can run (the shaders
// read the linear index back through gpu/shaders/common/grid.glsl).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>

#include "core/util/expected.h"
#include "gpu/device/device.h"
#include "gpu/memory/buffer.h"
#include "gpu/pipeline/command_recorder.h"
#include "gpu/pipeline/pipeline.h"

namespace lowbit::gpu {

// InvalidArgument unless `buffer` holds at least `bytes`.
Expected<void> check_op_buffer(const char* op, const char* name, const Buffer& buffer, uint64_t bytes);
// InvalidArgument unless 0 < value; Unsupported unless value < 2^32 (the shaders index with uint).
Expected<void> check_op_size(const char* op, const char* name, uint64_t value, bool may_be_zero = false);

// The pipeline of `shader` (its own local size) on the recorder's device.
Expected<const Pipeline*> op_pipeline(CommandRecorder& recorder, ShaderId shader, uint32_t bindings,
                                      uint32_t push_constant_bytes);

// One workgroup per row (group_index() in the shader) for the bound pipeline.
Expected<void> dispatch_rows(CommandRecorder& recorder, uint64_t rows);
// At least n invocations of `pipeline`, the bound one (element_index() in the shader; 1-D local size).
Expected<void> dispatch_elements(CommandRecorder& recorder, const Pipeline& pipeline, uint64_t n);

// lavapipe (llvmpipe) ends any one loop of a shader after 65535 iterations over an invocation's life,
// counted across every entry into the loop, and carries on as if it had ended: a silent wrong answer.
// Shaders with long-running loops walk their data in unrolled chunks to stay under it; an op whose
// worst loop would still take `iterations` (the most of any one loop in one invocation) checks here:
// Unsupported, naming `what`, on lavapipe at or past the limit; nothing elsewhere.
inline constexpr uint64_t kLavapipeLoopLimit = 65535;
Expected<void> check_loop_budget(const Device& device, const char* op, uint64_t iterations, const std::string& what);

// A device-local buffer of at least `bytes` (4 for none), for the host-span wrappers of the ops;
// they create their buffers before their recorder so that the buffers outlive its submission.
Expected<Buffer> op_buffer(Device& device, uint64_t bytes);

// The wall-clock phases of an op's host side (allocations, checks, host-side compute around the
// GPU work), printed as one "[profile] <op> host:" line when it goes out of scope, under
// LOWBIT_GPU_PROFILE (CommandRecorder::profiling); nothing otherwise. mark(label) ends a phase.
class HostPhases {
 public:
  explicit HostPhases(std::string op);
  HostPhases(const HostPhases&) = delete;
  HostPhases& operator=(const HostPhases&) = delete;
  ~HostPhases();
  void mark(const char* label);

 private:
  std::string op_;
  std::string line_;
  double last_ = 0;
  double total_ = 0;
};

}  // namespace lowbit::gpu
