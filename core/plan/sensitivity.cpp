#include "core/plan/sensitivity.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/calib/analyze.h"
#include "core/model/forward.h"
#include "core/quant/encoded.h"
#include "core/quant/quantize_model.h"
#include "core/util/sha256.h"

namespace lowbit {
namespace {

// Row-wise log-softmax of one window's logits into `out` (double accumulation, float storage).
void log_softmax_rows(const MatrixRM& logits, std::vector<float>& out) {
  const int64_t T = logits.rows(), V = logits.cols();
  out.resize(static_cast<size_t>(T * V));
  for (int64_t t = 0; t < T; ++t) {
    const float* r = logits.data() + t * V;
    float mx = r[0];
    for (int64_t i = 1; i < V; ++i) mx = std::max(mx, r[i]);
    double s = 0;
    for (int64_t i = 0; i < V; ++i) s += std::exp(static_cast<double>(r[i] - mx));
    const double lse = static_cast<double>(mx) + std::log(s);
    for (int64_t i = 0; i < V; ++i) out[static_cast<size_t>(t * V + i)] = static_cast<float>(r[i] - lse);
  }
}

struct Reference {
  std::vector<MatrixRM> block_inputs;  // x entering block b, b = 0 … L (L: the final norm's input)
  std::vector<float> logp;             // [S·T, V] reference log-probabilities
  double nll = 0;
};

// Scores windows' logits against the reference: mean KL and mean NLL over positions 0 … T−2.
struct Scorer {
  const Reference& ref;
  const std::vector<int32_t>& tokens;
  int64_t T, V;
  double kl = 0, nll = 0;
  int64_t n = 0;
  std::vector<float> lp;
  void operator()(int64_t w, const MatrixRM& logits) {
    log_softmax_rows(logits, lp);
    for (int64_t t = 0; t + 1 < T; ++t) {
      const float* q = lp.data() + t * V;
      const float* p = ref.logp.data() + (w * T + t) * V;
      double k = 0;
      for (int64_t i = 0; i < V; ++i) k += std::exp(static_cast<double>(p[i])) * (static_cast<double>(p[i]) - q[i]);
      kl += std::max(k, 0.0);
      nll -= q[tokens[static_cast<size_t>(w * T + t + 1)]];
      ++n;
    }
  }
};

std::string calib_hash(const std::vector<int32_t>& windows, int64_t ctx, const std::string& model_id) {
  Sha256 h;
  h.update(model_id);
  h.update(std::to_string(ctx));
  h.update(std::string_view(reinterpret_cast<const char*>(windows.data()), windows.size() * sizeof(int32_t)));
  return h.hex_digest().substr(0, 16);
}

// The cache at `p`: empty where there is none yet (or an empty file); an error for a folder or a file
// that is not a sensitivity cache (a JSON object of [kld, dnll] pairs), which is never overwritten.
Expected<nlohmann::json> read_cache(const std::filesystem::path& p) {
  std::error_code ec;
  const auto status = std::filesystem::status(p, ec);
  if (!std::filesystem::exists(status)) return nlohmann::json::object();
  if (std::filesystem::is_directory(status))
    return make_error(ErrorCode::InvalidArgument, p.string() + ": is a folder; the sensitivity cache is a file (--cache FILE)");
  std::ifstream in(p, std::ios::binary);
  if (!in) return make_error(ErrorCode::Io, p.string() + ": cannot read the sensitivity cache");
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  bool ok = j.is_object();
  if (ok)
    for (const auto& [key, v] : j.items()) ok = ok && v.is_array() && v.size() == 2 && v[0].is_number() && v[1].is_number();
  if (!ok)
    return make_error(ErrorCode::InvalidArgument, p.string() + ": is not a sensitivity cache (a JSON object of [kld, dnll] pairs); "
                                                               "left as it is: remove it or name another --cache");
  return j;
}

Expected<void> write_cache(const std::filesystem::path& p, const nlohmann::json& j) {
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  auto temp = p;
  temp += ".partial";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << j.dump();
    if (!out) {
      out.close();
      std::filesystem::remove(temp, ec);
      return make_error(ErrorCode::Io, temp.string() + ": cannot write the sensitivity cache");
    }
  }
  std::filesystem::rename(temp, p, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(temp, ec);
    return make_error(ErrorCode::Io, p.string() + ": cannot write the sensitivity cache there (" + why + ")");
  }
  return {};
}

// The cheap kind: one block-by-block pass over the unquantized model; per block linear and format,
// tr(D H Dᵀ) with D = W − Ŵ (RTN) and H its input's Hessian.
Expected<SensitivityTable> hessian_sensitivity(ModelWeights& m, const std::vector<int32_t>& windows, int64_t ctx,
                                               const SensitivityOptions& o, Progress* progress, const CancelToken* cancel) {
  SensitivityTable table;
  table.kind = SensitivityKind::Hessian;
  table.calib_hash = calib_hash(windows, ctx, o.model_id);
  const auto refs = block_linears(m);
  auto sink = [&](int64_t b, BlockStats& stats) -> Expected<void> {
    // Each input's fp32 Hessian replaces its (double) accumulator, freed at once, as GPTQ does: a 7B
    // block's accumulators are 1.4 GB.
    std::map<LinearInput, MatrixRM> hessians;
    for (auto it = stats.begin(); it != stats.end();) {
      hessians.emplace(it->first, it->second.hessian());
      it = stats.erase(it);
    }
    for (const LinearRef& r : refs) {
      if (r.block != b) continue;
      const MatrixRM& w = linear_of(m, r).w;
      const MatrixRM& h = hessians.at(input_of(r.slot));
      for (const Format& f : o.formats) {
        if (!f.fits(w.cols())) continue;
        std::optional<double> on_backend;
        if (o.error_backend) {
          auto e = o.error_backend({AwqLayer{&w, f, r.tensor}}, h, {VectorF::Ones(w.cols())});
          if (e) on_backend = e->at(0);
          else if (e.error().code != ErrorCode::Unsupported) return Unexpected{e.error()};
        }
        double err = 0;
        if (on_backend) {
          err = *on_backend;
        } else {
          LB_TRY_ASSIGN(const EncodedTensor e, encode_rtn(w.data(), w.rows(), w.cols(), f, false, r.tensor));
          MatrixRM d(w.rows(), w.cols());
          e.dequantize(d.data());
          d = w - d;
          err = (d * h).cwiseProduct(d).cast<double>().sum();
        }
        Sensitivity& s = table.values[r.tensor][f.name()];  // fused parts add up
        s.kld += std::max(err, 0.0);
        s.dnll = std::numeric_limits<double>::quiet_NaN();
        ++table.measured;
      }
    }
    return {};
  };
  LB_TRY_VOID(collect_block_stats(m, windows, ctx, sink, progress, cancel, o.hooks));
  return table;
}

}  // namespace

