#version 450
// rope: rotary position embedding applied in place to X[rows, heads·head_dim] (q or k), row i at
// position i mod T, rotating the first 2·half elements of every head (partial rotary: half =
// rotary_dim / 2) by the angles of a table the host computes exactly as core's forward pass does
// (table: cos[T, half] then sin[T, half]). Variants pair the elements as core's RopeStyle says:
//   ROPE_NEOX         (rope_neox)         (j, j + half), Hugging Face's rotate_half;
//   ROPE_INTERLEAVED  (rope_interleaved)  (2j, 2j + 1), llama.cpp's reordered q/k rows.
// One invocation per (row, head, j); common/grid.glsl element_index.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "common/grid.glsl"

layout(std430, set = 0, binding = 0) buffer XBuf { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer TableBuf { float table[]; };

// Mirrored by RopePush in gpu/ops/rope_op.cpp.
layout(push_constant) uniform Params {
  uint rows;
  uint heads;
  uint head_dim;
  uint half_rot;  // rotary_dim / 2
  uint T;
} p;

void main() {
  const uint idx = element_index();
  if (idx >= p.rows * p.heads * p.half_rot) return;
  const uint j = idx % p.half_rot;
  const uint rh = idx / p.half_rot;
  const uint h = rh % p.heads;
  const uint i = rh / p.heads;
  const uint t = i % p.T;
  const float c = table[t * p.half_rot + j];
  const float s = table[(p.T + t) * p.half_rot + j];
  const uint base = (i * p.heads + h) * p.head_dim;
#if defined(ROPE_NEOX)
  const uint a = base + j, b = base + j + p.half_rot;
#elif defined(ROPE_INTERLEAVED)
  const uint a = base + 2u * j, b = base + 2u * j + 1u;
#else
#error "define ROPE_NEOX or ROPE_INTERLEAVED"
#endif
  const float x0 = x[a], x1 = x[b];
  x[a] = x0 * c - x1 * s;
  x[b] = x1 * c + x0 * s;
}
