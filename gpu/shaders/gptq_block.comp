#version 450
// gptq_block: one column block of GPTQ (core/quant/gptq.h) onto the integer family (or, in the
// GGML_LEGACY and GGML_K variants, a ggml block type), rows in parallel, the block's sweep inside
// this one dispatch — as core's sweep() does it for a row:
//   the grids of the block's groups from the row's weights at the block's start (the reference
//   GPTQ's find_params on W, which the sweep does not update until the block is done);
//   for each column j of the block: q = grid value of w_j (code stored), e = (w_j − q) / U[j][j],
//   w_k −= e · U[j][k] for the block's later columns k; w_j = q.
// Then E (the block's errors) goes to gptq_update.comp for the columns after the block. Each
// workgroup takes ROWS rows, their block staged in shared memory: for each column j, invocation r
// (r < ROWS, the row's "leader") quantizes row r's w_j as above, then every invocation k of the
// workgroup applies the update to column k of all its rows (one read of U[j][k] for them) — each
// weight sees the same operations in the same order as in core's sweep, so the result is the CPU's
// bit for bit, with BLOCK-fold parallelism in the updates. The grids read the block-start weights
// from W in memory, which is written back only at the block's end. W [rows, cols] row-major fp32
// (the block's columns are replaced by their grid values), U [cols, cols] row-major (upper),
// E [rows, BLOCK], codes one uint per weight [rows, cols], grids (scale, zero) pairs [rows, groups]
// (a ggml type's groups are its sub-blocks), loss one float per row (accumulated over the blocks:
// Σ (w − q)² / U[j][j]² / 2).
// Static grids (p.static_grids: act-order, static groups; the int family's one grid per row or
// groups wider than the block too — core's grids fixed up front): the grids come in, fixed by the
// host from the original weights, W and U are in the sweep's (permuted) column order, and column j's
// grid is that of its original column perm[j] (binding 6); codes are written in the sweep's order.
// A ggml type's grids fixed up front (p.ggml_static, in this base variant: core's GgmlTarget with
// static groups) are its blocks' sub-block grids as (scale, offset); the codes come in holding the
// blocks' codes (signed), F (binding 7) the weights they were fixed from, and a weight still equal
// to its value there keeps its code, another takes the nearest code of the grid in [qmin, qmax].

#ifndef BLOCK
#define BLOCK 128u
#endif
#define ROWS 32u  // rows per workgroup
layout(local_size_x = 128, local_size_y = 1, local_size_z = 1) in;  // BLOCK invocations

#include "common/exact_float.glsl"
#include "common/grid.glsl"
#include "common/int_grid.glsl"

layout(std430, set = 0, binding = 0) buffer WBuf { float w[]; };
layout(std430, set = 0, binding = 1) readonly buffer UBuf { float u[]; };
layout(std430, set = 0, binding = 2) writeonly buffer EBuf { float e[]; };
layout(std430, set = 0, binding = 3) buffer CodeBuf { uint codes[]; };
layout(std430, set = 0, binding = 4) buffer GridBuf { float grids[]; };
layout(std430, set = 0, binding = 5) buffer LossBuf { float loss[]; };

// Mirrored by GptqBlockPush in gpu/ops/gptq_op.cpp.
layout(push_constant) uniform Params {
  uint rows;
  uint cols;
  uint col0;    // the block's first column
  uint count;   // its columns (≤ BLOCK)
  uint group;   // columns per group (divides BLOCK; the block starts on a group)
  uint groups;  // groups per row
  uint bits;
  uint symmetric;
  uint fp16_scales;
  uint static_grids;  // the int family: grids fixed up front (above)
  uint weighted;      // the legacy ggml types: the fix through ggml's importance-weighted search
  uint ggml_static;   // the base variant: a ggml type's grids fixed up front (above)
  int qmin;           // … and its codes' range
  int qmax;
} p;

