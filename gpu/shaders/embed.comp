#version 450
// embed: X[i, :] = tok_embd[ids[i], :] for the rows of B windows of T tokens, plus, with
// EMBED_POSITIONS, the learned position embedding pos_embd[i mod T, :] (gpt2). Variants embed_tokens
// and embed_positions. Ids are checked on the host (core's embed_windows gives the error).
// One invocation per element of X; common/grid.glsl element_index.

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) readonly buffer IdBuf { uint ids[]; };
layout(std430, set = 0, binding = 1) readonly buffer TokBuf { float tok[]; };
layout(std430, set = 0, binding = 2) writeonly buffer XBuf { float x[]; };
#if defined(EMBED_POSITIONS)
layout(std430, set = 0, binding = 3) readonly buffer PosBuf { float pos[]; };
#endif

// Mirrored by EmbedPush in gpu/ops/embed_op.cpp.
layout(push_constant) uniform Params {
  uint rows;
  uint hidden;
  uint T;
} p;

void main() {
  const uint idx = element_index();
  if (idx >= p.rows * p.hidden) return;
  const uint i = idx / p.hidden;
  const uint c = idx % p.hidden;
  float v = tok[ids[i] * p.hidden + c];
#if defined(EMBED_POSITIONS)
  v += pos[(i % p.T) * p.hidden + c];
#endif
  x[idx] = v;
}
