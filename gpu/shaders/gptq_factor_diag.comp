#version 450
// gptq_factor_diag: one step of the blocked Cholesky of gpu/ops/gptq_factor_op.h. One workgroup of
// NB invocations factors the diagonal block A[k0 + i][k0 + j] (kb = min(NB, n − k0) rows) in place,
// L_kk L_kkᵀ = A_kk, right-looking in shared memory (invocation t owns row t), and writes
// D_k = L_kk⁻¹ (NB × NB row-major, zero above the diagonal and past kb; invocation t solves its
// column by forward substitution) to dinv[k · NB²], for the panel below the block and for the
// block row of L⁻¹ later. A pivot that is not a positive finite number — the matrix is not positive
// definite in float arithmetic — sets bit 2 of status. One workgroup; reads only the lower triangle.

#define NB 64u
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(std430, set = 0, binding = 0) buffer ABuf { float a[]; };
layout(std430, set = 0, binding = 1) buffer DinvBuf { float dinv[]; };
layout(std430, set = 0, binding = 2) buffer StatusBuf { uint status[]; };

// Mirrored by FactorDiagPush in gpu/ops/gptq_factor_op.cpp.
layout(push_constant) uniform Params {
  uint n;
  uint k0;     // the block's first row and column
  uint dbase;  // its D in dinv (k · NB²)
} p;

shared float s[NB][NB + 1u];
shared float xinv[NB][NB + 1u];  // xinv[i][t] = L_kk⁻¹[i][t], column t invocation t's own

// Inf or NaN, from the bits (immune to any fast-math folding of isnan/isinf).
bool not_finite(float v) { return (floatBitsToUint(v) & 0x7f800000u) == 0x7f800000u; }

void main() {
  const uint t = gl_LocalInvocationID.x;
  const uint kb = min(NB, p.n - p.k0);
  for (uint r = 0u; r < NB; ++r) s[r][t] = (r < kb && t <= r) ? a[(p.k0 + r) * p.n + p.k0 + t] : 0.0;
  barrier();
  bool ok = true;
  for (uint j = 0u; j < kb; ++j) {
    const float pivot = s[j][j];
    ok = ok && pivot > 0.0 && !not_finite(pivot);
    const float d = sqrt(pivot);
    barrier();  // every invocation has read the pivot before invocation j replaces it
    if (t == j) {
      s[j][j] = d;
    } else if (t > j && t < kb) {
      s[t][j] /= d;
    }
    barrier();
    if (t > j && t < kb)
      for (uint l = j + 1u; l <= t; ++l) s[t][l] -= s[t][j] * s[l][j];
    barrier();
  }
  if (!ok && t == 0u) atomicOr(status[0], 2u);
  for (uint r = 0u; r < kb; ++r)
    if (t <= r) a[(p.k0 + r) * p.n + p.k0 + t] = s[r][t];

  // Column t of L_kk⁻¹: L x = e_t, x_i = 0 for i < t, solved in shared memory (the invocation reads
  // back only its own column: a chain of ~NB²/2 dependent reads, which from device memory cost each
  // a trip to L2), then written out row by row.
  for (uint i = 0u; i < NB; ++i) xinv[i][t] = 0.0;
  if (t < kb) {
    xinv[t][t] = 1.0 / s[t][t];
    for (uint i = t + 1u; i < kb; ++i) {
      float acc = 0.0;
      for (uint m = t; m < i; ++m) acc += s[i][m] * xinv[m][t];
      xinv[i][t] = -acc / s[i][i];
    }
  }
  const uint col = p.dbase + t;
  for (uint i = 0u; i < NB; ++i) dinv[col + i * NB] = xinv[i][t];
}
