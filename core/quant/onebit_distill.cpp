#include "core/quant/onebit_distill.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

#include "core/jobs/progress.h"
#include "core/recon/block_grad.h"

namespace lowbit {
namespace {

using Clock = std::chrono::steady_clock;

// One 1-bit layer: a checkpoint tensor and the block's Linear slots it covers, stacked by rows.
struct Module {
  std::string tensor;
  std::vector<LinearRef> slots;
  int64_t rows = 0, cols = 0;
};

std::vector<Module> block_modules(ModelWeights& m, const std::vector<LinearRef>& refs, int64_t block) {
  std::vector<Module> out;
  for (const LinearRef& r : refs) {
    if (r.block != block) continue;
    const Linear& l = linear_of(m, r);
    if (out.empty() || out.back().tensor != r.tensor) out.push_back({r.tensor, {}, 0, l.w.cols()});
    out.back().slots.push_back(r);
    out.back().rows += l.w.rows();
  }
  return out;
}

MatrixRM stacked_weights(ModelWeights& m, const Module& mod) {
  MatrixRM w(mod.rows, mod.cols);
  int64_t r0 = 0;
  for (const LinearRef& r : mod.slots) {
    const MatrixRM& s = linear_of(m, r).w;
    w.middleRows(r0, s.rows()) = s;
    r0 += s.rows();
  }
  return w;
}

void scatter_rows(ModelWeights& m, const Module& mod, const MatrixRM& w) {
  int64_t r0 = 0;
  for (const LinearRef& r : mod.slots) {
    MatrixRM& s = linear_of(m, r).w;
    s = w.middleRows(r0, s.rows());
    r0 += s.rows();
  }
}

void set_layer(ModelWeights& m, const Module& mod, const OneBitLayer& l) {
  MatrixRM w(l.rows, l.cols);
  l.dequantize(w.data());
  scatter_rows(m, mod, w);
}

// What Adam trains for one module: fp32 values (rounded to fp16 only at the end) and latent weights.
struct Trainable {
  MatrixRM latent;  // [rows, cols]; S = sign(latent), +1 for 0
  std::vector<float> h, g;
  float clip = 0;   // latent weights stay within ±clip (the layer's largest |W|)
  Adam adam_h, adam_g, adam_latent;

