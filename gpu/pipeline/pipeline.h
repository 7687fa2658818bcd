// Pipeline: a compute pipeline built from one embedded shader variant (ShaderId), with its
// descriptor-set layout (N storage buffers at set 0, bindings 0..N-1) and pipeline layout (one
// push-constant range). The local size is read from the shader, or given and passed through the
// specialization constants the shader names with local_size_x_id etc. Creation checks the
// description against the SPIR-V (bindings, push-constant size) and stops on a mismatch: that is a
// bug in the op, not a runtime condition. Ops get pipelines through Device::pipeline(), which caches.
#pragma once

#include <vulkan/vulkan.h>

#include <array>
#include <cstdint>
#include <optional>

#include "core/util/expected.h"
#include "gpu/shaders/shader_id.h"

namespace lowbit::gpu {

class Device;

struct PipelineDesc {
  ShaderId shader{};
  uint32_t bindings = 0;                              // storage buffers at set 0, bindings 0..bindings-1
  uint32_t push_constant_bytes = 0;                   // sizeof the C++ mirror of the shader's push-constant block
  std::optional<std::array<uint32_t, 3>> local_size;  // unset: the shader's own
};

class Pipeline {
 public:
  static Expected<Pipeline> create(Device& device, const PipelineDesc& desc);

  Pipeline(Pipeline&& other) noexcept;
  Pipeline& operator=(Pipeline&& other) noexcept;
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  ~Pipeline();

  VkPipeline handle() const { return pipeline_; }
  VkPipelineLayout layout() const { return layout_; }
  VkDescriptorSetLayout set_layout() const { return set_layout_; }
  ShaderId shader() const { return shader_; }
  const char* name() const { return shader_name(shader_); }
  uint32_t bindings() const { return bindings_; }
  uint32_t push_constant_bytes() const { return push_constant_bytes_; }
  const std::array<uint32_t, 3>& local_size() const { return local_size_; }

 private:
  Pipeline() = default;
  void release();

  VkDevice device_ = VK_NULL_HANDLE;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
  ShaderId shader_{};
  uint32_t bindings_ = 0;
  uint32_t push_constant_bytes_ = 0;
  std::array<uint32_t, 3> local_size_{1, 1, 1};
};

}  // namespace lowbit::gpu
