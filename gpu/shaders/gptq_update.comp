#version 450
// gptq_update: GPTQ's update of the columns after a block, as a matrix product:
//   W[r, c] −= Σ_k E[r, k] · U[col0 + k, c]   for c in [col1, cols),
// E [rows, BLOCK] the block's errors (its first `count` columns), U [cols, cols] row-major. Each
// workgroup computes a TILE×TILE tile of the update (x → column, y → row), each invocation 8 × 8 of
// it (rows 4·ty + a and 64 + 4·ty + a, columns 4·tx + b and 64 + 4·tx + b, a, b < 4: per k, 16 staged
// reads for 64 products, the columns as 16-byte runs), staging E and U panels through shared memory
// KC columns of the block at a time. Every value's sum runs over k in order from zero with each
// product and sum rounded on its own (`precise`, no fused multiply-add): core's sweep does the same
// operations, so the result is the CPU's bit for bit. Groups: ceil((cols − col1) / TILE) ×
// ceil(rows / TILE).

#ifndef BLOCK
#define BLOCK 128u
#endif
#define TILE 128u
#define KC 16u
#define LDU 132u  // floats per staged row of U: TILE + 4 (16-byte aligned rows)
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

shared float es[TILE][KC + 1u];  // es[r][k] = E[r0 + r, k0 + k]
shared float us[KC * LDU];       // us[k · LDU + c] = U[col0 + k0 + k, c0 + c]

// The offset in the tile of this invocation's row (column) a (b), a < 8.
#define ROW(a) (((a) >> 2) * 64u + 4u * ty + ((a) & 3u))
#define COL(b) (((b) >> 2) * 64u + 4u * tx + ((b) & 3u))

void main() {
  const uint c0 = p.col1 + gl_WorkGroupID.x * TILE, r0 = gl_WorkGroupID.y * TILE;
  const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y, t = ty * 16u + tx;
  precise float acc[8][8];
  for (uint a = 0u; a < 8u; ++a)
    for (uint b = 0u; b < 8u; ++b) acc[a][b] = 0.0;
  for (uint k0 = 0u; k0 < p.count; k0 += KC) {
    for (uint i = t; i < TILE * KC; i += 256u) {
      const uint r = i / KC, k = i % KC;  // E: along k (its rows are BLOCK floats)
      es[r][k] = (r0 + r < p.rows && k0 + k < p.count) ? e[(r0 + r) * BLOCK + k0 + k] : 0.0;
      const uint ku = i / TILE, c = i % TILE;  // U: along the columns
      us[ku * LDU + c] = (k0 + ku < p.count && c0 + c < p.cols) ? u[(p.col0 + k0 + ku) * p.cols + c0 + c] : 0.0;
    }
    barrier();
    for (uint k = 0u; k < KC; ++k) {  // in k order, each product and sum rounded: as core's sweep
      float ev[8], uv[8];
      for (uint a = 0u; a < 8u; ++a) ev[a] = es[ROW(a)][k];
      for (uint b = 0u; b < 8u; ++b) uv[b] = us[k * LDU + COL(b)];
      for (uint a = 0u; a < 8u; ++a)
        for (uint b = 0u; b < 8u; ++b) {
          precise float prod = ev[a] * uv[b];
          acc[a][b] = acc[a][b] + prod;
        }
    }
    barrier();
  }
  for (uint a = 0u; a < 8u; ++a)
    for (uint b = 0u; b < 8u; ++b) {
      const uint r = r0 + ROW(a), c = c0 + COL(b);
      if (r < p.rows && c < p.cols) w[r * p.cols + c] -= acc[a][b];
    }
}
