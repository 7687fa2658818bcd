#version 450
// gptq_update: GPTQ's update of the columns after a block, as a matrix product:
//   W[r, c] −= Σ_k E[r, k] · U[col0 + k, c]   for c in [col1, cols),
// E [rows, BLOCK] the block's errors (its first `count` columns), U [cols, cols] row-major. Each
// workgroup computes a TILE×TILE tile of the update (x → column, y → row), staging E and U panels
// through shared memory TILE columns of the block at a time. Groups: ceil((cols − col1) / TILE) ×
// ceil(rows / TILE).

#ifndef TILE
#define TILE 16u
#endif
#ifndef BLOCK
#define BLOCK 128u
#endif
layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) buffer WBuf { float w[]; };
layout(std430, set = 0, binding = 1) readonly buffer UBuf { float u[]; };
layout(std430, set = 0, binding = 2) readonly buffer EBuf { float e[]; };

// Mirrored by GptqUpdatePush in gpu/ops/gptq_op.cpp.
layout(push_constant) uniform Params {
  uint rows;
  uint cols;
  uint col0;   // the block's first column
  uint count;  // its columns
  uint col1;   // the first column updated (col0 + count)
} p;

shared float es[TILE][TILE + 1u];  // es[r][k] = E[r0 + r, k0 + k]
shared float us[TILE][TILE + 1u];  // us[k][c] = U[col0 + k0 + k, c0 + c]

void main() {
  const uint c0 = p.col1 + gl_WorkGroupID.x * TILE, r0 = gl_WorkGroupID.y * TILE;
  const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
  const uint c = c0 + tx, r = r0 + ty;
  precise float acc = 0.0;
  for (uint k0 = 0u; k0 < p.count; k0 += TILE) {
    const uint ke = k0 + tx, ku = k0 + ty;
    es[ty][tx] = (r0 + ty < p.rows && ke < p.count) ? e[(r0 + ty) * BLOCK + ke] : 0.0;
    us[ty][tx] = (ku < p.count && c < p.cols) ? u[(p.col0 + ku) * p.cols + c] : 0.0;
    barrier();
    for (uint k = 0u; k < TILE; ++k) {  // in k order, each product and sum rounded: as core's sweep
      precise float prod = es[ty][k] * us[k][tx];
      acc = acc + prod;
    }
    barrier();
  }
  if (r < p.rows && c < p.cols) w[r * p.cols + c] -= acc;
}
