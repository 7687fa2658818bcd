// Conversions between fp32 and the 16-bit float types (IEEE fp16 and bfloat16), bit-exact with
// ggml's reference conversions: fp32 -> fp16 rounds to nearest even (as F16C's vcvtps2ph does),
// fp32 -> bf16 rounds to nearest even and keeps NaNs quiet (as ggml_compute_fp32_to_bf16 does).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace lowbit {

inline float bf16_to_f32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

inline uint16_t f32_to_bf16(float f) {
  uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 64);  // quiet NaN
  return static_cast<uint16_t>((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
}

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

// Bulk conversions (vectorized where the compiler can). `src` need not be 2-byte aligned.
void f16_to_f32(const uint16_t* src, float* dst, size_t n);
void bf16_to_f32(const uint16_t* src, float* dst, size_t n);

}  // namespace lowbit