  MatrixRM signs() const { return latent.unaryExpr([](float x) { return x >= 0.0f ? 1.0f : -1.0f; }); }
  MatrixRM dense() const {
    const Eigen::Map<const VectorF> hv(h.data(), static_cast<Eigen::Index>(h.size()));
    const Eigen::Map<const VectorF> gv(g.data(), static_cast<Eigen::Index>(g.size()));
    return signs().cwiseProduct(hv * gv.transpose());
  }
};

float rms(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return v.empty() ? 0.0f : static_cast<float>(std::sqrt(s / static_cast<double>(v.size())));
}

// The block applied to the rows of `x` (S windows of T tokens) in chunks, written to `y`.
void run_block(const ModelConfig& c, const DecoderBlock& b, const MatrixRM& x, int64_t S, int64_t T, MatrixRM& y) {
  const int64_t chunk = std::max<int64_t>(1, 4096 / T);
  y.resize(x.rows(), x.cols());
  for (int64_t s0 = 0; s0 < S; s0 += chunk) {
    const int64_t n = std::min(chunk, S - s0);
    MatrixRM xs = x.middleRows(s0 * T, n * T);
    block_forward(c, b, xs, n, T);
    y.middleRows(s0 * T, n * T) = xs;
  }
}

double rel_mse(const MatrixRM& y, const MatrixRM& target) {
  const double den = static_cast<double>(target.squaredNorm());
  return den > 0 ? static_cast<double>((y - target).squaredNorm()) / den : 0.0;
}

// Mean KL(teacher ‖ student) of the logits over all rows, in chunks of windows.
double mean_kl(const ModelWeights& m, const MatrixRM& y, const MatrixRM& target, int64_t S, int64_t T) {
  const int64_t chunk = std::max<int64_t>(1, 2048 / T);
  double sum = 0;
  MatrixRM logits;
  for (int64_t s0 = 0; s0 < S; s0 += chunk) {
    const int64_t n = std::min(chunk, S - s0);
    head_logits(m, target.middleRows(s0 * T, n * T), logits);
    sum += head_kl_loss_and_grad(m, y.middleRows(s0 * T, n * T), logits, nullptr) * static_cast<double>(n * T);
  }
  return sum / static_cast<double>(S * T);
}

double rel_error(const MatrixRM& before, const MatrixRM& after) {
  const double n = before.norm();
  return n > 0 ? (before - after).norm() / n : 0.0;
}

}  // namespace

Expected<void> validate_onebit(const QuantizeOptions& o) {
  if (o.format.kind != Format::Kind::OneBit)
    return make_error(ErrorCode::InvalidArgument, "--method onebit quantizes to format onebit, not " + o.format.name());
  for (const auto& [name, f] : o.per_tensor)
    if (f.kind != Format::Kind::OneBit)
      return make_error(ErrorCode::Unsupported, "--method onebit: " + name + " is given format " + f.name() +
                                                    "; a onebit model keeps every block linear layer in format onebit");
  if (o.quantize_embeddings)
    return make_error(ErrorCode::Unsupported, "--method onebit keeps the embeddings and output head in full precision (no --quantize-embeddings)");
  LB_TRY_VOID(o.onebit.validate());
  if (o.onebit.iterations > 0) LB_TRY_VOID(o.calib.validate());
  return {};
}

Expected<QuantizeResult> onebit_quantize_model(ModelWeights& m, const QuantizeOptions& o, const std::vector<int32_t>& calib_tokens,
                                               Progress* progress, const CancelToken* cancel) {
  LB_TRY_VOID(validate_onebit(o));
  const OneBitOptions& ob = o.onebit;
  const auto t0 = Clock::now();
  const ModelConfig& c = m.config;
  const int64_t T = o.calib.ctx;
  const bool with_data = !calib_tokens.empty();
  if (ob.iterations > 0 && !with_data)
    return make_error(ErrorCode::InvalidArgument, "onebit distillation needs calibration windows (or iterations 0: SVID alone)");
  if (with_data && (T < 1 || calib_tokens.size() % static_cast<size_t>(T) != 0))
    return make_error(ErrorCode::InvalidArgument, "calibration tokens do not form whole windows of " + std::to_string(T));
  const int64_t S = with_data ? static_cast<int64_t>(calib_tokens.size()) / T : 0;
  const int64_t batch = std::min<int64_t>(ob.batch, std::max<int64_t>(S, 1));

  // The target of block k is the teacher's own hidden state after block k (the full-precision block
  // on the full-precision stream x_fp), not the full-precision block applied to the student's input:
  // at one bit the error of the earlier blocks is large, and a target on the teacher's stream lets
  // each block also pull the student's drifting residual stream back towards the teacher's, which
  // is what OneBit's hidden-state distillation asks for (student and teacher states compared for the
  // same tokens). The student input x_q is the stream through the blocks already made 1-bit.
  MatrixRM x_fp, x_q, y_fp, y_q;
  if (with_data) {
    LB_TRY_VOID(embed_windows(m, calib_tokens, S, T, x_fp));
    x_q = x_fp;
  }

  QuantizeResult res;
  const auto refs = block_linears(m);
  const int64_t nblocks = static_cast<int64_t>(m.blocks.size());
  double bits = 0;
  std::mt19937_64 rng(ob.seed);
  std::vector<int64_t> order(static_cast<size_t>(S));
  std::iota(order.begin(), order.end(), 0);
  size_t next = order.size();  // position in the shuffled window order

  for (int64_t b = 0; b < nblocks; ++b) {
    if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "quantization cancelled");
    const auto tb = Clock::now();
    const std::string blabel = "onebit block " + std::to_string(b + 1) + "/" + std::to_string(nblocks);
    if (with_data) run_block(c, m.blocks[static_cast<size_t>(b)], x_fp, S, T, y_fp);  // teacher, before any change

    // SVID of every module of the block.
    std::vector<Module> mods = block_modules(m, refs, b);
    std::vector<MatrixRM> originals;
    std::vector<Rank1> rank1;
    std::vector<OneBitLayer> layers;
    for (const Module& mod : mods) {
      originals.push_back(stacked_weights(m, mod));
      rank1.push_back(rank1_abs(originals.back().data(), mod.rows, mod.cols));
      if (!rank1.back().converged)
        res.warnings.push_back(mod.tensor + ": the power iteration of SVID stopped after " + std::to_string(rank1.back().iterations) +
                               " iterations before converging");
      const std::vector<float> a(rank1.back().a.begin(), rank1.back().a.end()), bv(rank1.back().b.begin(), rank1.back().b.end());
      layers.push_back(onebit_from(originals.back().data(), a.data(), bv.data(), mod.rows, mod.cols));
      set_layer(m, mod, layers.back());
    }
    OneBitBlockReport rep;
    rep.block = b;
    const bool kd_here = ob.kd && b == nblocks - 1;
    DecoderBlock& blk = m.blocks[static_cast<size_t>(b)];
    if (with_data) {
      run_block(c, blk, x_q, S, T, y_q);
      rep.mse_svid = rep.mse_final = rel_mse(y_q, y_fp);
      if (kd_here) rep.kl_svid = rep.kl_final = mean_kl(m, y_q, y_fp, S, T);
    }

    if (ob.iterations > 0) {
      std::vector<Trainable> tr(mods.size());
      for (size_t k = 0; k < mods.size(); ++k) {
        const Rank1& r = rank1[k];
        tr[k].latent = originals[k];
        tr[k].h.assign(r.a.begin(), r.a.end());
        tr[k].g.assign(r.b.begin(), r.b.end());
        tr[k].clip = originals[k].cwiseAbs().maxCoeff();
        tr[k].adam_h.lr = static_cast<float>(ob.lr) * rms(tr[k].h);
        tr[k].adam_g.lr = static_cast<float>(ob.lr) * rms(tr[k].g);
        tr[k].adam_latent.lr = static_cast<float>(ob.latent_lr) * originals[k].cwiseAbs().mean();
      }
      BlockTape tape;
      DecoderBlock grads;
      MatrixRM xb(batch * T, c.hidden), yt(batch * T, c.hidden), yb, dy, dkl, teacher_logits;
      for (int64_t step = 0; step < ob.iterations; ++step) {
        if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "quantization cancelled");
        for (int64_t i = 0; i < batch; ++i) {
          if (next >= order.size()) {
            std::shuffle(order.begin(), order.end(), rng);
            next = 0;
          }
          const int64_t w = order[next++];
          xb.middleRows(i * T, T) = x_q.middleRows(w * T, T);
          yt.middleRows(i * T, T) = y_fp.middleRows(w * T, T);
        }
        for (size_t k = 0; k < mods.size(); ++k) scatter_rows(m, mods[k], tr[k].dense());
        block_forward_tape(c, blk, xb, batch, T, tape, yb);
        const double den = std::max(static_cast<double>(yt.squaredNorm()), 1e-30);
        dy = (yb - yt) * static_cast<float>(2.0 / den);
        double loss = static_cast<double>((yb - yt).squaredNorm()) / den;
        if (kd_here) {
          head_logits(m, yt, teacher_logits);
          const double kl = head_kl_loss_and_grad(m, yb, teacher_logits, &dkl);
          dy += dkl * static_cast<float>(ob.kd_weight);
          loss += ob.kd_weight * kl;
        }
        zero_grads_like(blk, grads);
        block_backward(c, blk, tape, dy, grads, nullptr);
        // Chain dL/dŴ through Ŵ = S ⊙ (h gᵀ): dh = (dŴ ⊙ S) g, dg = (dŴ ⊙ S)ᵀ h, dLatent = dŴ ⊙ (h gᵀ) (STE).
        for (size_t k = 0; k < mods.size(); ++k) {
          Trainable& t = tr[k];
          MatrixRM dw(mods[k].rows, mods[k].cols);
          int64_t r0 = 0;
          for (const LinearRef& r : mods[k].slots) {
            const MatrixRM& gs = linear_of(grads, r.slot).w;
            dw.middleRows(r0, gs.rows()) = gs;
            r0 += gs.rows();
          }
          const Eigen::Map<VectorF> hv(t.h.data(), static_cast<Eigen::Index>(t.h.size()));
          const Eigen::Map<VectorF> gv(t.g.data(), static_cast<Eigen::Index>(t.g.size()));
          const MatrixRM p = dw.cwiseProduct(t.signs());
          const VectorF dh = p * gv, dg = p.transpose() * hv;
          const MatrixRM dlat = dw.cwiseProduct(hv * gv.transpose());
          t.adam_h.step(t.h, {dh.data(), static_cast<size_t>(dh.size())});
          t.adam_g.step(t.g, {dg.data(), static_cast<size_t>(dg.size())});
          if (t.adam_latent.lr > 0) {
            t.adam_latent.step({t.latent.data(), static_cast<size_t>(t.latent.size())}, {dlat.data(), static_cast<size_t>(dlat.size())});
            t.latent = t.latent.cwiseMax(-t.clip).cwiseMin(t.clip);
          }
        }
        ++rep.steps;
        if (progress) {
          char stage[160];
          std::snprintf(stage, sizeof stage, "%s, step %lld/%lld, loss %.5f", blabel.c_str(), static_cast<long long>(step + 1),
                        static_cast<long long>(ob.iterations), loss);
          progress->report((static_cast<double>(b) + static_cast<double>(step + 1) / static_cast<double>(ob.iterations + 1)) /
                               static_cast<double>(nblocks), stage);
        }
      }
      // The distilled layers in fp16; kept only when they beat SVID on the whole calibration set.
      std::vector<OneBitLayer> trained;
      for (size_t k = 0; k < mods.size(); ++k) {
        trained.push_back(onebit_from(tr[k].latent.data(), tr[k].h.data(), tr[k].g.data(), mods[k].rows, mods[k].cols));
        set_layer(m, mods[k], trained.back());
      }
      run_block(c, blk, x_q, S, T, y_q);
      double mse = rel_mse(y_q, y_fp), kl = kd_here ? mean_kl(m, y_q, y_fp, S, T) : -1;
      const double score = mse + (kd_here ? ob.kd_weight * kl : 0.0), score_svid = rep.mse_svid + (kd_here ? ob.kd_weight * rep.kl_svid : 0.0);
      if (score <= score_svid) {
        layers = std::move(trained);
        rep.mse_final = mse;
        rep.kl_final = kl;
      } else {
        rep.reverted = true;
        res.warnings.push_back("onebit block " + std::to_string(b) + ": distillation ended worse than SVID (loss " +
                               std::to_string(score) + " > " + std::to_string(score_svid) + "); the SVID values were kept");
        for (size_t k = 0; k < mods.size(); ++k) set_layer(m, mods[k], layers[k]);
        run_block(c, blk, x_q, S, T, y_q);
      }
    }
    if (with_data) {
      x_q.swap(y_q);
      x_fp.swap(y_fp);
    }
    rep.seconds = seconds_since(tb);

