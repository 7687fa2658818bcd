// Float arithmetic that must match the CPU bit for bit where Vulkan's own is not exact enough:
// OpFDiv may be off by 2.5 ulp and the rounding of fp16 conversions is the implementation's, while
// core's quantizers divide with IEEE round-to-nearest-even and round scales to fp16 the same way.
// Addition, subtraction, multiplication, min, max and roundEven are exact in Vulkan and used as is.
// sqrt is not correctly rounded in Vulkan either (sqrt_rn is). nearest_int is ggml's rounding.
// Everything here works on the bit patterns with integer arithmetic, subnormals included.
#ifndef LOWBIT_COMMON_EXACT_FLOAT_GLSL
#define LOWBIT_COMMON_EXACT_FLOAT_GLSL

// The biased exponent e and the significand m in [2^23, 2^24) of a finite non-zero |f| given as its
// exponent field e and fraction m (subnormals normalized: e may go below 1).
void normalize_significand(inout int e, inout uint m) {
  if (e == 0) {
    e = 1;
    while ((m & 0x800000u) == 0u) {
      m <<= 1;
      --e;
    }
  } else {
    m |= 0x800000u;
  }
}

// a / b rounded to nearest even (IEEE binary32 division). Zeros, infinities and NaNs give IEEE's
// answers too: a zero divisor must not reach the normalization loop, which would never end (a
// weight of inf, or a range that overflows, can make one).
float div_rn(float a, float b) {
  const uint ua = floatBitsToUint(a), ub = floatBitsToUint(b);
  const uint sign = (ua ^ ub) & 0x80000000u;
  int ea = int((ua >> 23) & 0xFFu), eb = int((ub >> 23) & 0xFFu);
  uint ma = ua & 0x7FFFFFu, mb = ub & 0x7FFFFFu;
  const bool a_zero = ea == 0 && ma == 0u, b_zero = eb == 0 && mb == 0u;
  if ((ea == 255 && ma != 0u) || (eb == 255 && mb != 0u) || (a_zero && b_zero) || (ea == 255 && eb == 255))
    return uintBitsToFloat(0x7FC00000u);                                      // NaN
  if (ea == 255 || b_zero) return uintBitsToFloat(sign | 0x7F800000u);        // ±inf
  if (a_zero || eb == 255) return uintBitsToFloat(sign);                      // ±0
  normalize_significand(ea, ma);
  normalize_significand(eb, mb);
  int e = ea - eb + 127;  // biased exponent of the quotient once ma / mb is in [1, 2)
  if (ma < mb) {
    ma <<= 1;
    --e;
  }
  // 26 quotient bits by long division: q in [2^25, 2^26), sticky: a non-zero remainder.
  uint q = 0u, r = ma;
  for (int i = 0; i < 26; ++i) {
    q <<= 1;
    if (r >= mb) {
      r -= mb;
      q |= 1u;
    }
    r <<= 1;
  }
  const bool sticky = r != 0u;
  // Keep 24 bits (fewer for a subnormal result) and round once.
  int shift = 2;
  if (e <= 0) {
    shift += 1 - e;
    if (shift > 27) return uintBitsToFloat(sign);  // below half the smallest subnormal
  }
  const uint kept0 = q >> shift;
  const uint rest = q & ((1u << shift) - 1u);
  const uint half_ = 1u << (shift - 1);
  const uint kept = kept0 + ((rest > half_ || (rest == half_ && (sticky || (kept0 & 1u) == 1u))) ? 1u : 0u);
  if (e <= 0) return uintBitsToFloat(sign | kept);  // kept == 2^23 is the smallest normal, as it should be
  // kept includes the implicit bit (2^23), which adds one to the exponent field; a carry to 2^24
  // moves to the next binade by itself.
  const uint bits = (uint(e - 1) << 23) + kept;
  return uintBitsToFloat(sign | (bits >= 0x7F800000u ? 0x7F800000u : bits));
}

