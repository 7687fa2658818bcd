#include "core/quant/awq_model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <string>

#include "core/calib/analyze.h"
#include "core/jobs/progress.h"
#include "core/quant/awq.h"
#include "core/quant/block_cache.h"
#include "core/quant/gptq.h"
#include "core/quant/int_quant.h"

namespace lowbit {
namespace {

using Clock = std::chrono::steady_clock;

AwqGroup group_of(LinearSlot s) {
  switch (s) {
    case LinearSlot::Q:
    case LinearSlot::K:
    case LinearSlot::V:
      return AwqGroup::Qkv;
    case LinearSlot::O:
      return AwqGroup::O;
    case LinearSlot::Gate:
    case LinearSlot::Up:
      return AwqGroup::GateUp;
    case LinearSlot::Down:
      return AwqGroup::Down;
  }
  return AwqGroup::Qkv;
}

// A fused checkpoint tensor (phi3's qkv_proj) covers several layers: name the part too.
std::string label_of(const LinearRef& r) {
  return r.tensor +
         (r.tensor.find(slot_name(r.slot)) == std::string::npos ? std::string(" (") + slot_name(r.slot) + ")" : "");
}

// ‖(W − Ŵ) X‖ / ‖W X‖ from the Hessian of X.
double output_rel_error(const MatrixRM& before, const MatrixRM& after, const MatrixRM& h) {
  const MatrixRM d = before - after;
  const double num = (d * h).cwiseProduct(d).cast<double>().sum();
  const double den = (before * h).cwiseProduct(before).cast<double>().sum();
  return den > 0 ? std::sqrt(std::max(0.0, num / den)) : 0.0;
}

// Clamps each weight into the range its group's grid represents, [s·(0 − z), s·(maxq − z)].
void clamp_to_grids(const IntTensor& t, MatrixRM& w) {
  const float maxq = static_cast<float>(max_code(t.format.bits));
  for (int64_t r = 0; r < t.rows; ++r)
    for (int64_t c = 0; c < t.cols; ++c) {
      const IntGrid& g = t.grid(r, c);
      w(r, c) = std::clamp(w(r, c), dequantize_code(0, g), dequantize_code(maxq, g));
    }
}

// What the scale search left for one group: the Hessian of its (possibly scaled) input.
struct GroupState {
  MatrixRM h;
  double alpha = -1;  // -1: not scaled
  std::string note;
};

}  // namespace

Expected<void> validate_awq(const QuantizeOptions& o) {
  LB_TRY_VOID(o.awq.validate());
  LB_TRY_VOID(o.calib.validate());
  auto check = [&](const Format& f, const std::string& who) -> Expected<void> {
    if (o.method == QuantMethod::AwqGptq && f.kind != Format::Kind::Float) {
      GptqOptions g = o.gptq;
      g.format = f;
      if (auto v = g.validate(); !v)
        return make_error(v.error().code, "awq+gptq onto " + who + ": " + v.error().message);
    } else if (f.kind == Format::Kind::OneBit) {
      return make_error(ErrorCode::Unsupported, "AWQ onto " + who + ": format onebit needs --method onebit");
    }
    return {};
  };
  LB_TRY_VOID(check(o.format, "format " + o.format.name()));
  for (const auto& [name, f] : o.per_tensor) LB_TRY_VOID(check(f, f.name() + " (tensor " + name + ")"));
  return {};
}

Expected<QuantizeResult> awq_quantize_model(ModelWeights& m, const QuantizeOptions& o,
                                            const std::vector<int32_t>& calib_tokens, Progress* progress,
                                            const CancelToken* cancel, const AwqObserver& observer) {
  LB_TRY_VOID(validate_awq(o));
  const bool with_gptq = o.method == QuantMethod::AwqGptq;
  const std::string method = quant_method_name(o.method);
  const auto t0 = Clock::now();
  QuantizeResult res;
  const auto refs = block_linears(m);
  double bits = 0;
  auto process_block = [&](int64_t b, BlockStats& stats) -> Expected<void> {
    DecoderBlock& blk = m.blocks[static_cast<size_t>(b)];
    // 1. The α search of each group and the folding of its scales, in llm-awq's order (q/k/v before
    //    o, so v_proj's columns are scaled before o's scales divide its rows).
    std::map<AwqGroup, GroupState> groups;
    for (AwqGroup g : {AwqGroup::Qkv, AwqGroup::O, AwqGroup::GateUp, AwqGroup::Down}) {
      std::vector<AwqLayer> layers;
      LinearInput input = LinearInput::kQkv;
      for (const auto& r : refs)
        if (r.block == b && group_of(r.slot) == g) {
          layers.push_back({&linear_of(m, r).w, o.format_of(r.tensor), label_of(r)});
          input = input_of(r.slot);
        }
      if (layers.empty()) continue;
      const InputStats& st = stats.at(input);
      GroupState gs;
      gs.h = st.hessian();
      if (auto why = awq_fold_blocker(m.config, blk, g)) {
        gs.note = *why;
        if (observer) LB_TRY_VOID(observer({b, g, nullptr, gs.note, layers, &gs.h, st.mean_abs()}));
      } else {
        LB_TRY_ASSIGN(const AwqSearchResult sr, awq_search_scale(layers, gs.h, st.mean_abs(), o.awq));
        LB_TRY_VOID(awq_apply_scale(m.config, blk, g, sr.scales));
        gs.alpha = sr.alpha;
        gs.h = awq_scaled_hessian(gs.h, sr.scales);
        if (observer) LB_TRY_VOID(observer({b, g, &sr, gs.note, layers, &gs.h, st.mean_abs()}));
      }
      groups.emplace(g, std::move(gs));
    }
    // 2. Each layer quantized from its scaled weights and the Hessian of its scaled input.
    for (const auto& r : refs) {
      if (r.block != b) continue;
      if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "quantization cancelled");
      const auto ts = Clock::now();
      Linear& l = linear_of(m, r);
      const Format f = o.format_of(r.tensor);
      const GroupState& gs = groups.at(group_of(r.slot));
      const std::string label = label_of(r);
      const MatrixRM before = l.w;
      double clip = -1;
      if (with_gptq && f.kind != Format::Kind::Float) {
        if (f.kind == Format::Kind::Int && o.awq.clip) {
          // llm-awq's apply_clip: the weights are clamped to the ranges the clip search chose, then
          // GPTQ rounds them (its grids come from the clamped weights).
          LB_TRY_ASSIGN(const AwqClipResult c, awq_clip(l.w, gs.h, f, o.awq, o.fp16_scales));
          clamp_to_grids(c.tensor, l.w);
          clip = c.mean_shrink;
        }
        GptqOptions g = o.gptq;
        g.format = f;
        g.fp16_scales = g.fp16_scales || o.fp16_scales;
        LB_TRY_ASSIGN(GptqResult q, gptq_quantize({l.w.data(), static_cast<size_t>(l.w.size())}, l.w.rows(), l.w.cols(),
                                                  {gs.h.data(), static_cast<size_t>(gs.h.size())}, g, label));
        for (auto& w : q.warnings) res.warnings.push_back(std::move(w));
        std::copy(q.dequantized.begin(), q.dequantized.end(), l.w.data());  // Ŵ for both format families
        if (o.keep_encoded) LB_TRY_VOID(keep_encoded(res, r.tensor, encoded_from_gptq(std::move(q), f, l.w.rows(), l.w.cols())));
      } else if (f.kind == Format::Kind::Int && o.awq.clip) {
        LB_TRY_ASSIGN(AwqClipResult c, awq_clip(l.w, gs.h, f, o.awq, o.fp16_scales));
        dequantize_int(c.tensor, l.w.data());
        clip = c.mean_shrink;
        if (o.keep_encoded) {
          EncodedTensor t;
          t.format = f;
          t.rows = l.w.rows();
          t.cols = l.w.cols();
          t.ints = std::move(c.tensor);
          LB_TRY_VOID(keep_encoded(res, r.tensor, std::move(t)));
        }
      } else {
        // ggml types search their own block scales; float types have nothing to clip.
        LB_TRY_ASSIGN(EncodedTensor t, encode_rtn(l.w.data(), l.w.rows(), l.w.cols(), f, false, label, o.fp16_scales));
        t.dequantize(l.w.data());
        if (o.keep_encoded) LB_TRY_VOID(keep_encoded(res, r.tensor, std::move(t)));
      }
      LayerReport rep;
      rep.tensor = r.tensor;
      rep.part = slot_name(r.slot);
      rep.format = f.name();
      rep.rows = before.rows();
      rep.cols = before.cols();
      const double wn = before.norm();
      rep.weight_rel_error = wn > 0 ? (before - l.w).norm() / wn : 0.0;
      rep.output_rel_error = output_rel_error(before, l.w, gs.h);
      rep.seconds = seconds_since(ts);
      rep.awq_alpha = gs.alpha;
      rep.awq_clip = clip;
      rep.note = gs.note;
      bits += f.bits_per_weight(before.rows(), before.cols()) * static_cast<double>(before.size());
      res.quantized_weights += static_cast<int64_t>(before.size());
      res.layers.push_back(std::move(rep));
    }
    return {};
  };
  // The statistics of block b come from the windows run through blocks < b, already processed; the
  // blocks are kept for --resume and streamed as the options say, as GPTQ's are.
  LB_TRY_VOID(calibrated_blocks(m, o, calib_tokens, res, bits, process_block, progress, cancel));
  res.bits_per_weight = res.quantized_weights ? bits / static_cast<double>(res.quantized_weights) : 0;
  res.seconds = seconds_since(t0);
  return res;
}

}  // namespace lowbit
