#include "gpu/pipeline/pipeline.h"

#include <string>
#include <utility>
#include <vector>

#include "gpu/device/device.h"
#include "gpu/device/vk_check.h"
#include "gpu/pipeline/spirv_reflect.h"

namespace lowbit::gpu {
namespace {

// The SPIR-V module lives only as long as pipeline creation needs it.
class ShaderModule {
 public:
  explicit ShaderModule(VkDevice device) : device_(device) {}
  ~ShaderModule() {
    if (module_) vkDestroyShaderModule(device_, module_, nullptr);
  }
  ShaderModule(const ShaderModule&) = delete;
  ShaderModule& operator=(const ShaderModule&) = delete;
  VkShaderModule* out() { return &module_; }
  VkShaderModule get() const { return module_; }

 private:
  VkDevice device_;
  VkShaderModule module_ = VK_NULL_HANDLE;
};

}  // namespace

Expected<Pipeline> Pipeline::create(Device& device, const PipelineDesc& desc) {
  const std::span<const uint32_t> spirv = shader_spirv(desc.shader);
  const std::string name = shader_name(desc.shader);
  auto reflected = reflect_spirv(spirv);
  LB_CHECK(reflected.has_value(), "embedded shader " + name + " is not valid: " + reflected.error().message);
  const SpirvReflection& r = *reflected;

  // The op's description must match its shader; these are bugs, caught on first use.
  LB_CHECK(r.other_bindings.empty(), "shader " + name + " binds something other than storage buffers");
  for (uint32_t b : r.storage_buffers)
    LB_CHECK(b < desc.bindings, "shader " + name + " uses binding " + std::to_string(b) + " but its PipelineDesc has " +
                                    std::to_string(desc.bindings) + " binding(s)");
  LB_CHECK(!r.push_constant_size_known || r.push_constant_bytes == desc.push_constant_bytes,
           "shader " + name + " has a " + std::to_string(r.push_constant_bytes) +
               "-byte push-constant block but its C++ mirror has " + std::to_string(desc.push_constant_bytes));

  Pipeline p;
  p.device_ = device.handle();
  p.shader_ = desc.shader;
  p.bindings_ = desc.bindings;
  p.push_constant_bytes_ = desc.push_constant_bytes;
  p.local_size_ = r.local_size;

  // A given local size goes through the specialization constants of the dimensions that have one.
  std::vector<VkSpecializationMapEntry> entries;
  std::array<uint32_t, 3> spec_values{};
  if (desc.local_size) {
    for (uint32_t i = 0; i < 3; ++i) {
      const uint32_t want = (*desc.local_size)[i];
      if (r.local_size_spec_ids[i] < 0) {
        LB_CHECK(want == r.local_size[i], "shader " + name + " fixes local size " + std::to_string(i) + " to " +
                                              std::to_string(r.local_size[i]) + ", asked " + std::to_string(want));
        continue;
      }
      spec_values[i] = want;
      entries.push_back({static_cast<uint32_t>(r.local_size_spec_ids[i]), i * 4u, 4u});
    }
    p.local_size_ = *desc.local_size;
  }
  const uint64_t invocations = uint64_t{p.local_size_[0]} * p.local_size_[1] * p.local_size_[2];
  const auto& limits = device.limits();
  if (invocations > limits.maxComputeWorkGroupInvocations || p.local_size_[0] > limits.maxComputeWorkGroupSize[0] ||
      p.local_size_[1] > limits.maxComputeWorkGroupSize[1] || p.local_size_[2] > limits.maxComputeWorkGroupSize[2])
    return make_error(ErrorCode::Unsupported, "shader " + name + ": local size " + std::to_string(p.local_size_[0]) +
                                                  "x" + std::to_string(p.local_size_[1]) + "x" +
                                                  std::to_string(p.local_size_[2]) + " exceeds the limits of " +
                                                  device.info().name);

  std::vector<VkDescriptorSetLayoutBinding> bindings(desc.bindings);
  for (uint32_t i = 0; i < desc.bindings; ++i) {
    bindings[i].binding = i;
    bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    bindings[i].descriptorCount = 1;
    bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  VkDescriptorSetLayoutCreateInfo set_info{};
  set_info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
  set_info.bindingCount = desc.bindings;
  set_info.pBindings = bindings.data();
  LB_VK_TRY(vkCreateDescriptorSetLayout(p.device_, &set_info, nullptr, &p.set_layout_));

  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, desc.push_constant_bytes};
  VkPipelineLayoutCreateInfo layout_info{};
  layout_info.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
  layout_info.setLayoutCount = 1;
  layout_info.pSetLayouts = &p.set_layout_;
  layout_info.pushConstantRangeCount = desc.push_constant_bytes > 0 ? 1 : 0;
  layout_info.pPushConstantRanges = &range;
  LB_VK_TRY(vkCreatePipelineLayout(p.device_, &layout_info, nullptr, &p.layout_));

  ShaderModule module(p.device_);
  VkShaderModuleCreateInfo module_info{};
  module_info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
  module_info.codeSize = spirv.size_bytes();
  module_info.pCode = spirv.data();
  LB_VK_TRY(vkCreateShaderModule(p.device_, &module_info, nullptr, module.out()));

  VkSpecializationInfo spec{};
  spec.mapEntryCount = static_cast<uint32_t>(entries.size());
  spec.pMapEntries = entries.data();
  spec.dataSize = sizeof(spec_values);
  spec.pData = spec_values.data();
  VkComputePipelineCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
  info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  info.stage.module = module.get();
  info.stage.pName = "main";
  info.stage.pSpecializationInfo = entries.empty() ? nullptr : &spec;
  info.layout = p.layout_;
  LB_VK_TRY(vkCreateComputePipelines(p.device_, device.pipeline_cache(), 1, &info, nullptr, &p.pipeline_));
  return p;
}

Pipeline::Pipeline(Pipeline&& other) noexcept {
  *this = std::move(other);
}

Pipeline& Pipeline::operator=(Pipeline&& other) noexcept {
  if (this != &other) {
    release();
    device_ = other.device_;
    set_layout_ = std::exchange(other.set_layout_, VK_NULL_HANDLE);
    layout_ = std::exchange(other.layout_, VK_NULL_HANDLE);
    pipeline_ = std::exchange(other.pipeline_, VK_NULL_HANDLE);
    shader_ = other.shader_;
    bindings_ = other.bindings_;
    push_constant_bytes_ = other.push_constant_bytes_;
    local_size_ = other.local_size_;
  }
  return *this;
}

Pipeline::~Pipeline() {
  release();
}

void Pipeline::release() {
  if (pipeline_) vkDestroyPipeline(device_, pipeline_, nullptr);
  if (layout_) vkDestroyPipelineLayout(device_, layout_, nullptr);
  if (set_layout_) vkDestroyDescriptorSetLayout(device_, set_layout_, nullptr);
  pipeline_ = VK_NULL_HANDLE;
  layout_ = VK_NULL_HANDLE;
  set_layout_ = VK_NULL_HANDLE;
}

}  // namespace lowbit::gpu
