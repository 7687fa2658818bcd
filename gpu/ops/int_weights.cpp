#include "gpu/ops/int_weights.h"

#include <bit>
#include <string>

namespace lowbit::gpu {

Expected<IntWeightLayout> int_weight_layout(const Format& format, int64_t rows, int64_t cols) {
  if (format.kind != Format::Kind::Int)
    return make_error(ErrorCode::InvalidArgument, "int weights: " + format.name() + " is not of the int family");
  if (format.bits < 2 || format.bits > 8)
    return make_error(ErrorCode::InvalidArgument,
                      "int weights: " + format.name() + " has " + std::to_string(format.bits) + " bits, not 2..8");
  if (rows <= 0 || cols <= 0 || format.group < 0)
    return make_error(ErrorCode::InvalidArgument, "int weights: " + format.name() + " with " + std::to_string(rows) +
                                                      " rows and " + std::to_string(cols) + " columns");
  if (!format.fits(cols))
    return make_error(ErrorCode::InvalidArgument, "int weights: the group of " + format.name() + " (" +
                                                      std::to_string(format.group) +
                                                      ") does not divide K=" + std::to_string(cols));
  IntWeightLayout l;
  l.bits = static_cast<uint32_t>(format.bits);
  l.group = static_cast<uint64_t>(format.group_size(cols));
  l.groups = static_cast<uint64_t>(cols) / l.group;
  l.row_words = (static_cast<uint64_t>(cols) * l.bits + 31) / 32;
  l.grid_offset = static_cast<uint64_t>(rows) * l.row_words;
  l.words = l.grid_offset + 2 * static_cast<uint64_t>(rows) * l.groups;
  return l;
}

Expected<std::vector<uint32_t>> pack_int_weights(const IntTensor& t) {
  LB_TRY_ASSIGN(const IntWeightLayout l, int_weight_layout(t.format, t.rows, t.cols));
  const uint64_t rows = static_cast<uint64_t>(t.rows), cols = static_cast<uint64_t>(t.cols);
  if (t.codes.size() != rows * cols || t.grids.size() != rows * l.groups)
    return make_error(ErrorCode::InvalidArgument,
                      "int weights: an " + t.format.name() + " tensor of " + std::to_string(rows) + "×" +
                          std::to_string(cols) + " holds " + std::to_string(t.codes.size()) + " codes and " +
                          std::to_string(t.grids.size()) + " grids, expected " + std::to_string(rows * cols) + " and " +
                          std::to_string(rows * l.groups));
  const uint32_t max_code = (1u << l.bits) - 1;
  std::vector<uint32_t> words(l.words, 0u);
  for (uint64_t r = 0; r < rows; ++r) {
    uint32_t* row = words.data() + r * l.row_words;
    for (uint64_t c = 0; c < cols; ++c) {
      const uint32_t q = t.codes[r * cols + c];
      if (q > max_code)
        return make_error(ErrorCode::InvalidArgument, "int weights: code " + std::to_string(q) + " at row " +
                                                          std::to_string(r) + ", column " + std::to_string(c) +
                                                          " does not fit " + std::to_string(l.bits) + " bits");
      const uint64_t bit = c * l.bits;
      const uint64_t w = bit / 32, s = bit % 32;
      row[w] |= q << s;
      if (s + l.bits > 32) row[w + 1] |= q >> (32 - s);
    }
  }
  uint32_t* grids = words.data() + l.grid_offset;
  for (size_t i = 0; i < t.grids.size(); ++i) {
    grids[2 * i] = std::bit_cast<uint32_t>(t.grids[i].scale);
    grids[2 * i + 1] = std::bit_cast<uint32_t>(t.grids[i].zero);
  }
  return words;
}

}  // namespace lowbit::gpu
