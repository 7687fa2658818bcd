#include "core/quant/awq.h"

#include "core/quant/encoded.h"

#include <cmath>
#include <vector>

#include "core/quant/ggml_formats.h"
#include "core/tensor/half.h"

namespace lowbit {

Expected<void> AwqOptions::validate() const {
  if (alpha_grid < 1) return make_error(ErrorCode::InvalidArgument, "AWQ: the α grid needs at least one point");
  if (!(clip_min > 0 && clip_min <= 1))
    return make_error(ErrorCode::InvalidArgument, "AWQ: the smallest clip ratio must be in (0, 1]");
  if (clip_steps < 1) return make_error(ErrorCode::InvalidArgument, "AWQ: the clip search needs at least one step");
  return {};
}

const char* awq_group_name(AwqGroup g) {
  static const char* names[] = {"qkv", "o", "gate_up", "down"};
  return names[static_cast<int>(g)];
}

Expected<MatrixRM> quantize_dequantize(const MatrixRM& w, const Format& f, const std::string& name, float shrink) {
  if (shrink != 1.0f) {
    if (f.kind != Format::Kind::Int || !f.fits(w.cols()) || !(shrink > 0 && shrink < 1))
      return make_error(ErrorCode::InvalidArgument, name + ": a clip ratio of " + std::to_string(shrink) +
                                                        " needs an int-family format that fits and a ratio in (0, 1)");
    MatrixRM out(w.rows(), w.cols());
    dequantize_int(rtn_int(w.data(), w.rows(), w.cols(), f, shrink), out.data());
    return out;
  }
  LB_TRY_ASSIGN(const EncodedTensor t, encode_rtn(w.data(), w.rows(), w.cols(), f, false, name));
  MatrixRM out(w.rows(), w.cols());
  t.dequantize(out.data());
  return out;
}

VectorF awq_scales(const VectorF& mean_abs, double alpha) {
  VectorF s = mean_abs.array().pow(static_cast<float>(alpha)).max(1e-4f).matrix();
  return s / std::sqrt(s.maxCoeff() * s.minCoeff());
}

Expected<double> awq_scaled_error(const std::vector<AwqLayer>& layers, const MatrixRM& h, const VectorF& s, float shrink) {
  double err = 0;
  const VectorF inv = s.cwiseInverse();
  for (const AwqLayer& l : layers) {
    if (l.w->cols() != h.rows() || s.size() != h.rows())
      return make_error(ErrorCode::InvalidArgument, "AWQ on " + l.name + ": " + std::to_string(l.w->cols()) +
                                                        " input channels, but the Hessian has " +
                                                        std::to_string(h.rows()));
    LB_TRY_ASSIGN(const MatrixRM q, quantize_dequantize(*l.w * s.asDiagonal(), l.format, l.name, shrink));
    const MatrixRM d = q * inv.asDiagonal() - *l.w;
    const MatrixRM dh = d * h;
    err += dh.cwiseProduct(d).cast<double>().sum();
  }
  return err;
}

Expected<AwqSearchResult> awq_search_scale(const std::vector<AwqLayer>& layers, const MatrixRM& h,
                                           const VectorF& mean_abs, const AwqOptions& o) {
  LB_TRY_VOID(o.validate());
  if (layers.empty()) return make_error(ErrorCode::InvalidArgument, "AWQ: a group without layers");
  if (mean_abs.size() != h.rows())
    return make_error(ErrorCode::InvalidArgument, "AWQ on " + layers.front().name + ": activation statistics of " +
                                                      std::to_string(mean_abs.size()) + " channels for a Hessian of " +
                                                      std::to_string(h.rows()));
  std::vector<VectorF> scales;
  scales.reserve(static_cast<size_t>(o.alpha_grid));
  for (int i = 0; i < o.alpha_grid; ++i) scales.push_back(awq_scales(mean_abs, static_cast<double>(i) / o.alpha_grid));
  AwqSearchResult r;
  if (o.backend) {
    auto curve = o.backend(layers, h, scales);
    if (curve && curve->size() == scales.size()) r.curve = std::move(*curve);
    else if (curve) return make_error(ErrorCode::Device, "AWQ on " + layers.front().name + ": the backend gave " +
                                                              std::to_string(curve->size()) + " errors for " +
                                                              std::to_string(scales.size()) + " scales");
    else if (curve.error().code != ErrorCode::Unsupported) return Unexpected{curve.error()};
  }
  if (r.curve.empty()) {
    r.curve.resize(scales.size());
    for (size_t i = 0; i < scales.size(); ++i) {
      LB_TRY_ASSIGN(const double e, awq_scaled_error(layers, h, scales[i]));
      r.curve[i] = e;
    }
  }
  double best = INFINITY;
  for (size_t i = 0; i < scales.size(); ++i) {
    const double e = r.curve[i];
    if (i == 0) r.error_rtn = e;
    if (e < best) {  // strict: ties keep the smaller α
      best = e;
      r.alpha = static_cast<double>(i) / o.alpha_grid;
      r.error = e;
      r.scales = scales[i];
    }
  }
  return r;
}

std::optional<std::string> awq_fold_blocker(const ModelConfig& c, const DecoderBlock& b, AwqGroup g) {
  switch (g) {
    case AwqGroup::Qkv:
    case AwqGroup::GateUp:
      return std::nullopt;  // the norm weight (and LayerNorm bias) takes diag(s)⁻¹
    case AwqGroup::O:
      // Under grouped-query attention one v channel feeds several heads, whose o_proj inputs would
      // need different scales: AutoAWQ skips o_proj then, and so do we.
      if (b.v.w.rows() != b.o.w.cols())
        return "o_proj not scaled: v_proj has " + std::to_string(b.v.w.rows()) + " outputs but o_proj reads " +
               std::to_string(b.o.w.cols()) + " (grouped-query attention)";
      return std::nullopt;
    case AwqGroup::Down:
      if (!b.gate.w.size())
        return std::string("down_proj not scaled: ") + arch_name(c.arch) +
               "'s MLP has no gate, so the activation between up_proj and down_proj does not commute with a scale";
      return std::nullopt;
  }
  return std::nullopt;
}

MatrixRM awq_scaled_hessian(const MatrixRM& h, const VectorF& s) {
  const VectorF inv = s.cwiseInverse();
  return inv.asDiagonal() * h * inv.asDiagonal();
}

Expected<void> awq_apply_scale(const ModelConfig& c, DecoderBlock& b, AwqGroup g, const VectorF& s) {
  if (auto why = awq_fold_blocker(c, b, g)) return make_error(ErrorCode::Unsupported, *why);
  const VectorF inv = s.cwiseInverse();
  auto bad_size = [&](const char* what, int64_t n) {
    return make_error(ErrorCode::InvalidArgument, std::string("AWQ ") + awq_group_name(g) + ": " +
                                                      std::to_string(s.size()) + " scales for " + what + " of " +
                                                      std::to_string(n) + " channels");
  };
  auto scale_cols = [&](Linear& l) { l.w = l.w * s.asDiagonal(); };
  auto scale_rows = [&](Linear& l) {
    l.w = inv.asDiagonal() * l.w;
    if (l.has_bias()) l.b = l.b.cwiseProduct(inv);
  };
  auto fold_norm = [&](VectorF& w, VectorF& bias) {
    w = w.cwiseProduct(inv);
    if (bias.size()) bias = bias.cwiseProduct(inv);
  };
  switch (g) {
    case AwqGroup::Qkv:
      if (b.attn_norm.size() != s.size()) return bad_size("the attention norm", b.attn_norm.size());
      fold_norm(b.attn_norm, b.attn_norm_b);
      scale_cols(b.q);
      scale_cols(b.k);
      scale_cols(b.v);
      return {};
    case AwqGroup::GateUp:
      if (b.ffn_norm.size() != s.size()) return bad_size("the MLP norm", b.ffn_norm.size());
      fold_norm(b.ffn_norm, b.ffn_norm_b);
      if (b.gate.w.size()) scale_cols(b.gate);
      scale_cols(b.up);
      return {};
    case AwqGroup::O:
      if (b.o.w.cols() != s.size()) return bad_size("o_proj", b.o.w.cols());
      scale_rows(b.v);
      scale_cols(b.o);
      return {};
    case AwqGroup::Down:
      if (b.down.w.cols() != s.size()) return bad_size("down_proj", b.down.w.cols());
      scale_rows(b.up);
      scale_cols(b.down);
      return {};
  }
  return {};
}

float awq_clip_ratio(const AwqOptions& o, int k) {
  return 1.0f - (1.0f - o.clip_min) * static_cast<float>(k) / static_cast<float>(o.clip_steps);
}

Expected<AwqClipResult> awq_clip(const MatrixRM& w, const MatrixRM& h, const Format& f, const AwqOptions& o,
                                 bool fp16_scales) {
  if (o.clip_backend) {
    auto r = o.clip_backend(w, h, f, o, fp16_scales);
    if (r || r.error().code != ErrorCode::Unsupported) return r;
  }
  return awq_clip_int(w, h, f, o, fp16_scales);
}

AwqClipResult awq_clip_int(const MatrixRM& w, const MatrixRM& h, const Format& f, const AwqOptions& o, bool fp16_scales) {
  const int64_t rows = w.rows(), cols = w.cols();
  LB_CHECK(f.kind == Format::Kind::Int && f.fits(cols) && h.rows() == cols && h.cols() == cols,
           "awq_clip_int: bad shapes");
  AwqClipResult res;
  res.tensor = rtn_int(w.data(), rows, cols, f, 1.0f, fp16_scales);
  const Eigen::MatrixXd hd = h.cast<double>();
  const int64_t gs = f.group_size(cols), ng = res.tensor.groups();
  const int maxq = max_code(f.bits);
  std::vector<double> before(static_cast<size_t>(rows)), after(static_cast<size_t>(rows)),
      shrink(static_cast<size_t>(rows));
#pragma omp parallel for schedule(dynamic)
  for (int64_t r = 0; r < rows; ++r) {
    const float* wr = w.data() + r * cols;
    uint8_t* codes = res.tensor.codes.data() + r * cols;
    IntGrid* grids = res.tensor.grids.data() + r * ng;
    Eigen::VectorXd d(cols);
    for (int64_t i = 0; i < cols; ++i) d[i] = wr[i] - dequantize_code(codes[i], grids[i / gs]);
    Eigen::VectorXd c = hd * d;  // H d, kept current as groups change
    before[static_cast<size_t>(r)] = d.dot(c);
    Eigen::VectorXd dold(gs), dn(gs), best_d(gs), e(gs);
    double shrink_sum = 0;
    for (int64_t g = 0; g < ng; ++g) {
      const int64_t c0 = g * gs;
      const auto hgg = hd.block(c0, c0, gs, gs);
      dold = d.segment(c0, gs);
      e = c.segment(c0, gs) - hgg * dold;  // the other groups' coupling, Σ_{g'≠g} H_gg' d_g'
      // The row's error as a function of this group's residual x, up to a constant: xᵀ H_gg x + 2 xᵀ e.
      auto part = [&](const Eigen::VectorXd& x) { return x.dot(hgg * x) + 2 * x.dot(e); };
      double best = part(dold), best_p = 1;
      bool changed = false;
      IntGrid best_grid = grids[g];
      for (int k = 1; k <= o.clip_steps; ++k) {
        const float p = awq_clip_ratio(o, k);
        const IntGrid cand = minmax_grid(wr + c0, gs, f.bits, f.symmetric, p, fp16_scales);
        for (int64_t i = 0; i < gs; ++i)
          dn[i] = wr[c0 + i] - dequantize_code(quantize_code(wr[c0 + i], cand, maxq), cand);
        const double v = part(dn);
        if (v < best) {
          best = v;
          best_p = p;
          best_grid = cand;
          best_d = dn;
          changed = true;
        }
      }
      shrink_sum += best_p;
      if (!changed) continue;
      c.noalias() += hd.middleCols(c0, gs) * (best_d - dold);
      d.segment(c0, gs) = best_d;
      grids[g] = best_grid;
      for (int64_t i = 0; i < gs; ++i) codes[c0 + i] = static_cast<uint8_t>(quantize_code(wr[c0 + i], best_grid, maxq));
    }
    after[static_cast<size_t>(r)] = d.dot(hd * d);
    shrink[static_cast<size_t>(r)] = shrink_sum / static_cast<double>(ng);
  }
  res.mean_shrink = 0;
  for (int64_t r = 0; r < rows; ++r) {
    res.error_before += before[static_cast<size_t>(r)];
    res.error_after += after[static_cast<size_t>(r)];
    res.mean_shrink += shrink[static_cast<size_t>(r)];
  }
  res.mean_shrink = rows ? res.mean_shrink / static_cast<double>(rows) : 1;
  return res;
}

}  // namespace lowbit