    size_t slots_in_block = 0;
    for (const Module& mod : mods) slots_in_block += mod.slots.size();
    for (size_t k = 0; k < mods.size(); ++k) {
      const Module& mod = mods[k];
      MatrixRM w(mod.rows, mod.cols);
      layers[k].dequantize(w.data());
      int64_t r0 = 0;
      for (const LinearRef& r : mod.slots) {
        const int64_t rows = linear_of(m, r).w.rows();
        LayerReport lr;
        lr.tensor = mod.tensor;
        lr.part = slot_name(r.slot);
        lr.format = "onebit";
        lr.rows = rows;
        lr.cols = mod.cols;
        lr.weight_rel_error = rel_error(originals[k].middleRows(r0, rows), w.middleRows(r0, rows));
        lr.seconds = rep.seconds / static_cast<double>(slots_in_block);
        if (with_data) {
          char note[160];
          std::snprintf(note, sizeof note, "block hidden-state rel. MSE %.5f after SVID, %.5f final%s", rep.mse_svid, rep.mse_final,
                        rep.reverted ? " (distillation reverted)" : "");
          lr.note = note;
        }
        res.layers.push_back(std::move(lr));
        r0 += rows;
      }
      bits += layers[k].bits_per_weight() * static_cast<double>(mod.rows * mod.cols);
      res.quantized_weights += mod.rows * mod.cols;
      res.onebit.layers[mod.tensor] = std::move(layers[k]);
    }
    if (with_data) res.onebit.blocks.push_back(rep);
    if (progress) progress->report(static_cast<double>(b + 1) / static_cast<double>(nblocks), blabel + " done");
  }
  res.bits_per_weight = res.quantized_weights ? bits / static_cast<double>(res.quantized_weights) : 0;
  res.seconds = seconds_since(t0);
  return res;
}

}  // namespace lowbit
