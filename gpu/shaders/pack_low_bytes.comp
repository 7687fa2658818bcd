#version 450
// pack_low_bytes: out[i] = the low bytes of in[4i .. 4i + 3], in[4i] in the lowest (a word past the
// end of `in` packs as 0). GPTQ's sweep leaves one code per word; its download takes a quarter of the
// bytes this way (an 11008-wide layer of 4096 rows: 45 MB instead of 180 MB), the host widening them
// again (gpu/ops/gptq_op.cpp). One invocation per output word; common/grid.glsl element_index.

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) readonly buffer InBuf { uint words[]; };
layout(std430, set = 0, binding = 1) writeonly buffer OutBuf { uint packed[]; };

// Mirrored by PackBytesPush in gpu/ops/gptq_op.cpp.
layout(push_constant) uniform Params {
  uint n;  // words of `in`
} p;

void main() {
  const uint i = element_index();
  if (i >= (p.n + 3u) / 4u) return;
  uint v = 0u;
  for (uint b = 0u; b < 4u; ++b)
    if (4u * i + b < p.n) v |= (words[4u * i + b] & 0xFFu) << (8u * b);
  packed[i] = v;
}
