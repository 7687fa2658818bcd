// Internal to the ggml format sources: ggml's per-group scale searches (ggml_scale_search.cpp)
// run for eight groups at once, group j in lane j. Each lane performs its group's operations in
// ggml's order — the float sums are chains over the group's elements, as in the scalar loops — so
// every lane's result is bit-identical to the scalar search on that group; branches become masks
// and values of lanes that would have returned early are discarded. Sources that include this
// header build with -ffp-contract=off.
#pragma once

#include "core/quant/ggml_blocks.h"
#include "core/quant/ggml_lanes.h"

namespace lowbit::ggml {

// Lane j of xt[l] is element l of sub-block `first + j` (sub-blocks of n elements).
template <int n>
inline void transpose_in(const float* x, int first, F8* xt) {
  for (int j = 0; j < kLanes; ++j)
    for (int l = 0; l < n; ++l) xt[l][j] = x[n * (first + j) + l];
}

// make_qkx2_quants (kX3 = false) or make_qkx3_quants (kX3 = true, weights given) for eight
// sub-blocks of n elements; ggml_scale_search.cpp has the scalar versions this mirrors line by line.
template <int n, bool use_mad, bool kX3>
void make_qkx_lanes(const F8* x, const F8* w, int nmax, I8* L, F8* scale_out, F8* the_min_out, float rmin,
                    float rdelta, int nstep) {
  F8 min = x[0], max = x[0], sum_w = w[0], sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    min = x[i] < min ? x[i] : min;
    max = x[i] > max ? x[i] : max;
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  min = min > splat(0) ? splat(0) : min;
  const I8 flat = kX3 ? max <= min : max == min;  // ggml returns early: codes 0, scale 0
  const F8 flat_min = min;
  const float fnmax = static_cast<float>(nmax);
  F8 iscale = splat(fnmax) / (max - min);
  F8 scale = splat(1) / iscale;
  F8 best = splat(0);
  for (int i = 0; i < n; ++i) {
    L[i] = clamp8(nearest8(iscale * (x[i] - min)), 0, nmax);
    F8 diff = scale * to_float(L[i]) + min - x[i];
    diff = use_mad ? abs8(diff) : diff * diff;
    best += w[i] * diff;
  }
  I8 Laux[n];
  for (int is = 0; is <= nstep; ++is) {
    iscale = splat(rmin + rdelta * static_cast<float>(is) + fnmax) / (max - min);  // min as updated so far
    F8 sum_l = splat(0), sum_l2 = splat(0), sum_xl = splat(0);
    for (int i = 0; i < n; ++i) {
      if constexpr (kX3) {  // clamp before rounding: v may be inf or nan when min came close to max
        const F8 v = iscale * (x[i] - min);
        Laux[i] = v > splat(0) ? nearest8(v < splat(fnmax) ? v : splat(fnmax)) : splat_i(0);
      } else {
        Laux[i] = clamp8(nearest8(iscale * (x[i] - min)), 0, nmax);
      }
      const F8 fl = to_float(Laux[i]);
      sum_l += w[i] * fl;
      sum_l2 += w[i] * fl * fl;
      sum_xl += w[i] * fl * x[i];
    }
    const F8 D = sum_w * sum_l2 - sum_l * sum_l;
    F8 this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
    F8 this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
    const I8 positive_min = this_min > splat(0);
    this_min = positive_min ? splat(0) : this_min;
    this_scale = positive_min ? sum_xl / sum_l2 : this_scale;
    F8 cur = splat(0);
    for (int i = 0; i < n; ++i) {
      F8 diff = this_scale * to_float(Laux[i]) + this_min - x[i];
      diff = use_mad ? abs8(diff) : diff * diff;
      cur += w[i] * diff;
    }
    const I8 take = (D > splat(0)) & (cur < best);
    if (!any(take)) continue;
    for (int i = 0; i < n; ++i) L[i] = take ? Laux[i] : L[i];
    best = take ? cur : best;
    scale = take ? this_scale : scale;
    min = take ? this_min : min;
  }
  for (int i = 0; i < n; ++i) L[i] = flat ? splat_i(0) : L[i];
  *scale_out = flat ? splat(0) : scale;
  *the_min_out = -(flat ? flat_min : min);
}

// make_qx_quants(n, nmax, x, L, rmse_type = 1, qw) for eight sub-blocks, with the element weights
// w (x² where ggml's qw is NULL): codes L + nmax.
template <int n>
F8 make_qx_lanes(const F8* x, const F8* w, int nmax, I8* L) {
  F8 max = splat(0), amax = splat(0);
  for (int i = 0; i < n; ++i) {
    const F8 ax = abs8(x[i]);
    const I8 gt = ax > amax;
    amax = gt ? ax : amax;
    max = gt ? x[i] : max;
  }
  const I8 zero = amax < splat(kGroupMaxEps);
  F8 iscale = splat(static_cast<float>(-nmax)) / max;
  F8 sumlx = splat(0), suml2 = splat(0);
  for (int i = 0; i < n; ++i) {
    const I8 l = clamp8(nearest8(iscale * x[i]), -nmax, nmax - 1);
    L[i] = l + nmax;
    const F8 fl = to_float(l);
    sumlx += w[i] * x[i] * fl;
    suml2 += w[i] * fl * fl;
  }
  F8 scale = suml2 != splat(0) ? sumlx / suml2 : splat(0);
  F8 best = scale * sumlx;
  I8 Lt[n];
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = splat(-(static_cast<float>(nmax) + 0.1f * static_cast<float>(is))) / max;
    sumlx = suml2 = splat(0);
    for (int i = 0; i < n; ++i) {
      const I8 l = clamp8(nearest8(iscale * x[i]), -nmax, nmax - 1);
      Lt[i] = l + nmax;
      const F8 fl = to_float(l);
      sumlx += w[i] * x[i] * fl;
      suml2 += w[i] * fl * fl;
    }
    const I8 take = (suml2 > splat(0)) & (sumlx * sumlx > best * suml2);
    if (!any(take)) continue;
    for (int i = 0; i < n; ++i) L[i] = take ? Lt[i] : L[i];
    const F8 s = sumlx / suml2;
    scale = take ? s : scale;
    best = take ? s * sumlx : best;
  }
  for (int i = 0; i < n; ++i) L[i] = zero ? splat_i(0) : L[i];
  return zero ? splat(0) : scale;
}

