// dequant8 for the integer family int{b}g{g}{a|s} (common/dequant.glsl), in the GPU layout of
// gpu/ops/int_weights.h: row r's codes are an LSB-first bit stream of b bits per code starting at
// word r·row_stride (a code may straddle two words); the (scale, zero) pairs, fp32 bit patterns,
// row-major [N, groups], start at word grid_offset. ŵ = scale · (q − zero), as core's
// dequantize_int computes it. Any K (g0 has one group of K columns): elements past the end are 0.

void dequant8(WeightParams wp, uint row, uint k, out float v[8]) {
  const uint mask = (1u << wp.bits) - 1u;
  const uint row_word = row * wp.row_stride;
  const uint grid_row = wp.grid_offset + 2u * row * wp.groups;
  for (uint i = 0u; i < 8u; ++i) {
    const uint c = k + i;
    if (c >= wp.K) {
      v[i] = 0.0;
      continue;
    }
    const uint bit = c * wp.bits;
    const uint w = row_word + (bit >> 5);
    const uint s = bit & 31u;
    uint q = weight_words[w] >> s;
    if (s + wp.bits > 32u) q |= weight_words[w + 1u] << (32u - s);
    const uint g = grid_row + 2u * (c / wp.group);
    const float scale = uintBitsToFloat(weight_words[g]);
    const float zero = uintBitsToFloat(weight_words[g + 1u]);
    v[i] = scale * (float(q & mask) - zero);
  }
}
