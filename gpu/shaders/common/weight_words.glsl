// The weight matrix as raw 32-bit words, and byte-level readers over it, for the dequantizers
// (common/dequant_*.glsl). Declares the buffer `WeightBuf` at set 0, binding WEIGHT_BINDING (define
// it before including). Every format is read through uint words and shifts, so no 8- or 16-bit
// storage feature is needed; the host pads the buffer to a whole number of words. Offsets are in
// bytes, little-endian as ggml and the host write them; a reader never touches a word that holds
// none of the bytes it was asked for.
#ifndef LOWBIT_COMMON_WEIGHT_WORDS_GLSL
#define LOWBIT_COMMON_WEIGHT_WORDS_GLSL

#ifndef WEIGHT_BINDING
#error "define WEIGHT_BINDING before including common/weight_words.glsl"
#endif

layout(std430, set = 0, binding = WEIGHT_BINDING) readonly buffer WeightBuf { uint weight_words[]; };

// The byte at `off`.
uint w_u8(uint off) { return (weight_words[off >> 2] >> ((off & 3u) << 3)) & 0xFFu; }

// The 16-bit value at an even `off` (every fp16 field of a ggml block lies at an even offset).
uint w_u16(uint off) { return (weight_words[off >> 2] >> ((off & 2u) << 3)) & 0xFFFFu; }

float w_f16(uint off) { return unpackHalf2x16(w_u16(off)).x; }

// The four bytes at `off`, any alignment, byte off in bits 0..7.
uint w_u32(uint off) {
  const uint i = off >> 2;
  const uint s = (off & 3u) << 3;
  const uint lo = weight_words[i] >> s;
  return s == 0u ? lo : lo | (weight_words[i + 1u] << (32u - s));
}

// Byte j (0..3) of a word.
uint byte_of(uint word, uint j) { return (word >> (j << 3)) & 0xFFu; }

#endif  // LOWBIT_COMMON_WEIGHT_WORDS_GLSL
