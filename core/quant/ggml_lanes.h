// Internal to the ggml format sources: eight-lane float and int32 vectors (GCC/Clang vector
// extensions: one AVX2 register on x86-64-v3, narrower registers elsewhere) and the per-lane
// helpers the block kernels use. Every helper computes per lane exactly what its scalar
// counterpart computes (IEEE operations, no reassociation), so lane-parallel kernels keep ggml's
// bits.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace lowbit::ggml {

using F8 = float __attribute__((vector_size(32)));
using I8 = int32_t __attribute__((vector_size(32)));
constexpr int kLanes = 8;

inline F8 splat(float v) { return F8{v, v, v, v, v, v, v, v}; }
inline I8 splat_i(int v) { return I8{v, v, v, v, v, v, v, v}; }
inline F8 to_float(I8 v) { return __builtin_convertvector(v, F8); }
inline F8 abs8(F8 v) { return std::bit_cast<F8>(std::bit_cast<I8>(v) & 0x7fffffff); }
inline I8 clamp8(I8 v, int lo, int hi) {
  v = v < splat_i(lo) ? splat_i(lo) : v;
  return v > splat_i(hi) ? splat_i(hi) : v;
}
inline F8 sqrt8(F8 v) {
  for (int i = 0; i < kLanes; ++i) v[i] = std::sqrt(v[i]);
  return v;
}
inline bool any(I8 m) {
  int r = 0;
  for (int i = 0; i < kLanes; ++i) r |= m[i];
  return r != 0;
}
// ggml's nearest_int, per lane.
inline I8 nearest8(F8 f) {
  const I8 i = std::bit_cast<I8>(f + splat(12582912.f));
  return (i & 0x007fffff) - 0x00400000;
}

// The low bytes of eight int32 lanes to memory (modulo 256: -1 becomes 0xff).
inline void store_bytes8(I8 v, uint8_t* p) {
  using U8x8 = uint8_t __attribute__((vector_size(8)));
  const U8x8 b = __builtin_convertvector(v, U8x8);
  std::memcpy(p, &b, sizeof b);
}
inline F8 load8(const float* p) {
  F8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
// max over the lanes; exact in any order for values that are not NaN.
inline float hmax8(F8 v) {
  float m = v[0];
  for (int i = 1; i < kLanes; ++i) m = m < v[i] ? v[i] : m;
  return m;
}
// roundf per lane (halves away from zero) for |v| < 2^31: truncate, then step by the exact
// remainder.
inline I8 round_away8(F8 v) {
  const I8 t = __builtin_convertvector(v, I8);
  const F8 frac = v - __builtin_convertvector(t, F8);
  return t + (frac >= splat(0.5f) ? splat_i(1) : splat_i(0)) - (frac <= splat(-0.5f) ? splat_i(1) : splat_i(0));
}

}  // namespace lowbit::ggml
