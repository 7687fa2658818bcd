// dequant8 for the plain float types (common/dequant.glsl): W[N,K] row-major, element i = row·K + k,
//   WEIGHT_F32   one float per word;
//   WEIGHT_F16   IEEE binary16, two per word (even element in the low half), via unpackHalf2x16;
//   WEIGHT_BF16  bfloat16, two per word likewise: the fp32 whose high half it is.
// Any K: elements past the row's end are 0.

float load_float_weight(uint i) {
#if defined(WEIGHT_F32)
  return uintBitsToFloat(weight_words[i]);
#elif defined(WEIGHT_F16)
  return unpackHalf2x16(weight_words[i >> 1])[i & 1u];
#else
  return uintBitsToFloat(((weight_words[i >> 1] >> ((i & 1u) << 4)) & 0xFFFFu) << 16);
#endif
}

void dequant8(WeightParams wp, uint row, uint k, out float v[8]) {
  const uint base = row * wp.K + k;
  for (uint i = 0u; i < 8u; ++i) v[i] = k + i < wp.K ? load_float_weight(base + i) : 0.0;
}
