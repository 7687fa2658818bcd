// dequant8 for the plain float types (common/dequant.glsl): W[N,K] row-major, element i = row·K + k,
//   WEIGHT_F32   one float per word;
//   WEIGHT_F16   IEEE binary16, two per word (even element in the low half), via unpackHalf2x16;
//   WEIGHT_BF16  bfloat16, two per word likewise: the fp32 whose high half it is.
// Any K: elements past the row's end are 0. Where K % 8 = 0, eight weights come in one or two
// 16-byte loads.

float load_float_weight(uint i) {
#if defined(WEIGHT_F32)
  return uintBitsToFloat(weight_words[i]);
#elif defined(WEIGHT_F16)
  return unpackHalf2x16(weight_words[i >> 1])[i & 1u];
#else
  return uintBitsToFloat(((weight_words[i >> 1] >> ((i & 1u) << 4)) & 0xFFFFu) << 16);
#endif
}

// The same words, 16 bytes at a time (the op binds W from offset 0).
layout(std430, set = 0, binding = WEIGHT_BINDING) readonly buffer WeightQuads { uvec4 weight_quads[]; };

void dequant8(WeightParams wp, uint row, uint k, out float v[8]) {
  const uint base = row * wp.K + k;
  if ((wp.K & 7u) == 0u && k + 8u <= wp.K) {  // base % 8 = 0: whole, aligned quads of words
#if defined(WEIGHT_F32)
    const uvec4 a = weight_quads[base >> 2], b = weight_quads[(base >> 2) + 1u];
    for (uint i = 0u; i < 4u; ++i) {
      v[i] = uintBitsToFloat(a[i]);
      v[4u + i] = uintBitsToFloat(b[i]);
    }
#elif defined(WEIGHT_F16)
    const uvec4 q = weight_quads[base >> 3];
    for (uint i = 0u; i < 4u; ++i) {
      const vec2 h = unpackHalf2x16(q[i]);
      v[2u * i] = h.x;
      v[2u * i + 1u] = h.y;
    }
#else
    const uvec4 q = weight_quads[base >> 3];
    for (uint i = 0u; i < 4u; ++i) {
      v[2u * i] = uintBitsToFloat(q[i] << 16);
      v[2u * i + 1u] = uintBitsToFloat(q[i] & 0xFFFF0000u);
    }
#endif
    return;
  }
  for (uint i = 0u; i < 8u; ++i) v[i] = k + i < wp.K ? load_float_weight(base + i) : 0.0;
}