// make_q3_quants(n, nmax, x, L, do_rmse = true) for eight sub-blocks: codes L + nmax. The sweeps
// stop when no lane moved a code; a lane that converged earlier repeats a sweep that changes
// nothing, so it ends as ggml's loop does.
template <int n>
F8 make_q3_lanes(const F8* x, int nmax, I8* L) {
  F8 max = splat(0), amax = splat(0);
  for (int i = 0; i < n; ++i) {
    const F8 ax = abs8(x[i]);
    const I8 gt = ax > amax;
    amax = gt ? ax : amax;
    max = gt ? x[i] : max;
  }
  const I8 zero = amax < splat(kGroupMaxEps);
  const F8 iscale = splat(static_cast<float>(-nmax)) / max;
  F8 w[n];
  F8 sumlx = splat(0), suml2 = splat(0);
  for (int i = 0; i < n; ++i) {
    L[i] = clamp8(nearest8(iscale * x[i]), -nmax, nmax - 1);
    w[i] = x[i] * x[i];
    const F8 fl = to_float(L[i]);
    sumlx += w[i] * x[i] * fl;
    suml2 += w[i] * fl * fl;
  }
  for (int itry = 0; itry < 5; ++itry) {
    I8 changed = splat_i(0);
    for (int i = 0; i < n; ++i) {
      const F8 li = to_float(L[i]);
      F8 slx = sumlx - w[i] * x[i] * li;
      const I8 slx_pos = slx > splat(0);
      F8 sl2 = suml2 - w[i] * li * li;
      const I8 new_l = clamp8(nearest8(x[i] * sl2 / slx), -nmax, nmax - 1);
      const I8 differs = new_l != L[i];
      const F8 fl = to_float(new_l);
      slx += w[i] * x[i] * fl;
      sl2 += w[i] * fl * fl;
      const I8 take = slx_pos & differs & (sl2 > splat(0)) & (slx * slx * suml2 > sumlx * sumlx * sl2);
      L[i] = take ? new_l : L[i];
      sumlx = take ? slx : sumlx;
      suml2 = take ? sl2 : suml2;
      changed |= take;
    }
    if (!any(changed)) break;
  }
  for (int i = 0; i < n; ++i) L[i] = zero ? splat_i(0) : L[i] + nmax;
  return zero ? splat(0) : (suml2 > splat(0) ? sumlx / suml2 : splat(0));
}

// Codes of lane j (sub-block first + j) back to row order.
template <int n, class T>
inline void transpose_out(const I8* Lt, int first, T* L) {
  for (int j = 0; j < kLanes; ++j)
    for (int l = 0; l < n; ++l) L[n * (first + j) + l] = static_cast<T>(Lt[l][j]);
}

}  // namespace lowbit::ggml
