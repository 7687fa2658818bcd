#include "core/analysis/scaled_rtn.h"

#include "core/quant/int_quant.h"

namespace lowbit {

namespace {

template <class F>
void for_each_linear(DecoderBlock& b, F&& f) {
  for (Linear* l : {&b.q, &b.k, &b.v, &b.o, &b.gate, &b.up, &b.down})
    if (l->w.size()) f(*l);
}

}  // namespace

Expected<void> check_scaled_rtn(const DecoderBlock& b, const Format& f, const std::string& label) {
  if (f.kind != Format::Kind::Int)
    return make_error(ErrorCode::InvalidArgument, label + ": scale multipliers need an int-family format, got " + f.name());
  static const char* names[] = {"q", "k", "v", "o", "gate", "up", "down"};
  const Linear* ls[] = {&b.q, &b.k, &b.v, &b.o, &b.gate, &b.up, &b.down};
  for (int i = 0; i < 7; ++i)
    if (ls[i]->w.size() && !f.fits(ls[i]->w.cols()))
      return make_error(ErrorCode::InvalidArgument, label + " " + names[i] + ": " + std::to_string(ls[i]->w.cols()) +
                                                        " inputs do not split into groups of " + f.name());
  return {};
}

void scaled_rtn_matrix(float* w, int64_t rows, int64_t cols, const Format& f, float c, bool fixed_codes) {
  const int64_t gs = f.group_size(cols), ng = cols / gs;
  const int maxq = max_code(f.bits);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < ng; ++g) {
      float* p = w + r * cols + g * gs;
      const IntGrid grid = minmax_grid(p, gs, f.bits, f.symmetric);
      IntGrid scaled = grid;
      scaled.scale *= c;
      const IntGrid& rounding = fixed_codes ? grid : scaled;
      for (int64_t i = 0; i < gs; ++i) p[i] = dequantize_code(quantize_code(p[i], rounding, maxq), scaled);
    }
}

void scaled_rtn_block(DecoderBlock& b, const Format& f, float c, bool fixed_codes) {
  for_each_linear(b, [&](Linear& l) { scaled_rtn_matrix(l.w.data(), l.w.rows(), l.w.cols(), f, c, fixed_codes); });
}

}  // namespace lowbit