#if defined(GGML_LEGACY)
// Variants onto ggml's legacy block types (Q4_0, Q4_1, Q5_0, Q5_1 or Q8_0 defined too), as core's
// GgmlTarget: each 32-column block's grid and codes come from ggml's reference quantizer on the
// block-start weights (common/ggml_legacy.glsl); a weight still equal to its value there keeps that
// code, another takes the nearest code of the grid (ggml_nearest_code). Codes are signed (the
// stored code plus the type's qmin); grids are (scale, offset) = (d, m), or (d, −0) for type 0.
#include "common/ggml_legacy.glsl"
// With p.weighted (`--weighted-grids`), the fix is ggml's importance-weighted quantizer on the
// block's 32 weights as core's GgmlTarget runs it (one row of 32: σ² from the block), importances
// one per column (H[i][i], binding 6).
layout(std430, set = 0, binding = 6) readonly buffer ImportanceBuf { float importance[]; };
#elif defined(GGML_K)
// Variants onto ggml's K-quant types (Q2_K … Q6_K defined too), as core's GgmlTarget: when the sweep
// reaches a super-block's first column, ggml's reference quantizer runs on its 256 weights as they
// stand at the block's start (common/ggml_k.glsl; the super-block spans this column block and the
// next, whose columns already carry every earlier block's updates). Its packed bytes go to B (one
// slot of whole words per super-block), its sub-block grids to the grids, its codes to the codes
// and the weights it saw to F [rows, 256]; in both column blocks a weight still equal to what the
// quantizer saw keeps its code, another takes the nearest code of its sub-block's grid.
layout(std430, set = 0, binding = 6) buffer FixBuf { float fixw[]; };
layout(std430, set = 0, binding = 7) writeonly buffer BlockBuf { uint block_words[]; };
uint k_base;
float k_x(uint i) { return w[k_base + i]; }
#if defined(K_WEIGHTED)
// With K_WEIGHTED (`--weighted-grids`: the gptq_block_weighted_q*_k variants), the fix is ggml's
// importance-weighted quantizer on the super-block as core's GgmlTarget runs it (one row of 256,
// σ² from the super-block), importances one per column (H[i][i], binding 8).
layout(std430, set = 0, binding = 8) readonly buffer ImportanceBuf { float importance[]; };
uint k_col;  // the super-block's first column
float k_qw(uint i) { return importance[k_col + i]; }
#endif
#include "common/ggml_k.glsl"
#endif
#if !defined(GGML_LEGACY) && !defined(GGML_K)
layout(std430, set = 0, binding = 6) readonly buffer PermBuf { uint perm[]; };
layout(std430, set = 0, binding = 7) readonly buffer FixBuf { float fixw[]; };  // p.ggml_static: [rows, cols]
#endif

// The nearest code of w on grid (scale, offset) g in [qmin, qmax], as core's ggml_nearest_code.
int nearest_code(vec2 g, float w, int qmin, int qmax) {
  if (g.x == 0.0) return 0;
  precise float c = w - g.y;
  const float v = div_rn(c, g.x);
  if (!(v > float(qmin))) return qmin;
  if (v >= float(qmax)) return qmax;
  return clamp(nearest_int(v), qmin, qmax);
}

#if defined(GGML_LEGACY) || defined(GGML_K)
#if defined(Q4_0)
const int kQmin = -8, kQmax = 7;
#elif defined(Q5_0)
const int kQmin = -16, kQmax = 15;
#elif defined(Q4_1)
const int kQmin = 0, kQmax = 15;
#elif defined(Q5_1)
const int kQmin = 0, kQmax = 31;
#elif defined(Q8_0)
const int kQmin = -128, kQmax = 127;
#elif defined(Q2_K)
const int kQmin = 0, kQmax = 3;
#elif defined(Q3_K)
const int kQmin = -4, kQmax = 3;
#elif defined(Q4_K)
const int kQmin = 0, kQmax = 15;
#elif defined(Q5_K)
const int kQmin = 0, kQmax = 31;
#elif defined(Q6_K)
const int kQmin = -32, kQmax = 31;
#endif
#endif