Expected<void> SensitivityOptions::validate() const {
  if (formats.empty()) return make_error(ErrorCode::InvalidArgument, "sensitivity: no candidate formats");
  for (const Format& f : formats)
    if (f.kind == Format::Kind::OneBit) return make_error(ErrorCode::Unsupported, "sensitivity: format onebit is not a planner choice yet");
  return {};
}

Expected<SensitivityTable> measure_sensitivity(ModelWeights& m, const std::vector<int32_t>& windows, int64_t ctx,
                                               const SensitivityOptions& o, Progress* progress, const CancelToken* cancel) {
  LB_TRY_VOID(o.validate());
  const auto t0 = std::chrono::steady_clock::now();
  if (o.kind == SensitivityKind::Hessian) {
    LB_TRY_ASSIGN(SensitivityTable t, hessian_sensitivity(m, windows, ctx, o, progress, cancel));
    t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return t;
  }
  if (o.hooks.before || o.hooks.after)
    return make_error(ErrorCode::Unsupported, "the KLD sensitivity reruns every later block for each candidate: it needs the whole model "
                                              "in memory (the Hessian kind streams)");
  if (ctx < 2 || windows.empty() || windows.size() % static_cast<size_t>(ctx) != 0)
    return make_error(ErrorCode::InvalidArgument, "sensitivity: the calibration tokens are not whole windows of ctx ≥ 2");
  const int64_t S = static_cast<int64_t>(windows.size()) / ctx, T = ctx, V = m.config.vocab;
  const int64_t L = static_cast<int64_t>(m.blocks.size());
  SensitivityTable table;
  table.calib_hash = calib_hash(windows, ctx, o.model_id);

  // The reference pass — on the backend when one takes the model, else here: hidden states entering
  // every block, and the log-probabilities.
  std::unique_ptr<KldScorer> scorer;
  if (o.kld_backend) {
    auto made = o.kld_backend(m, windows, S, T);
    if (made) {
      scorer = std::move(*made);
      table.backend = scorer->name();
    } else if (made.error().code == ErrorCode::Cancelled) {
      return Unexpected{made.error()};
    } else {
      table.warnings.push_back("the KLD sensitivity runs on the CPU: " + made.error().message);
    }
  }
  Reference ref;
  if (scorer) {
    ref.nll = scorer->nll_ref();
  } else {
    ref.block_inputs.resize(static_cast<size_t>(L + 1));
    LB_TRY_VOID(embed_windows(m, windows, S, T, ref.block_inputs[0]));
    for (int64_t b = 0; b < L; ++b) {
      ref.block_inputs[static_cast<size_t>(b + 1)] = ref.block_inputs[static_cast<size_t>(b)];
      block_forward(m.config, m.blocks[static_cast<size_t>(b)], ref.block_inputs[static_cast<size_t>(b + 1)], S, T);
    }
    ref.logp.resize(static_cast<size_t>(S * T * V));
    {
      std::vector<float> lp;
      double nll = 0;
      int64_t n = 0;
      head_forward(m, ref.block_inputs[static_cast<size_t>(L)], S, T, [&](int64_t w, const MatrixRM& logits) {
        log_softmax_rows(logits, lp);
        std::copy(lp.begin(), lp.end(), ref.logp.begin() + w * T * V);
        for (int64_t t = 0; t + 1 < T; ++t, ++n) nll -= lp[static_cast<size_t>(t * V + windows[static_cast<size_t>(w * T + t + 1)])];
      });
      ref.nll = n ? nll / static_cast<double>(n) : 0;
    }
  }
  table.nll_ref = ref.nll;

  // The tensors: block linears by checkpoint tensor (a fused tensor quantizes all its parts), then
  // the embeddings and the head.
  struct Target {
    std::string name;
    int64_t first_block;  // recompute from here; -1: from the embeddings; L: only the head
    std::vector<LinearRef> parts;
  };
  std::vector<Target> targets;
  for (const LinearRef& r : block_linears(m)) {
    if (targets.empty() || targets.back().name != r.tensor) targets.push_back({r.tensor, r.block, {}});
    targets.back().parts.push_back(r);
  }
  if (o.embeddings) {
    targets.push_back({m.names.tok_embd, -1, {}});
    if (!m.names.lm_head.empty()) targets.push_back({m.names.lm_head, L, {}});
  }

  nlohmann::json cache = nlohmann::json::object();
  if (!o.cache.empty()) {
    LB_TRY_ASSIGN(cache, read_cache(o.cache));
  }
  // Progress counts work, not measurements: a tensor of block b reruns blocks b … L−1 and the head,
  // so the first blocks' candidates cost the most (weights in parameters a token passes through).
  double block_params = 0;
  if (L > 0) {
    const DecoderBlock& b0 = m.blocks[0];
    for (const Linear* l : {&b0.q, &b0.k, &b0.v, &b0.o, &b0.gate, &b0.up, &b0.down}) block_params += static_cast<double>(l->w.size());
  }
  const double head_params = static_cast<double>(m.config.vocab) * static_cast<double>(m.config.hidden);
  auto cost_of = [&](const Target& tg) {
    return static_cast<double>(L - std::max<int64_t>(0, tg.first_block)) * block_params + head_params;
  };
  double total = 0, done = 0;
  for (const Target& tg : targets) total += cost_of(tg) * static_cast<double>(o.formats.size());
  int64_t unsaved = 0;  // measurements not yet in the cache file
  for (const Target& tg : targets) {
    // What is measured so far goes to the cache file before each tensor: a cancelled or killed plan
    // finds it there when run again.
    if (!o.cache.empty() && unsaved > 0) {
      LB_TRY_VOID(write_cache(o.cache, cache));
      unsaved = 0;
    }
    for (const Format& f : o.formats) {
      if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "sensitivity measurement cancelled");
      done += cost_of(tg);
      const std::string key = tg.name + "|" + f.name() + "|rtn|" + table.calib_hash;
      if (cache.contains(key) && cache[key].is_array() && cache[key].size() == 2) {
        table.values[tg.name][f.name()] = {cache[key][0].get<double>(), cache[key][1].get<double>()};
        ++table.cached;
        continue;
      }
      // Quantize the tensor in place (keeping the original), evaluate, restore.
      std::vector<std::pair<MatrixRM*, MatrixRM>> saved;
      bool fits = true;
      auto quantize = [&](MatrixRM& w, const std::string& label) -> Expected<void> {
        if (!f.fits(w.cols())) {
          fits = false;
          return {};
        }
        saved.emplace_back(&w, w);
        std::optional<EncodedTensor> e;
        if (o.rtn_backend) {
          auto t = o.rtn_backend(w.data(), w.rows(), w.cols(), f, false, label, false);
          if (t) e = std::move(*t);
          else if (t.error().code != ErrorCode::Unsupported) return Unexpected{t.error()};
        }
        if (!e) {
          LB_TRY_ASSIGN(e, encode_rtn(w.data(), w.rows(), w.cols(), f, false, label));
        }
        e->dequantize(w.data());
        return {};
      };
      if (tg.parts.empty()) LB_TRY_VOID(quantize(tg.first_block < 0 ? m.tok_embd : m.lm_head, tg.name));
      for (const LinearRef& r : tg.parts) LB_TRY_VOID(quantize(linear_of(m, r).w, tg.name));
      if (fits && scorer) {
        LB_TRY_ASSIGN(const Sensitivity s, scorer->score(m, tg.first_block));
        table.values[tg.name][f.name()] = s;
        cache[key] = {s.kld, s.dnll};
        ++table.measured;
        ++unsaved;
      } else if (fits) {
        Scorer sc{ref, windows, T, V, 0, 0, 0, {}};
        // Tied embeddings are also the head: quantizing them changes every block's input and the head.
        const int64_t from = tg.first_block < 0 ? 0 : tg.first_block;
        MatrixRM x;
        if (tg.first_block < 0) LB_TRY_VOID(embed_windows(m, windows, S, T, x));
        else x = ref.block_inputs[static_cast<size_t>(from)];
        for (int64_t b = from; b < L; ++b) block_forward(m.config, m.blocks[static_cast<size_t>(b)], x, S, T);
        head_forward(m, x, S, T, std::ref(sc));
        const Sensitivity s{sc.n ? sc.kl / static_cast<double>(sc.n) : 0.0, sc.n ? sc.nll / static_cast<double>(sc.n) - ref.nll : 0.0};
        table.values[tg.name][f.name()] = s;
        cache[key] = {s.kld, s.dnll};
        ++table.measured;
        ++unsaved;
      }
      for (auto& [w, orig] : saved) *w = std::move(orig);
      if (progress) progress->report(done / total, "sensitivity " + tg.name + " " + f.name());
    }
  }
  if (!o.cache.empty() && unsaved > 0) LB_TRY_VOID(write_cache(o.cache, cache));
  table.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return table;
}

}  // namespace lowbit
