// A minimal SPIR-V reader for what a compute pipeline must agree on with its C++ caller: the local
// size (fixed by the shader, or taken from specialization constants when it declares
// local_size_x_id...), the storage buffers of descriptor set 0, and the size of the push-constant
// block. Pipeline::create uses it to read the local size and to catch a C++ mirror struct or binding
// count that has drifted from its shader. Reads only; the words stay the caller's.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/util/expected.h"

namespace lowbit::gpu {

struct SpirvReflection {
  std::array<uint32_t, 3> local_size{1, 1, 1};         // the shader's values (defaults of spec constants)
  std::array<int, 3> local_size_spec_ids{-1, -1, -1};  // the SpecId of each dimension, -1 where fixed
  std::vector<uint32_t> storage_buffers;               // binding numbers of set 0's storage buffers, ascending, each once
  std::vector<uint32_t> other_bindings;                // bindings of anything else (images, uniforms), ascending
  uint32_t push_constant_bytes = 0;                    // 0 when the shader has no push-constant block
  bool push_constant_size_known = true;                // false when the block holds types this reader cannot size
};

// An Error (ErrorCode::Format) when `words` is not a SPIR-V module with one compute entry point.
Expected<SpirvReflection> reflect_spirv(std::span<const uint32_t> words);

}  // namespace lowbit::gpu
