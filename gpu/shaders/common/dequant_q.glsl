// dequant8 for ggml's 32-element block types (common/dequant.glsl), byte layouts of ggml-common.h
// (core/quant/ggml_blocks.h), blocks of a row back to back, rows `row_stride` bytes apart:
//   q4_0  18 B: d (fp16) | qs[16]            ŵ = (q − 8)·d
//   q4_1  20 B: d, m     | qs[16]            ŵ = q·d + m
//   q5_0  22 B: d | qh[4] | qs[16]           ŵ = (q − 16)·d
//   q5_1  24 B: d, m | qh[4] | qs[16]        ŵ = q·d + m
//   q8_0  34 B: d | qs[32] (int8)            ŵ = q·d
// In the 4- and 5-bit types byte j of qs holds element j in its low nibble and element j + 16 in
// its high nibble, and bit e of qh (little-endian u32) is element e's fifth bit. The products are
// those of core's dequantize_* (core/quant/ggml_q_legacy.cpp).

#if defined(WEIGHT_Q4_0)
#define BLOCK_BYTES 18u
#define QS_OFFSET 2u
#define TYPE0_OFFSET 8
#elif defined(WEIGHT_Q4_1)
#define BLOCK_BYTES 20u
#define QS_OFFSET 4u
#elif defined(WEIGHT_Q5_0)
#define BLOCK_BYTES 22u
#define QH_OFFSET 2u
#define QS_OFFSET 6u
#define TYPE0_OFFSET 16
#elif defined(WEIGHT_Q5_1)
#define BLOCK_BYTES 24u
#define QH_OFFSET 4u
#define QS_OFFSET 8u
#elif defined(WEIGHT_Q8_0)
#define BLOCK_BYTES 34u
#define QS_OFFSET 2u
#endif

void dequant8(WeightParams wp, uint row, uint k, out float v[8]) {
  const uint base = row * wp.row_stride + (k >> 5) * BLOCK_BYTES;
  const uint e = k & 31u;  // 0, 8, 16 or 24
  const float d = w_f16(base);
#if defined(WEIGHT_Q8_0)
  const uint q[2] = uint[2](w_u32(base + QS_OFFSET + e), w_u32(base + QS_OFFSET + 4u + e));
  for (uint i = 0u; i < 8u; ++i) v[i] = float(bitfieldExtract(int(q[i >> 2]), int((i & 3u) << 3), 8)) * d;
#else
  const uint qs = base + QS_OFFSET + (e & 15u);
  const uint q[2] = uint[2](w_u32(qs), w_u32(qs + 4u));
  const uint shift = (e & 16u) >> 2;  // low nibbles for elements 0..15, high for 16..31
#if defined(QH_OFFSET)
  const uint qh = w_u32(base + QH_OFFSET) >> e;
#endif
#if !defined(TYPE0_OFFSET)
  const float m = w_f16(base + 2u);
#endif
  for (uint i = 0u; i < 8u; ++i) {
    uint c = (q[i >> 2] >> (((i & 3u) << 3) + shift)) & 0xFu;
#if defined(QH_OFFSET)
    c |= ((qh >> i) & 1u) << 4;
#endif
#if defined(TYPE0_OFFSET)
    v[i] = float(int(c) - TYPE0_OFFSET) * d;
#else
    v[i] = float(c) * d + m;
#endif
  }
#endif
}