// The IEEE binary16 bit pattern nearest to f (ties to even; overflow to infinity), as F16C does.
uint f32_to_f16_bits(float f) {
  const uint u = floatBitsToUint(f);
  const uint sign = (u >> 16) & 0x8000u;
  const uint a = u & 0x7FFFFFFFu;
  if (a >= 0x7F800000u) return sign | (a > 0x7F800000u ? 0x7E00u : 0x7C00u);
  if (a >= 0x477FF000u) return sign | 0x7C00u;  // 65520 and up round to infinity
  if (a < 0x38800000u) {                         // below 2^-14: a subnormal half, or zero
    const int e = int(a >> 23);
    if (e < 102) return sign;  // below 2^-25
    const uint m = (a & 0x7FFFFFu) | 0x800000u;
    const uint shift = uint(126 - e);  // m · 2^(e−150) in units of 2^-24
    const uint kept = m >> shift, rest = m & ((1u << shift) - 1u), half_ = 1u << (shift - 1u);
    return sign | (kept + ((rest > half_ || (rest == half_ && (kept & 1u) == 1u)) ? 1u : 0u));
  }
  const uint r = a - 0x38000000u;  // exponent bias 127 → 15
  const uint kept = r >> 13, rest = r & 0x1FFFu;
  return sign | (kept + ((rest > 0x1000u || (rest == 0x1000u && (kept & 1u) == 1u)) ? 1u : 0u));
}

// The float value of a binary16 bit pattern (infinities and NaNs included: a scale that overflowed
// fp16 is stored as inf, and its products must be the CPU's).
float f16_bits_to_f32(uint h) {
  const uint sign = (h & 0x8000u) << 16;
  const uint e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
  if (e == 31u) return uintBitsToFloat(sign | 0x7F800000u | (m << 13));
  if (e == 0u) return uintBitsToFloat(sign) + (((h & 0x8000u) != 0u) ? -1.0 : 1.0) * float(m) * 5.9604644775390625e-8;
  return uintBitsToFloat(sign | ((e + 112u) << 23) | (m << 13));
}

// sqrt(a) rounded to nearest even (IEEE binary32 square root; NaN below zero, inf for inf): the 25-bit
// integer root of the significand (scaled to an even power of two) digit by digit, then one rounding.
float sqrt_rn(float a) {
  const uint ua = floatBitsToUint(a);
  int e = int((ua >> 23) & 0xFFu);
  uint m = ua & 0x7FFFFFu;
  if (e == 0 && m == 0u) return a;  // ±0
  if ((ua & 0x80000000u) != 0u || (e == 255 && m != 0u)) return uintBitsToFloat(0x7FC00000u);  // NaN
  if (e == 255) return a;                                                                       // +inf
  normalize_significand(e, m);
  // a = m · 2^(e − 150), m in [2^23, 2^24). Shift m to [2^24, 2^26) with an even exponent left.
  int e2 = e - 150;
  if ((e2 & 1) != 0) {
    m <<= 1;
    e2 -= 1;
  } else {
    m <<= 2;
    e2 -= 2;
  }
  // r = floor(sqrt(m · 2^24)) in [2^24, 2^25): 13 bit pairs of m, then 12 zero pairs.
  uint r = 0u, rem = 0u;
  for (int i = 0; i < 25; ++i) {
    const uint pair_ = i < 13 ? (m >> (24 - 2 * i)) & 3u : 0u;
    rem = (rem << 2) | pair_;
    const uint t = (r << 2) | 1u;
    if (rem >= t) {
      rem -= t;
      r = (r << 1) | 1u;
    } else {
      r <<= 1;
    }
  }
  // sqrt(a) = sqrt(m · 2^24) · 2^((e2 − 24) / 2); keep 24 bits of r, round on the last with the
  // remainder as sticky (an exact tie cannot happen for a square root).
  const uint kept = (r >> 1) + (((r & 1u) == 1u && (rem != 0u || ((r >> 1) & 1u) == 1u)) ? 1u : 0u);
  const int p = (e2 - 24) / 2 + 1;  // value = kept · 2^p, kept in [2^23, 2^24]
  return uintBitsToFloat((uint(p + 23 + 127 - 1) << 23) + kept);
}

// ggml's nearest_int: round half to even through the 1.5·2^23 trick (for |f| < 2^22; beyond, the
// same bits as ggml's).
int nearest_int(float f) {
  precise float v = f + 12582912.0;
  return (floatBitsToInt(v) & 0x007fffff) - 0x00400000;
}

#endif  // LOWBIT_COMMON_EXACT_FLOAT_GLSL
