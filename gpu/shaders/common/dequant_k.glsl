// dequant8 for ggml's K-quants (common/dequant.glsl): 256-element super-blocks with the byte layouts
// of ggml-common.h (core/quant/ggml_blocks.h), back to back along a row, rows `row_stride` bytes
// apart. Element e of a super-block (eight aligned ones share a sub-block scale):
//   q2_k  84 B: scales[16] | qs[64] | d, dmin      sub-block e/16 (scale low nibble, min high);
//         code (qs[32·(e/128) + e%32] >> 2·((e/32)%4)) & 3;          ŵ = d·sc·q − dmin·m
//   q3_k 110 B: hmask[32] | qs[64] | scales[12] | d   6-bit signed scale e/16 (stored + 32);
//         code as q2_k minus 4 where bit e/32 of hmask[e%32] is clear;  ŵ = d·sc·q
//   q4_k 144 B: d, dmin | scales[12] | qs[128]     6-bit scale and min e/32 (get_scale_min_k4);
//         code nibble (e/32)%2 of qs[32·(e/64) + e%32];                 ŵ = d·sc·q − dmin·m
//   q5_k 176 B: d, dmin | scales[12] | qh[32] | qs[128]  as q4_k, plus 16 where bit e/32 of qh[e%32];
//   q6_k 210 B: ql[128] | qh[64] | scales[16] (int8) | d   with h = e/128, t = (e/32)%4, l = e%32:
//         low nibble t/2 of ql[64h + l + 32·(t%2)], high bits 2t of qh[32h + l], minus 32;
//         ŵ = d·sc[e/16]·q.
// The products are those of core's dequantize_* (core/quant/ggml_k_quants.cpp).

#if defined(WEIGHT_Q2_K)
#define SUPER_BYTES 84u
#elif defined(WEIGHT_Q3_K)
#define SUPER_BYTES 110u
#elif defined(WEIGHT_Q4_K)
#define SUPER_BYTES 144u
#elif defined(WEIGHT_Q5_K)
#define SUPER_BYTES 176u
#elif defined(WEIGHT_Q6_K)
#define SUPER_BYTES 210u
#endif

// ggml's get_scale_min_k4: the 6-bit scale and min of sub-block j from the 12 bytes at `off`.
void scale_min_k4(uint j, uint off, out uint sc, out uint m) {
  if (j < 4u) {
    sc = w_u8(off + j) & 63u;
    m = w_u8(off + j + 4u) & 63u;
  } else {
    const uint b = w_u8(off + j + 4u);
    sc = (b & 0xFu) | ((w_u8(off + j - 4u) >> 6) << 4);
    m = (b >> 4) | ((w_u8(off + j) >> 6) << 4);
  }
}

void dequant8(WeightParams wp, uint row, uint k, out float v[8]) {
  const uint base = row * wp.row_stride + (k >> 8) * SUPER_BYTES;
  const uint e = k & 255u;
  const uint l = e & 31u;
#if defined(WEIGHT_Q2_K) || defined(WEIGHT_Q3_K)
  const uint shift = ((e >> 5) & 3u) << 1;
#if defined(WEIGHT_Q2_K)
  const uint sc = w_u8(base + (e >> 4));
  const float dl = w_f16(base + 80u) * float(sc & 0xFu);
  const float ml = w_f16(base + 82u) * float(sc >> 4);
  const uint qs = base + 16u + ((e >> 7) << 5) + l;
#else
  const uint j = e >> 4;
  const uint lo = j < 8u ? w_u8(base + 96u + j) & 0xFu : w_u8(base + 88u + j) >> 4;
  const uint hi = (w_u8(base + 104u + (j & 3u)) >> ((j >> 2) << 1)) & 3u;
  const float dl = w_f16(base + 108u) * float(int(lo | (hi << 4)) - 32);
  const uint qs = base + 32u + ((e >> 7) << 5) + l;
  const uint hm[2] = uint[2](w_u32(base + l), w_u32(base + l + 4u));
  const uint hbit = e >> 5;
#endif
  const uint q[2] = uint[2](w_u32(qs), w_u32(qs + 4u));
  for (uint i = 0u; i < 8u; ++i) {
    const uint c = (byte_of(q[i >> 2], i & 3u) >> shift) & 3u;
#if defined(WEIGHT_Q2_K)
    v[i] = dl * float(c) - ml;
#else
    const int h = ((byte_of(hm[i >> 2], i & 3u) >> hbit) & 1u) != 0u ? 0 : 4;
    v[i] = dl * float(int(c) - h);
#endif
  }
#elif defined(WEIGHT_Q4_K) || defined(WEIGHT_Q5_K)
  const uint j = e >> 5;
  uint sc, mn;
  scale_min_k4(j, base + 4u, sc, mn);
  const float d1 = w_f16(base) * float(sc);
  const float m1 = w_f16(base + 2u) * float(mn);
  const uint shift = (j & 1u) << 2;
#if defined(WEIGHT_Q4_K)
  const uint qs = base + 16u + ((e >> 6) << 5) + l;
#else
  const uint qs = base + 48u + ((e >> 6) << 5) + l;
  const uint qh[2] = uint[2](w_u32(base + 16u + l), w_u32(base + 20u + l));
#endif
  const uint q[2] = uint[2](w_u32(qs), w_u32(qs + 4u));
  for (uint i = 0u; i < 8u; ++i) {
    uint c = (byte_of(q[i >> 2], i & 3u) >> shift) & 0xFu;
#if defined(WEIGHT_Q5_K)
    c += ((byte_of(qh[i >> 2], i & 3u) >> j) & 1u) << 4;
#endif
    v[i] = d1 * float(c) - m1;
  }
#else  // q6_k
  const uint t = (e >> 5) & 3u;
  const uint ql = base + ((e >> 7) << 6) + l + ((t & 1u) << 5);
  const uint qh = base + 128u + ((e >> 7) << 5) + l;
  const uint lo_shift = (t >> 1) << 2;
  const uint hi_shift = t << 1;
  const float ds = w_f16(base + 208u) * float(bitfieldExtract(int(w_u8(base + 192u + (e >> 4))), 0, 8));
  const uint qlw[2] = uint[2](w_u32(ql), w_u32(ql + 4u));
  const uint qhw[2] = uint[2](w_u32(qh), w_u32(qh + 4u));
  for (uint i = 0u; i < 8u; ++i) {
    const uint c = ((byte_of(qlw[i >> 2], i & 3u) >> lo_shift) & 0xFu) |
                   (((byte_of(qhw[i >> 2], i & 3u) >> hi_shift) & 3u) << 4);
    v[i] = ds * float(int(c) - 32);
  }
#endif
}
