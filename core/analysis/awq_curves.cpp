#include "core/analysis/awq_curves.h"

#include <chrono>

#include "core/quant/awq_model.h"
#include "core/quant/quantize_model.h"

namespace lowbit {

Expected<AwqCurvesResult> awq_curves(ModelWeights& m, std::span<const int32_t> windows, int64_t ctx, const Format& format,
                                     const AwqOptions& options, Progress* progress, const CancelToken* cancel,
                                     const BlockWalkerFactory& walker) {
  if (format.kind != Format::Kind::Int)
    return make_error(ErrorCode::InvalidArgument, "AWQ curves need an int-family format, got " + format.name());
  const auto t0 = std::chrono::steady_clock::now();
  QuantizeOptions q;
  q.method = QuantMethod::Awq;
  q.format = format;
  q.awq = options;
  q.calib_walker = walker;
  q.calib.ctx = ctx;
  q.calib.samples = ctx > 0 ? static_cast<int64_t>(windows.size()) / ctx : 0;
  LB_TRY_VOID(q.validate());

  AwqCurvesResult res;
  res.bits = format.bits;
  res.format = format.name();
  auto observe = [&](const AwqGroupDecision& d) -> Expected<void> {
    AwqGroupCurve c;
    c.block = d.block;
    c.group = awq_group_name(d.group);
    c.applied = d.search != nullptr;
    c.note = d.note;
    AwqSearchResult own;
    const AwqSearchResult* s = d.search;
    if (!s) {  // what the search would have said, for the view only
      LB_TRY_ASSIGN(own, awq_search_scale(d.layers, *d.h, d.mean_abs, options));
      s = &own;
    }
    for (int i = 0; i < options.alpha_grid; ++i) c.alphas.push_back(static_cast<double>(i) / options.alpha_grid);
    c.alpha_error = s->curve;
    c.alpha = s->alpha;
    c.error_rtn = s->error_rtn;
    // The clip curve on the weights as AWQ now holds them (scaled when applied), H of their input.
    const VectorF ones = VectorF::Ones(d.h->rows());
    for (int k = 0; k <= options.clip_steps; ++k) {
      const float p = awq_clip_ratio(options, k);
      LB_TRY_ASSIGN(const double e, awq_scaled_error(d.layers, *d.h, ones, p));
      c.clip_ratios.push_back(p);
      c.clip_error.push_back(e);
    }
    double rows = 0, ratio = 0;
    c.clip_search_error = 0;
    for (const AwqLayer& l : d.layers) {
      LB_TRY_ASSIGN(const AwqClipResult cr, awq_clip(*l.w, *d.h, l.format, options));
      c.clip_search_error += cr.error_after;
      ratio += cr.mean_shrink * static_cast<double>(l.w->rows());
      rows += static_cast<double>(l.w->rows());
    }
    c.clip_search_mean_ratio = rows > 0 ? ratio / rows : 1.0;
    res.groups.push_back(std::move(c));
    return {};
  };
  // AWQ folds scales into norms and neighbouring layers and quantizes in place: work on the blocks,
  // then put the fp32 blocks back whatever happens.
  struct Restore {
    ModelWeights& m;
    std::vector<DecoderBlock> saved;
    ~Restore() { m.blocks = std::move(saved); }
  } restore{m, m.blocks};
  auto run = awq_quantize_model(m, q, std::vector<int32_t>(windows.begin(), windows.end()), progress, cancel, observe);
  if (!run) return Unexpected{run.error()};
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace lowbit
