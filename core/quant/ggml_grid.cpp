// Grids and codes of the ggml block types (ggml_grid.h). The element order of each type's code
// bits follows its dequantizer in ggml_k_quants.cpp / ggml_q_legacy.cpp; the grids repeat the
// dequantizers' products (this file builds with -ffp-contract=off, as they do).
#include "core/quant/ggml_grid.h"

#include <algorithm>
#include <cstring>

#include "core/quant/ggml_blocks.h"
#include "core/util/check.h"

namespace lowbit {
namespace {

using namespace ggml;

// Code bits of one element: `get` reads the stored (unsigned) code, `put` writes it into a block
// whose code bits were cleared. Stored = code − qmin for the signed types.
template <class Block>
struct Codec;

template <>
struct Codec<BlockQ8_0> {
  static int get(const BlockQ8_0& b, int e) { return b.qs[e] + 128; }
  static void put(BlockQ8_0& b, int e, int v) { b.qs[e] = static_cast<int8_t>(v - 128); }
  static void clear(BlockQ8_0&) {}
};

template <class Block>
struct Nibble32 {  // q4_0 / q4_1 / q5_0 / q5_1: element e < 16 in the low nibble of qs[e], else high of qs[e − 16]
  static int get(const Block& b, int e) { return e < 16 ? b.qs[e] & 0xF : b.qs[e - 16] >> 4; }
  static void put(Block& b, int e, int v) {
    if (e < 16)
      b.qs[e] = static_cast<uint8_t>(b.qs[e] | (v & 0xF));
    else
      b.qs[e - 16] = static_cast<uint8_t>(b.qs[e - 16] | ((v & 0xF) << 4));
  }
};
template <class Block>
struct High32 {  // q5_0 / q5_1: the 5th bit of element e is bit e of the little-endian qh
  static int get(const Block& b, int e) { return (b.qh[e / 8] >> (e % 8)) & 1; }
  static void put(Block& b, int e, int v) {
    b.qh[e / 8] = static_cast<uint8_t>(b.qh[e / 8] | (((v >> 4) & 1) << (e % 8)));
  }
};

template <>
struct Codec<BlockQ4_0> : Nibble32<BlockQ4_0> {
  static void clear(BlockQ4_0& b) { std::memset(b.qs, 0, sizeof b.qs); }
};
template <>
struct Codec<BlockQ4_1> : Nibble32<BlockQ4_1> {
  static void clear(BlockQ4_1& b) { std::memset(b.qs, 0, sizeof b.qs); }
};
template <>
struct Codec<BlockQ5_0> {
  static int get(const BlockQ5_0& b, int e) {
    return Nibble32<BlockQ5_0>::get(b, e) | (High32<BlockQ5_0>::get(b, e) << 4);
  }
  static void put(BlockQ5_0& b, int e, int v) {
    Nibble32<BlockQ5_0>::put(b, e, v);
    High32<BlockQ5_0>::put(b, e, v);
  }
  static void clear(BlockQ5_0& b) {
    std::memset(b.qs, 0, sizeof b.qs);
    std::memset(b.qh, 0, sizeof b.qh);
  }
};
template <>
struct Codec<BlockQ5_1> {
  static int get(const BlockQ5_1& b, int e) {
    return Nibble32<BlockQ5_1>::get(b, e) | (High32<BlockQ5_1>::get(b, e) << 4);
  }
  static void put(BlockQ5_1& b, int e, int v) {
    Nibble32<BlockQ5_1>::put(b, e, v);
    High32<BlockQ5_1>::put(b, e, v);
  }
  static void clear(BlockQ5_1& b) {
    std::memset(b.qs, 0, sizeof b.qs);
    std::memset(b.qh, 0, sizeof b.qh);
  }
};

// q2_K / q3_K low bits: element e = 128n + 32s + l sits in bits 2s of qs[32n + l].
inline int get_2bit(const uint8_t* qs, int e) {
  return (qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
}
inline void put_2bit(uint8_t* qs, int e, int v) {
  uint8_t& byte = qs[32 * (e / 128) + e % 32];
  byte = static_cast<uint8_t>(byte | ((v & 3) << (2 * ((e % 128) / 32))));
}

template <>
struct Codec<BlockQ2_K> {
  static int get(const BlockQ2_K& b, int e) { return get_2bit(b.qs, e); }
  static void put(BlockQ2_K& b, int e, int v) { put_2bit(b.qs, e, v); }
  static void clear(BlockQ2_K& b) { std::memset(b.qs, 0, sizeof b.qs); }
};
template <>
struct Codec<BlockQ3_K> {  // stored code + 4: the high bit is bit e / 32 of hmask[e % 32]
  static int get(const BlockQ3_K& b, int e) { return get_2bit(b.qs, e) | (((b.hmask[e % 32] >> (e / 32)) & 1) << 2); }
  static void put(BlockQ3_K& b, int e, int v) {
    put_2bit(b.qs, e, v);
    b.hmask[e % 32] = static_cast<uint8_t>(b.hmask[e % 32] | (((v >> 2) & 1) << (e / 32)));
  }
  static void clear(BlockQ3_K& b) {
    std::memset(b.qs, 0, sizeof b.qs);
    std::memset(b.hmask, 0, sizeof b.hmask);
  }
};

// q4_K / q5_K low nibbles: element e = 64j + r in qs[32j + r % 32], low nibble for r < 32.
template <class Block>
struct Nibble256 {
  static int get(const Block& b, int e) {
    const uint8_t byte = b.qs[32 * (e / 64) + e % 32];
    return (e % 64) < 32 ? byte & 0xF : byte >> 4;
  }
  static void put(Block& b, int e, int v) {
    uint8_t& byte = b.qs[32 * (e / 64) + e % 32];
    byte = static_cast<uint8_t>(byte | ((v & 0xF) << ((e % 64) < 32 ? 0 : 4)));
  }
};
template <>
struct Codec<BlockQ4_K> : Nibble256<BlockQ4_K> {
  static void clear(BlockQ4_K& b) { std::memset(b.qs, 0, sizeof b.qs); }
};
template <>
struct Codec<BlockQ5_K> {  // the 5th bit of element e = 64j + r is bit 2j + (r ≥ 32) of qh[r % 32]
  static int bit(int e) { return 2 * (e / 64) + ((e % 64) < 32 ? 0 : 1); }
  static int get(const BlockQ5_K& b, int e) {
    return Nibble256<BlockQ5_K>::get(b, e) | (((b.qh[e % 32] >> bit(e)) & 1) << 4);
  }
  static void put(BlockQ5_K& b, int e, int v) {
    Nibble256<BlockQ5_K>::put(b, e, v);
    b.qh[e % 32] = static_cast<uint8_t>(b.qh[e % 32] | (((v >> 4) & 1) << bit(e)));
  }
  static void clear(BlockQ5_K& b) {
    std::memset(b.qs, 0, sizeof b.qs);
    std::memset(b.qh, 0, sizeof b.qh);
  }
};
template <>
struct Codec<BlockQ6_K> {  // stored code + 32; element e = 128n + 32k + l: nibble of ql, 2 bits of qh
  static int ql_index(int e) { return 64 * (e / 128) + e % 32 + (((e % 128) / 32) % 2 ? 32 : 0); }
  static int ql_shift(int e) { return (e % 128) / 32 >= 2 ? 4 : 0; }
  static int qh_index(int e) { return 32 * (e / 128) + e % 32; }
  static int qh_shift(int e) { return 2 * ((e % 128) / 32); }
  static int get(const BlockQ6_K& b, int e) {
    return ((b.ql[ql_index(e)] >> ql_shift(e)) & 0xF) | (((b.qh[qh_index(e)] >> qh_shift(e)) & 3) << 4);
  }
  static void put(BlockQ6_K& b, int e, int v) {
    b.ql[ql_index(e)] = static_cast<uint8_t>(b.ql[ql_index(e)] | ((v & 0xF) << ql_shift(e)));
    b.qh[qh_index(e)] = static_cast<uint8_t>(b.qh[qh_index(e)] | (((v >> 4) & 3) << qh_shift(e)));
  }
  static void clear(BlockQ6_K& b) {
    std::memset(b.ql, 0, sizeof b.ql);
    std::memset(b.qh, 0, sizeof b.qh);
  }
};

template <class Block>
void read_codes(const uint8_t* src, int n, int qmin, int8_t* codes) {
  const auto b = load_block<Block>(src);
  for (int e = 0; e < n; ++e) codes[e] = static_cast<int8_t>(Codec<Block>::get(b, e) + qmin);
}

template <class Block>
void write_codes(const int8_t* codes, int n, int qmin, int qmax, uint8_t* dst) {
  auto b = load_block<Block>(dst);
  Codec<Block>::clear(b);
  for (int e = 0; e < n; ++e) Codec<Block>::put(b, e, std::clamp<int>(codes[e], qmin, qmax) - qmin);
  store_block(dst, b);
}

// The grids, with the dequantizers' products.
void grids_type0(float d, GgmlSubGrid* g) {
  g[0] = {d, -0.0f};
}

void grids_q2_K(const BlockQ2_K& b, GgmlSubGrid* g) {
  const float d = from_fp16(b.d), min = from_fp16(b.dmin);
  for (int j = 0; j < 16; ++j)
    g[j] = {d * static_cast<float>(b.scales[j] & 0xF), -(min * static_cast<float>(b.scales[j] >> 4))};
}
void grids_q3_K(const BlockQ3_K& b, GgmlSubGrid* g) {
  const float d_all = from_fp16(b.d);
  for (int j = 0; j < 16; ++j) g[j] = {d_all * static_cast<float>(q3_K_scale(b.scales, j)), -0.0f};
}
template <class Block>
void grids_k4(const Block& b, GgmlSubGrid* g) {  // q4_K, q5_K
  const float d = from_fp16(b.d), min = from_fp16(b.dmin);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    get_scale_min_k4(j, b.scales, &sc, &m);
    g[j] = {d * static_cast<float>(sc), -(min * static_cast<float>(m))};
  }
}
void grids_q6_K(const BlockQ6_K& b, GgmlSubGrid* g) {
  const float d = from_fp16(b.d);
  for (int j = 0; j < 16; ++j) g[j] = {d * static_cast<float>(b.scales[j]), -0.0f};
}

}  // namespace

GgmlGridLayout ggml_grid_layout(DType type) {
  switch (type) {
    case DType::Q8_0:
      return {kQK, kQK, -128, 127};
    case DType::Q4_0:
      return {kQK, kQK, -8, 7};
    case DType::Q4_1:
      return {kQK, kQK, 0, 15};
    case DType::Q5_0:
      return {kQK, kQK, -16, 15};
    case DType::Q5_1:
      return {kQK, kQK, 0, 31};
    case DType::Q2_K:
      return {kQK_K, 16, 0, 3};
    case DType::Q3_K:
      return {kQK_K, 16, -4, 3};
    case DType::Q4_K:
      return {kQK_K, 32, 0, 15};
    case DType::Q5_K:
      return {kQK_K, 32, 0, 31};
    case DType::Q6_K:
      return {kQK_K, 16, -32, 31};
    default:
      break;
  }
  LB_CHECK(false, std::string("ggml_grid_layout: not a ggml block type: ") + dtype_name(type));
  return {};
}

void ggml_block_grids(DType type, const uint8_t* p, GgmlSubGrid* g) {
  switch (type) {
    case DType::Q8_0:
      return grids_type0(from_fp16(load_block<BlockQ8_0>(p).d), g);
    case DType::Q4_0:
      return grids_type0(from_fp16(load_block<BlockQ4_0>(p).d), g);
    case DType::Q5_0:
      return grids_type0(from_fp16(load_block<BlockQ5_0>(p).d), g);
    case DType::Q4_1: {
      const auto b = load_block<BlockQ4_1>(p);
      g[0] = {from_fp16(b.d), from_fp16(b.m)};
      return;
    }
    case DType::Q5_1: {
      const auto b = load_block<BlockQ5_1>(p);
      g[0] = {from_fp16(b.d), from_fp16(b.m)};
      return;
    }
    case DType::Q2_K:
      return grids_q2_K(load_block<BlockQ2_K>(p), g);
    case DType::Q3_K:
      return grids_q3_K(load_block<BlockQ3_K>(p), g);
    case DType::Q4_K:
      return grids_k4(load_block<BlockQ4_K>(p), g);
    case DType::Q5_K:
      return grids_k4(load_block<BlockQ5_K>(p), g);
    case DType::Q6_K:
      return grids_q6_K(load_block<BlockQ6_K>(p), g);
    default:
      LB_CHECK(false, std::string("ggml_block_grids: not a ggml block type: ") + dtype_name(type));
  }
}

void ggml_block_codes(DType type, const uint8_t* p, int8_t* codes) {
  const GgmlGridLayout l = ggml_grid_layout(type);
  switch (type) {
    case DType::Q8_0:
      return read_codes<BlockQ8_0>(p, l.block, l.qmin, codes);
    case DType::Q4_0:
      return read_codes<BlockQ4_0>(p, l.block, l.qmin, codes);
    case DType::Q4_1:
      return read_codes<BlockQ4_1>(p, l.block, l.qmin, codes);
    case DType::Q5_0:
      return read_codes<BlockQ5_0>(p, l.block, l.qmin, codes);
    case DType::Q5_1:
      return read_codes<BlockQ5_1>(p, l.block, l.qmin, codes);
    case DType::Q2_K:
      return read_codes<BlockQ2_K>(p, l.block, l.qmin, codes);
    case DType::Q3_K:
      return read_codes<BlockQ3_K>(p, l.block, l.qmin, codes);
    case DType::Q4_K:
      return read_codes<BlockQ4_K>(p, l.block, l.qmin, codes);
    case DType::Q5_K:
      return read_codes<BlockQ5_K>(p, l.block, l.qmin, codes);
    case DType::Q6_K:
      return read_codes<BlockQ6_K>(p, l.block, l.qmin, codes);
    default:
      return;
  }
}

void ggml_pack_codes(DType type, const int8_t* codes, uint8_t* p) {
  const GgmlGridLayout l = ggml_grid_layout(type);
  switch (type) {
    case DType::Q8_0:
      return write_codes<BlockQ8_0>(codes, l.block, l.qmin, l.qmax, p);
    case DType::Q4_0:
      return write_codes<BlockQ4_0>(codes, l.block, l.qmin, l.qmax, p);
    case DType::Q4_1:
      return write_codes<BlockQ4_1>(codes, l.block, l.qmin, l.qmax, p);
    case DType::Q5_0:
      return write_codes<BlockQ5_0>(codes, l.block, l.qmin, l.qmax, p);
    case DType::Q5_1:
      return write_codes<BlockQ5_1>(codes, l.block, l.qmin, l.qmax, p);
    case DType::Q2_K:
      return write_codes<BlockQ2_K>(codes, l.block, l.qmin, l.qmax, p);
    case DType::Q3_K:
      return write_codes<BlockQ3_K>(codes, l.block, l.qmin, l.qmax, p);
    case DType::Q4_K:
      return write_codes<BlockQ4_K>(codes, l.block, l.qmin, l.qmax, p);
    case DType::Q5_K:
      return write_codes<BlockQ5_K>(codes, l.block, l.qmin, l.qmax, p);
    case DType::Q6_K:
      return write_codes<BlockQ6_K>(codes, l.block, l.qmin, l.qmax, p);
    default:
      return;
  }
}

float ggml_value(const GgmlSubGrid& g, int code) {
  return g.scale * static_cast<float>(code) + g.offset;
}

// (w − offset) / scale is ggml's (x + dm) / d of the K-quants' requantization; the range check
// before nearest_int keeps it within the magic-number trick's domain for weights far off the grid.
int ggml_nearest_code(const GgmlSubGrid& g, float w, int qmin, int qmax) {
  if (g.scale == 0) return 0;
  const float v = (w - g.offset) / g.scale;
  if (!(v > static_cast<float>(qmin))) return qmin;  // NaN included
  if (v >= static_cast<float>(qmax)) return qmax;
  return std::clamp(nearest_int(v), qmin, qmax);
}

void ggml_choose_codes(const GgmlGridLayout& l, const GgmlSubGrid* g, const float* w, const float* w_fix, int8_t* code,
                       float* q, int64_t n) {
  for (int64_t r = 0; r < n; ++r) {
    if (!(w[r] == w_fix[r] || g[r].scale == 0))
      code[r] = static_cast<int8_t>(ggml_nearest_code(g[r], w[r], l.qmin, l.qmax));
    q[r] = g[r].scale * static_cast<float>(code[r]) + g[r].offset;
  }
}

}  // namespace lowbit
