// Round-to-nearest of a decoder block with every quantization scale multiplied by one factor c: the
// perturbation behind the studio's scale Hessian and scale-loss landscape (METHODS.md §7). For each
// group the int-family min-max grid (core/quant/int_quant.h) is found from the fp32 weights, its
// scale becomes c·s with the zero point kept, and the weights are rounded again on that grid:
// ŵ = c·s·(clamp(round(w / (c·s)) + z, 0, 2^b − 1) − z). c < 1 clips the range, c > 1 coarsens it;
// c = 1 is exactly the RTN of quantize_model (method rtn). Only the int family has such a scale.
// Because the min-max grid puts the extreme weights exactly on the end levels, the loss as a
// function of c has a kink at c = 1 (clipping starts below it, only coarsening above), so a
// second-order finite difference there grows like 1/h. With `fixed_codes` the codes of the unscaled
// grid are kept and only the scale moves, ŵ = c·s·(q − z) = c·ŵ: a smooth perturbation (the one a
// straight-through gradient sees), whose second derivatives at c = 1 exist.
#pragma once

#include <string>

#include "core/model/weights.h"
#include "core/quant/format.h"
#include "core/util/expected.h"

namespace lowbit {

// Whether every linear layer of the block can take `format` (an int-family format whose group
// divides each layer's inputs); the error names the layer.
Expected<void> check_scaled_rtn(const DecoderBlock& b, const Format& format, const std::string& label);

// Replaces every linear layer's weights of `b` by their scaled-grid RTN values (biases and norms kept).
void scaled_rtn_block(DecoderBlock& b, const Format& format, float c, bool fixed_codes = false);

// The same for one [rows, cols] row-major matrix, in place.
void scaled_rtn_matrix(float* w, int64_t rows, int64_t cols, const Format& format, float c, bool fixed_codes = false);

}  // namespace lowbit