shared float xs[ROWS][BLOCK + 1u];  // the rows' block (padded: a leader's column is conflict-free)
shared float errs[ROWS];            // column j's error in each row
// Row col0 + j of U's block, U[col0 + j][col0 + k] at [j & 1][k]: invocation k reads the next
// column's element from memory while this column is worked on, so that neither the leaders (the
// diagonal) nor the updates wait for memory at each column.
shared float urow[2][BLOCK];

void main() {
  const uint t = gl_LocalInvocationID.x;
  const uint row0 = group_index() * ROWS;
  if (row0 >= p.rows) return;  // uniform per workgroup
  const uint nrows = min(ROWS, p.rows - row0);
  if (t < p.count) {
    for (uint r = 0u; r < nrows; ++r) xs[r][t] = w[(row0 + r) * p.cols + p.col0 + t];
    urow[0][t] = u[p.col0 * p.cols + p.col0 + t];
  }
  barrier();
  const bool leader = t < nrows;
  const uint lr = leader ? t : 0u;  // the leader's row in the workgroup
  const uint row = row0 + lr;
  const uint base = row * p.cols + p.col0;

  vec2 grid = vec2(1.0, 0.0);
  float row_loss = 0.0;
#if defined(GGML_LEGACY)
  int fix_codes[32];  // the codes of the current 32-column block at the fix
#endif
  for (uint i = 0u; i < p.count; ++i) {
    const uint col = p.col0 + i, cur = i & 1u;
    const bool next = i + 1u < p.count && t < p.count;
    const float u_next = next ? u[(col + 1u) * p.cols + p.col0 + t] : 0.0;  // in flight during this column
    if (leader) {
      const float xi = xs[lr][i];
#if defined(GGML_LEGACY)
      if (col % 32u == 0u) {  // the block's grid and codes, from the block-start weights
        float v[32];
        for (uint k = 0u; k < 32u; ++k) v[k] = w[base + i + k];
        uint L[32];
        uint d_bits, m_bits;
        if (p.weighted != 0u) {
          precise float sum_x2 = 0.0;
          for (uint k = 0u; k < 32u; ++k) sum_x2 += v[k] * v[k];
          const float sigma2 = div_rn(sum_x2, 32.0);
          float wt[32];
          for (uint k = 0u; k < 32u; ++k) {
            precise float x2 = v[k] * v[k];
            precise float a = sigma2 + x2;
            precise float wk = importance[col + k] * sqrt_rn(a);
            wt[k] = wk;
          }
          legacy_quantize_weighted(v, wt, L, d_bits, m_bits);
        } else {
          legacy_quantize(v, L, d_bits, m_bits);
        }
#if defined(Q4_1) || defined(Q5_1)
        grid = vec2(f16_bits_to_f32(d_bits), f16_bits_to_f32(m_bits));
#else
        grid = vec2(f16_bits_to_f32(d_bits), -0.0);
#endif
        for (uint k = 0u; k < 32u; ++k)
#if defined(Q8_0)
          fix_codes[k] = int(L[k] << 24) >> 24;
#else
          fix_codes[k] = int(L[k]) + kQmin;
#endif
        const uint gi = row * p.groups + col / 32u;
        grids[2u * gi] = grid.x;
        grids[2u * gi + 1u] = grid.y;
      }
      const int c = (xi == w[base + i] || grid.x == 0.0) ? fix_codes[i % 32u] : nearest_code(grid, xi, kQmin, kQmax);
      codes[base + i] = uint(c);
      precise float scaled = grid.x * float(c);
      precise float q = scaled + grid.y;
#elif defined(GGML_K)
      if (col % 256u == 0u) {  // the super-block's grids and codes, from the block-start weights
        k_base = base + i;
#if defined(K_WEIGHTED)
        k_col = col;
#endif
        for (uint k = 0u; k < K_PAIR_WORDS; ++k) k_out[k] = 0u;
        k_quantize(0u);
        const uint slot_words = (K_BLOCK_BYTES + 3u) / 4u;
        const uint slot = (row * (p.cols / 256u) + col / 256u) * slot_words;
        for (uint k = 0u; k < slot_words; ++k) block_words[slot + k] = k_out[k];
        for (uint j = 0u; j < 256u / K_GRID_SUB; ++j) {
          const vec2 g = k_grid(j);
          const uint gi = row * p.groups + col / K_GRID_SUB + j;
          grids[2u * gi] = g.x;
          grids[2u * gi + 1u] = g.y;
        }
        for (uint k = 0u; k < 256u; ++k) {
          codes[base + i + k] = uint(k_code(k));
          fixw[row * 256u + k] = w[base + i + k];
        }
      }
      if (i == 0u || col % K_GRID_SUB == 0u) {
        const uint gi = row * p.groups + col / K_GRID_SUB;
        grid = vec2(grids[2u * gi], grids[2u * gi + 1u]);
      }
      const int fix_code = int(codes[base + i]);
      const int c = (xi == fixw[row * 256u + col % 256u] || grid.x == 0.0) ? fix_code : nearest_code(grid, xi, kQmin, kQmax);
      codes[base + i] = uint(c);
      precise float scaled = grid.x * float(c);
      precise float q = scaled + grid.y;
#else
      if (p.static_grids != 0u) {  // the original column's grid, fixed up front
        const uint gi = row * p.groups + perm[col] / p.group;
        grid = vec2(grids[2u * gi], grids[2u * gi + 1u]);
      } else if (col % p.group == 0u) {  // the group's grid, from the block-start weights
        float lo = 0.0, hi = 0.0;
        for (uint k = i; k < i + p.group; ++k) {
          const float v = w[base + k];
          lo = min(lo, v);
          hi = max(hi, v);
        }
        grid = int_minmax_grid(lo, hi, p.bits, p.symmetric != 0u, 1.0, p.fp16_scales != 0u);
        const uint gi = row * p.groups + col / p.group;
        grids[2u * gi] = grid.x;
        grids[2u * gi + 1u] = grid.y;
      }
      precise float q;
      if (p.ggml_static != 0u) {
        const int fix_code = int(codes[base + i]);
        const int c = (xi == fixw[base + i] || grid.x == 0.0) ? fix_code : nearest_code(grid, xi, p.qmin, p.qmax);
        codes[base + i] = uint(c);
        precise float scaled = grid.x * float(c);
        q = scaled + grid.y;
      } else {
        const float code = int_code(xi, grid, p.bits);
        codes[base + i] = uint(code);
        q = grid.x * (code - grid.y);
      }
#endif
      precise float diff = xi - q;
      const float d = urow[cur][i];  // U[col][col]
      const float err = div_rn(diff, d);
      row_loss += div_rn(diff * diff, d * d) * 0.5;
      e[row * BLOCK + i] = err;
      xs[lr][i] = q;
      errs[lr] = err;
    }
    barrier();
    if (t > i && t < p.count) {  // column t of every row, rounded as written (no fusing): as core's sweep
      const float ut = urow[cur][t];
      for (uint r = 0u; r < nrows; ++r) {
        precise float prod = errs[r] * ut;
        xs[r][t] = xs[r][t] - prod;
      }
    }
    if (next) urow[cur ^ 1u][t] = u_next;  // read by the next column, after the barrier
    barrier();
  }
  if (t < p.count)
    for (uint r = 0u; r < nrows; ++r) w[(row0 + r) * p.cols + p.col0 + t] = xs[r][t];
  if (leader) loss[row] += row_loss;
}
