#include "gpu/pipeline/spirv_reflect.h"

#include <algorithm>
#include <string>
#include <unordered_map>

namespace lowbit::gpu {
namespace {

// The few opcodes, decorations and enumerants of the SPIR-V specification read here.
enum : uint32_t {
  kMagic = 0x07230203,
  OpEntryPoint = 15,
  OpExecutionMode = 16,
  OpTypeInt = 21,
  OpTypeFloat = 22,
  OpTypeVector = 23,
  OpTypeArray = 28,
  OpTypeStruct = 30,
  OpTypePointer = 32,
  OpConstant = 43,
  OpSpecConstant = 50,
  OpSpecConstantComposite = 51,
  OpConstantComposite = 44,
  OpVariable = 59,
  OpDecorate = 71,
  OpMemberDecorate = 72,
  DecorationSpecId = 1,
  DecorationBufferBlock = 3,
  DecorationArrayStride = 6,
  DecorationBuiltIn = 11,
  DecorationBinding = 33,
  DecorationDescriptorSet = 34,
  DecorationOffset = 35,
  BuiltInWorkgroupSize = 25,
  ExecutionModelGLCompute = 5,
  ExecutionModeLocalSize = 17,
  StorageClassUniform = 2,
  StorageClassPushConstant = 9,
  StorageClassStorageBuffer = 12,
};

struct Module {
  std::unordered_map<uint32_t, std::vector<uint32_t>> types;       // id -> the type instruction's words
  std::unordered_map<uint32_t, uint32_t> constants;                // id -> 32-bit value (OpConstant, OpSpecConstant)
  std::unordered_map<uint32_t, std::vector<uint32_t>> composites;  // id -> constituents
  std::unordered_map<uint32_t, int> spec_ids;
  std::unordered_map<uint32_t, uint32_t> bindings, sets, array_strides;
  std::unordered_map<uint32_t, std::unordered_map<uint32_t, uint32_t>> member_offsets;
  std::vector<uint32_t> buffer_blocks;  // struct ids decorated BufferBlock (storage buffers before SPIR-V 1.3)
  uint32_t workgroup_size_id = 0;
  struct Var {
    uint32_t id, pointer_type, storage_class;
  };
  std::vector<Var> variables;
};

// Size in bytes of a type inside a push-constant block; nullopt for what this reader does not size.
std::optional<uint32_t> type_size(const Module& m, uint32_t id, int depth = 0) {
  auto it = m.types.find(id);
  if (it == m.types.end() || depth > 8) return std::nullopt;
  const auto& t = it->second;
  switch (t[0] & 0xffffu) {
    case OpTypeInt:
    case OpTypeFloat:
      return t[2] / 8;
    case OpTypeVector: {
      auto c = type_size(m, t[2], depth + 1);
      return c ? std::optional<uint32_t>(*c * t[3]) : std::nullopt;
    }
    case OpTypeArray: {
      auto len = m.constants.find(t[3]);
      auto stride = m.array_strides.find(t[1]);
      if (len == m.constants.end() || stride == m.array_strides.end()) return std::nullopt;
      return len->second * stride->second;
    }
    case OpTypeStruct: {
      uint32_t end = 0;
      auto offsets = m.member_offsets.find(t[1]);
      for (uint32_t i = 2; i < t.size(); ++i) {
        auto size = type_size(m, t[i], depth + 1);
        if (!size || offsets == m.member_offsets.end() || !offsets->second.contains(i - 2)) return std::nullopt;
        end = std::max(end, offsets->second.at(i - 2) + *size);
      }
      return end;
    }
    default:
      return std::nullopt;
  }
}

Unexpected malformed(const std::string& what) {
  return make_error(ErrorCode::Format, "SPIR-V: " + what);
}

}  // namespace

Expected<SpirvReflection> reflect_spirv(std::span<const uint32_t> words) {
  if (words.size() < 5 || words[0] != kMagic) return malformed("not a SPIR-V module (bad magic number or too short)");
  Module m;
  SpirvReflection r;
  bool compute_entry = false;
  for (size_t at = 5; at < words.size();) {
    const uint32_t count = words[at] >> 16;
    const uint32_t op = words[at] & 0xffffu;
    if (count == 0 || at + count > words.size())
      return malformed("instruction at word " + std::to_string(at) + " runs past the end");
    const auto w = words.subspan(at, count);
    at += count;
    switch (op) {
      case OpEntryPoint:
        if (count >= 3 && w[1] == ExecutionModelGLCompute) compute_entry = true;
        break;
      case OpExecutionMode:
        if (count >= 6 && w[2] == ExecutionModeLocalSize) r.local_size = {w[3], w[4], w[5]};
        break;
      case OpTypeInt:
      case OpTypeFloat:
      case OpTypeVector:
      case OpTypeArray:
      case OpTypeStruct:
      case OpTypePointer:
        if (count >= 2) m.types[w[1]] = std::vector<uint32_t>(w.begin(), w.end());
        break;
      case OpConstant:
      case OpSpecConstant:
        if (count >= 4) m.constants[w[2]] = w[3];
        break;
      case OpConstantComposite:
      case OpSpecConstantComposite:
        if (count >= 3) m.composites[w[2]] = std::vector<uint32_t>(w.begin() + 3, w.end());
        break;
      case OpVariable:
        if (count >= 4) m.variables.push_back({w[2], w[1], w[3]});
        break;
      case OpDecorate:
        if (count < 3) break;
        if (w[2] == DecorationSpecId && count >= 4) m.spec_ids[w[1]] = static_cast<int>(w[3]);
        if (w[2] == DecorationBinding && count >= 4) m.bindings[w[1]] = w[3];
        if (w[2] == DecorationDescriptorSet && count >= 4) m.sets[w[1]] = w[3];
        if (w[2] == DecorationArrayStride && count >= 4) m.array_strides[w[1]] = w[3];
        if (w[2] == DecorationBufferBlock) m.buffer_blocks.push_back(w[1]);
        if (w[2] == DecorationBuiltIn && count >= 4 && w[3] == BuiltInWorkgroupSize) m.workgroup_size_id = w[1];
        break;
      case OpMemberDecorate:
        if (count >= 5 && w[3] == DecorationOffset) m.member_offsets[w[1]][w[2]] = w[4];
        break;
      default:
        break;
    }
  }
  if (!compute_entry) return malformed("no GLCompute entry point");

  // A WorkgroupSize built-in overrides the LocalSize mode; its parts may be specialization constants.
  if (m.workgroup_size_id) {
    auto c = m.composites.find(m.workgroup_size_id);
    if (c == m.composites.end() || c->second.size() != 3) return malformed("WorkgroupSize is not a 3-vector constant");
    for (int i = 0; i < 3; ++i) {
      const uint32_t id = c->second[i];
      if (!m.constants.contains(id)) return malformed("WorkgroupSize component is not a scalar constant");
      r.local_size[i] = m.constants.at(id);
      if (auto s = m.spec_ids.find(id); s != m.spec_ids.end()) r.local_size_spec_ids[i] = s->second;
    }
  }

  for (const auto& v : m.variables) {
    auto ptr = m.types.find(v.pointer_type);
    if (ptr == m.types.end() || ptr->second.size() < 4) continue;
    const uint32_t pointee = ptr->second[3];
    if (v.storage_class == StorageClassPushConstant) {
      auto size = type_size(m, pointee);
      r.push_constant_size_known = size.has_value();
      r.push_constant_bytes = size.value_or(0);
      continue;
    }
    auto binding = m.bindings.find(v.id);
    if (binding == m.bindings.end()) continue;
    auto set = m.sets.find(v.id);
    if (set == m.sets.end() || set->second != 0) continue;
    const bool storage = v.storage_class == StorageClassStorageBuffer ||
                         (v.storage_class == StorageClassUniform &&
                          std::find(m.buffer_blocks.begin(), m.buffer_blocks.end(), pointee) != m.buffer_blocks.end());
    (storage ? r.storage_buffers : r.other_bindings).push_back(binding->second);
  }
  // A binding that two blocks alias (one buffer read as floats and as vec4s) counts once.
  for (auto* list : {&r.storage_buffers, &r.other_bindings}) {
    std::sort(list->begin(), list->end());
    list->erase(std::unique(list->begin(), list->end()), list->end());
  }
  return r;
}

}  // namespace lowbit::gpu
