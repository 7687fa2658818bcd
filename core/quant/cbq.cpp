#include "core/quant/cbq.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>
#include <random>
#include <string>

#include "core/jobs/progress.h"
#include "core/quant/awq.h"
#include "core/quant/quantize_model.h"
#include "core/recon/block_grad.h"
#include "core/recon/lora_round.h"

namespace lowbit {
namespace {

using Clock = std::chrono::steady_clock;

// One linear layer of a block under training (an Int format) or kept in a float type.
struct LayerState {
  LinearRef ref;
  Format format;
  std::unique_ptr<LoraRounding> round;  // null for float-kind layers
  Adam adam_a, adam_b, adam_s;
};

// A block from the window it enters until it is hard-rounded.
struct BlockState {
  int64_t index = 0;
  DecoderBlock student;  // CFP-processed; its linears hold the current Ŵ
  DecoderBlock grads;
  std::vector<LayerState> layers;
  int64_t steps_total = 0, steps_done = 0;  // the block's schedule, over all its windows
  BlockTape tape;
};

// Runs S windows of T rows of x through one block in chunks of windows (bounded scratch memory),
// calling `hook` (may be empty) with each chunk's linear inputs.
void forward_chunks(const ModelConfig& c, const DecoderBlock& b, MatrixRM& x, int64_t S, int64_t T, const LinearInputHook& hook) {
  const int64_t chunk = 16;
  MatrixRM part;
  for (int64_t s0 = 0; s0 < S; s0 += chunk) {
    const int64_t n = std::min(chunk, S - s0);
    part = x.middleRows(s0 * T, n * T);
    block_forward(c, b, part, n, T, hook);
    x.middleRows(s0 * T, n * T) = part;
  }
}

void gather_rows(const MatrixRM& src, const std::vector<int64_t>& windows, int64_t T, MatrixRM& dst) {
  dst.resize(static_cast<int64_t>(windows.size()) * T, src.cols());
  for (size_t i = 0; i < windows.size(); ++i) dst.middleRows(static_cast<int64_t>(i) * T, T) = src.middleRows(windows[i] * T, T);
}

// CFP on a block's normed inputs: outlier channels of max |x| scaled down to the fence (folded into
// the norm), then each weight row's |w| outliers truncated. Returns (weights truncated, channels scaled).
std::pair<int64_t, int64_t> cfp_block(const ModelConfig& c, DecoderBlock& b, const VectorF& qkv_max, const VectorF& ffn_max,
                                      const CbqOptions& o) {
  int64_t channels = 0, truncated = 0;
  if (o.cfp_activations) {
    for (auto [group, mx] : {std::pair{AwqGroup::Qkv, &qkv_max}, {AwqGroup::GateUp, &ffn_max}}) {
      const CfpResult r = cfp_fences({mx->data(), static_cast<size_t>(mx->size())}, o.cfp);
      if (r.outliers.empty() || !(r.threshold > 0)) continue;
      VectorF s = VectorF::Ones(mx->size());
      for (int64_t i : r.outliers) s[i] = static_cast<float>((*mx)[i] / r.threshold);
      if (awq_apply_scale(c, b, group, s)) channels += static_cast<int64_t>(r.outliers.size());
    }
  }
  if (o.cfp_weights) {
    for (Linear* l : {&b.q, &b.k, &b.v, &b.o, &b.gate, &b.up, &b.down}) {
      for (int64_t r = 0; r < l->w.rows(); ++r) {
        const VectorF mag = l->w.row(r).cwiseAbs().transpose();
        const CfpResult f = cfp_fences({mag.data(), static_cast<size_t>(mag.size())}, o.cfp);
        if (f.outliers.empty()) continue;
        const float t = static_cast<float>(f.threshold);
        l->w.row(r) = l->w.row(r).cwiseMax(-t).cwiseMin(t);
        truncated += static_cast<int64_t>(f.outliers.size());
      }
    }
  }
  return {truncated, channels};
}

// The per-channel max |x| of a linear input, accumulated over chunks.
void accumulate_max(VectorF& acc, const MatrixRM& x) {
  const VectorF m = x.cwiseAbs().colwise().maxCoeff().transpose();
  if (acc.size() != m.size()) acc = m;
  else acc = acc.cwiseMax(m);
}

double relative_mse(const MatrixRM& y, const MatrixRM& target, double energy) {
  return (y - target).squaredNorm() / (static_cast<double>(y.size()) * energy);
}

}  // namespace

Expected<void> CbqOptions::validate() const {
  auto bad = [](const std::string& m) { return make_error(ErrorCode::InvalidArgument, "cbq: " + m); };
  if (window < 1) return bad("--cbq-window must be at least 1 block");
  if (iterations < 0) return bad("--cbq-iters must be >= 0");
  if (batch < 1) return bad("--cbq-batch must be at least 1 calibration window");
  if (samples < 0) return bad("--cbq-samples must be >= 0 (0: all calibration windows)");
  if (!(lr >= 0) || !(scale_lr >= 0)) return bad("learning rates must be >= 0");
  if (rank < 0) return bad("--cbq-rank must be >= 0 (0: 5 % of the smaller dimension, at least 4)");
  if (!(lambda >= 0)) return bad("--cbq-lambda must be >= 0");
  if (!(beta_start >= 1) || !(beta_end >= 1)) return bad("β must be >= 1");
  if (!(warmup >= 0 && warmup < 1)) return bad("warm-up must lie in [0, 1)");
  if (!(kappa_end >= 1)) return bad("κ_end must be >= 1");
  if (!(kl_weight >= 0)) return bad("--cbq-kl must be >= 0");
  return cfp.validate();
}

Expected<void> validate_cbq(const QuantizeOptions& o) {
  LB_TRY_VOID(o.cbq.validate());
  LB_TRY_VOID(o.calib.validate());
  auto check = [](const Format& f, const std::string& who) -> Expected<void> {
    if (f.kind == Format::Kind::Int || f.kind == Format::Kind::Float) return {};
    return make_error(ErrorCode::Unsupported, "cbq quantizes onto the int family int{b}g{g}{a|s}, not " + who);
  };
  LB_TRY_VOID(check(o.format, "format " + o.format.name()));
  for (const auto& [name, f] : o.per_tensor) LB_TRY_VOID(check(f, f.name() + " (tensor " + name + ")"));
  return {};
}

Expected<QuantizeResult> cbq_quantize_model(ModelWeights& m, const QuantizeOptions& opt, const std::vector<int32_t>& calib_tokens,
                                            Progress* progress, const CancelToken* cancel) {
  LB_TRY_VOID(validate_cbq(opt));
  const CbqOptions& o = opt.cbq;
  const ModelConfig& c = m.config;
  const auto t0 = Clock::now();
  const int64_t T = opt.calib.ctx, L = c.n_layers;
  const int64_t drawn = T > 0 ? static_cast<int64_t>(calib_tokens.size()) / T : 0;
  if (drawn < 1 || static_cast<int64_t>(calib_tokens.size()) != drawn * T)
    return make_error(ErrorCode::InvalidArgument, "cbq: the calibration tokens do not form windows of " + std::to_string(T));
  // Windows no minibatch would reach (iterations × batch per window) are not carried at all.
  const int64_t S = std::min(o.samples > 0 ? std::min(o.samples, drawn) : drawn, std::max<int64_t>(1, o.iterations * o.batch));
  const int64_t batch = std::min(o.batch, S);
  const int64_t K = std::min(o.window, L);
  const int64_t n_windows = L - K + 1;

  QuantizeResult res;
  res.cbq.window = K;
  res.cbq.iterations = o.iterations;
  res.cbq.batch = batch;
  res.cbq.samples = S;
  MatrixRM X;  // the calibration windows entering the current window (through the quantized prefix)
  LB_TRY_VOID(embed_windows(m, {calib_tokens.data(), static_cast<size_t>(S * T)}, S, T, X));
  const std::vector<DecoderBlock> fp = m.blocks;  // the full-precision targets
  const auto refs = block_linears(m);
  std::vector<std::unique_ptr<BlockState>> live;  // blocks of the current window, in order
  std::vector<int64_t> probe(static_cast<size_t>(batch));
  std::iota(probe.begin(), probe.end(), 0);
  double bits = 0;
  const int64_t total_steps = n_windows * o.iterations;
  int64_t done_steps = 0;
  auto windows_of = [&](int64_t b) { return std::min(b, L - K) - std::max<int64_t>(0, b - K + 1) + 1; };

  // Hard-rounded (or float-converted) weights of a block's layers into `into`'s linears.
  auto hard_block = [&](BlockState& bs, DecoderBlock& into, bool keep) -> Expected<void> {
    for (LayerState& ls : bs.layers) {
      Linear& l = linear_of(into, ls.ref.slot);
      if (!ls.round) continue;  // float layers already hold their converted values
      EncodedTensor t;
      t.format = ls.format;
      t.rows = l.w.rows();
      t.cols = l.w.cols();
      t.ints = ls.round->harden(opt.fp16_scales);
      dequantize_int(t.ints, l.w.data());
      if (keep && opt.keep_encoded) LB_TRY_VOID(keep_encoded(res, ls.ref.tensor, std::move(t)));
    }
    return {};
  };
  // The window's output for the probe windows with hard weights, against the targets.
  auto probe_loss = [&](const MatrixRM& Y, double energy, bool last, double& kl) -> Expected<double> {
    MatrixRM x;
    gather_rows(X, probe, T, x);
    for (auto& bs : live) {
      DecoderBlock hard = bs->student;
      LB_TRY_VOID(hard_block(*bs, hard, false));
      block_forward(c, hard, x, batch, T);
    }
    MatrixRM target;
    gather_rows(Y, probe, T, target);
    kl = -1;
    if (last) {
      MatrixRM teacher;
      head_logits(m, target, teacher);
      kl = head_kl_loss_and_grad(m, x, teacher, nullptr);
    }
    return relative_mse(x, target, energy);
  };

  for (int64_t w = 0; w < n_windows; ++w) {
    const auto tw = Clock::now();
    CbqWindowReport rep;
    rep.first_block = w;
    rep.blocks = K;
    const bool last = w + K == L;
    // 1. Full-precision targets Y on the current inputs; the statistics of the blocks entering now.
    MatrixRM Y = X;
    for (int64_t b = w; b < w + K; ++b) {
      const bool entering = w == 0 || b == w + K - 1;
      VectorF qkv_max, ffn_max;
      LinearInputHook hook;
      if (entering)
        hook = [&](LinearInput which, const MatrixRM& in) {
          if (which == LinearInput::kQkv) accumulate_max(qkv_max, in);
          if (which == LinearInput::kGateUp) accumulate_max(ffn_max, in);
        };
      forward_chunks(c, fp[static_cast<size_t>(b)], Y, S, T, hook);
      if (!entering) continue;
      auto bs = std::make_unique<BlockState>();
      bs->index = b;
      bs->student = fp[static_cast<size_t>(b)];
      const auto [truncated, channels] = cfp_block(c, bs->student, qkv_max, ffn_max, o);
      rep.weight_outliers += truncated;
      rep.activation_outlier_channels += channels;
      for (const LinearRef& r : refs) {
        if (r.block != b) continue;
        LayerState ls;
        ls.ref = r;
        ls.format = opt.format_of(r.tensor);
        Linear& l = linear_of(bs->student, r.slot);
        if (ls.format.kind == Format::Kind::Float) {
          LB_TRY_ASSIGN(EncodedTensor t, encode_rtn(l.w.data(), l.w.rows(), l.w.cols(), ls.format, false, r.tensor));
          t.dequantize(l.w.data());
          if (opt.keep_encoded) LB_TRY_VOID(keep_encoded(res, r.tensor, std::move(t)));
        } else {
          if (!ls.format.fits(l.w.cols()))
            return make_error(ErrorCode::InvalidArgument, "cbq: " + r.tensor + " has " + std::to_string(l.w.cols()) +
                                                              " columns, which groups of " + ls.format.name() + " do not divide");
          const uint64_t seed = o.seed * 7919 + static_cast<uint64_t>(b * 16) + static_cast<uint64_t>(r.slot);
          IntTensor start;
          if (o.init_clip) start = rtn_int_mse(l.w.data(), l.w.rows(), l.w.cols(), ls.format);
          ls.round = std::make_unique<LoraRounding>(l.w, ls.format, o.rank, seed, start.grids);
          ls.adam_a.lr = ls.adam_b.lr = static_cast<float>(o.lr);
          ls.adam_s.lr = static_cast<float>(o.scale_lr);
        }
        bs->layers.push_back(std::move(ls));
      }
      bs->steps_total = windows_of(b) * o.iterations;
      zero_grads_like(bs->student, bs->grads);
      live.push_back(std::move(bs));
    }
    const double energy = std::max(1e-30, Y.squaredNorm() / static_cast<double>(Y.size()));
    rep.prepare_seconds = seconds_since(tw);
    const auto tt = Clock::now();
    LB_TRY_ASSIGN(rep.mse_start, probe_loss(Y, energy, last && o.kl_weight > 0, rep.kl_start));

    // 2. Adam on the window's rounding compensations and step sizes.
    std::mt19937_64 rng(o.seed + static_cast<uint64_t>(w) * 1000003ULL);
    std::vector<int64_t> order(static_cast<size_t>(S));
    std::iota(order.begin(), order.end(), 0);
    size_t cursor = order.size();
    MatrixRM xin, target, dy, dx, teacher, dkl;
    std::vector<MatrixRM> outs(static_cast<size_t>(K));
    for (int64_t it = 0; it < o.iterations; ++it) {
      if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "quantization cancelled");
      std::vector<int64_t> mb;
      while (static_cast<int64_t>(mb.size()) < batch) {
        if (cursor == order.size()) {
          std::shuffle(order.begin(), order.end(), rng);
          cursor = 0;
        }
        mb.push_back(order[cursor++]);
      }
      gather_rows(X, mb, T, xin);
      gather_rows(Y, mb, T, target);
      double reg = 0;
      for (size_t j = 0; j < live.size(); ++j) {
        BlockState& bs = *live[j];
        const double p = bs.steps_total ? static_cast<double>(bs.steps_done) / static_cast<double>(bs.steps_total) : 1.0;
        const float kappa = static_cast<float>(std::pow(o.kappa_end, p));
        for (LayerState& ls : bs.layers)
          if (ls.round) ls.round->soft_weights(kappa, linear_of(bs.student, ls.ref.slot).w);
        block_forward_tape(c, bs.student, j == 0 ? xin : outs[j - 1], batch, T, bs.tape, outs[j]);
      }
      const MatrixRM& y = outs.back();
      double recon = relative_mse(y, target, energy);
      dy = (y - target) * static_cast<float>(2.0 / (static_cast<double>(y.size()) * energy));
      if (last && o.kl_weight > 0) {
        head_logits(m, target, teacher);
        recon += o.kl_weight * head_kl_loss_and_grad(m, y, teacher, &dkl);
        dy += dkl * static_cast<float>(o.kl_weight);
      }
      for (size_t j = live.size(); j-- > 0;) {
        BlockState& bs = *live[j];
        zero_grads_like(bs.student, bs.grads);
        block_backward(c, bs.student, bs.tape, dy, bs.grads, j > 0 ? &dx : nullptr);
        const double p = bs.steps_total ? static_cast<double>(bs.steps_done) / static_cast<double>(bs.steps_total) : 1.0;
        const float kappa = static_cast<float>(std::pow(o.kappa_end, p));
        const double t = o.warmup < 1 ? (p - o.warmup) / (1.0 - o.warmup) : 1.0;
        const float lambda = t >= 0 ? static_cast<float>(o.lambda) : 0.0f;
        const float beta = static_cast<float>(o.beta_end + (o.beta_start - o.beta_end) * std::max(0.0, 1.0 - std::max(0.0, t)));
        for (LayerState& ls : bs.layers) {
          if (!ls.round) continue;
          if (lambda > 0) reg += lambda * ls.round->regularizer(kappa, beta);
          ls.round->backward(linear_of(bs.grads, ls.ref.slot).w, kappa, lambda, beta);
          ls.round->step(ls.adam_a, ls.adam_b, ls.adam_s);
        }
        ++bs.steps_done;
        if (j > 0) std::swap(dy, dx);
      }
      rep.loss.push_back(static_cast<float>(recon + reg));
      rep.recon.push_back(static_cast<float>(recon));
      ++done_steps;
      if (progress)
        progress->report(total_steps ? static_cast<double>(done_steps) / static_cast<double>(total_steps) : 1.0,
                         "CBQ window " + std::to_string(w + 1) + "/" + std::to_string(n_windows) + " (blocks " +
                             std::to_string(w) + "-" + std::to_string(w + K - 1) + "): step " + std::to_string(it + 1) + "/" +
                             std::to_string(o.iterations) + ", loss " + std::to_string(recon + reg));
    }
    rep.train_seconds = seconds_since(tt);
    LB_TRY_ASSIGN(rep.mse_final, probe_loss(Y, energy, last && o.kl_weight > 0, rep.kl_final));

    // 3. The leaving blocks (the first; all on the last window) are hard-rounded into the model.
    const size_t leaving = last ? live.size() : 1;
    for (size_t j = 0; j < leaving; ++j) {
      BlockState& bs = *live[j];
      const auto tl = Clock::now();
      LB_TRY_VOID(hard_block(bs, bs.student, true));
      DecoderBlock& dst = m.blocks[static_cast<size_t>(bs.index)];
      for (LayerState& ls : bs.layers) {
        const MatrixRM& before = linear_of(fp[static_cast<size_t>(bs.index)], ls.ref.slot).w;
        const MatrixRM& after = linear_of(bs.student, ls.ref.slot).w;
        LayerReport lr;
        lr.tensor = ls.ref.tensor;
        lr.part = slot_name(ls.ref.slot);
        lr.format = ls.format.name();
        lr.rows = before.rows();
        lr.cols = before.cols();
        // Against the CFP-processed weights the codes were chosen for (CFP's scaled columns differ from
        // the originals by their scale).
        const MatrixRM& base = ls.round ? ls.round->weights() : before;
        const double wn = base.norm();
        lr.weight_rel_error = wn > 0 ? (base - after).norm() / wn : 0.0;
        lr.seconds = seconds_since(tl);
        lr.note = "cbq";
        bits += ls.format.bits_per_weight(before.rows(), before.cols()) * static_cast<double>(before.size());
        res.quantized_weights += static_cast<int64_t>(before.size());
        res.layers.push_back(std::move(lr));
      }
      dst = bs.student;
    }
    if (!last) forward_chunks(c, m.blocks[static_cast<size_t>(w)], X, S, T, {});
    live.erase(live.begin(), live.begin() + static_cast<std::ptrdiff_t>(leaving));
    rep.seconds = seconds_since(tw);
    res.cbq.windows.push_back(std::move(rep));
  }
  res.bits_per_weight = res.quantized_weights ? bits / static_cast<double>(res.quantized_weights) : 0;
  res.seconds = seconds_since(t0);
  return res;
}

}  // namespace lowbit
