#include "core/quant/quantize_model.h"

#include "core/calib/analyze.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

#include "core/jobs/progress.h"
#include "core/quant/awq_model.h"
#include "core/quant/block_cache.h"
#include "core/quant/onebit_distill.h"
#include "core/quant/cbq.h"
#include "core/quant/ggml_formats.h"
#include "core/quant/int_quant.h"
#include "core/tensor/ggml_dequant.h"
#include "core/tensor/half.h"

namespace lowbit {
namespace {

using Clock = std::chrono::steady_clock;

// Round-to-nearest of one [rows, cols] matrix in place; the codes go to `encoded` when asked. With a
// backend, what it does not handle runs on the CPU and counts in `fallbacks`.
Expected<void> rtn_in_place(MatrixRM& w, const Format& f, bool mse_clip, bool fp16_scales, const std::string& name,
                            QuantizeResult* encoded, const RtnBackend& backend = {}, int64_t* fallbacks = nullptr) {
  std::optional<EncodedTensor> on_backend;
  if (backend) {
    auto t = backend(w.data(), w.rows(), w.cols(), f, mse_clip, name, fp16_scales);
    if (t) on_backend = std::move(*t);
    else if (t.error().code != ErrorCode::Unsupported) return Unexpected{t.error()};
    else if (fallbacks) ++*fallbacks;
  }
  if (!on_backend) {
    LB_TRY_ASSIGN(on_backend, encode_rtn(w.data(), w.rows(), w.cols(), f, mse_clip, name, fp16_scales));
  }
  EncodedTensor& t = *on_backend;
  t.dequantize(w.data());
  if (encoded) LB_TRY_VOID(keep_encoded(*encoded, name, std::move(t)));
  return {};
}

double rel_error(const MatrixRM& before, const MatrixRM& after) {
  const double n = before.norm();
  return n > 0 ? (before - after).norm() / n : 0.0;
}

// ‖(W − Ŵ) X‖² / ‖W X‖² = tr(D H Dᵀ) / tr(W H Wᵀ) with D = W − Ŵ.
double output_rel_error(const MatrixRM& before, const MatrixRM& after, const MatrixRM& h) {
  const MatrixRM d = before - after;
  const double num = (d * h).cwiseProduct(d).sum();
  const double den = (before * h).cwiseProduct(before).sum();
  return den > 0 ? std::sqrt(std::max(0.0, num / den)) : 0.0;
}

}  // namespace

Format QuantizeOptions::format_of(const std::string& tensor) const {
  auto it = per_tensor.find(tensor);
  return it == per_tensor.end() ? format : it->second;
}

Expected<void> keep_encoded(QuantizeResult& result, const std::string& tensor, EncodedTensor t) {
  auto it = result.encoded.find(tensor);
  if (it == result.encoded.end()) {
    result.encoded.emplace(tensor, std::move(t));
    return {};
  }
  return stack_rows(it->second, std::move(t), tensor);
}

const char* quant_method_name(QuantMethod m) {
  switch (m) {
    case QuantMethod::Rtn: return "rtn";
    case QuantMethod::Gptq: return "gptq";
    case QuantMethod::Awq: return "awq";
    case QuantMethod::AwqGptq: return "awq+gptq";
    case QuantMethod::OneBit: return "onebit";
    case QuantMethod::Cbq: return "cbq";
  }
  return "rtn";
}

std::optional<QuantMethod> quant_method_from_name(const std::string& n) {
  if (n == "rtn") return QuantMethod::Rtn;
  if (n == "gptq") return QuantMethod::Gptq;
  if (n == "awq") return QuantMethod::Awq;
  if (n == "awq+gptq") return QuantMethod::AwqGptq;
  if (n == "onebit") return QuantMethod::OneBit;
  if (n == "cbq") return QuantMethod::Cbq;
  return std::nullopt;
}

const char* slot_name(LinearSlot s) {
  static const char* names[] = {"q", "k", "v", "o", "gate", "up", "down"};
  return names[static_cast<int>(s)];
}

LinearInput input_of(LinearSlot s) {
  switch (s) {
    case LinearSlot::Q:
    case LinearSlot::K:
    case LinearSlot::V: return LinearInput::kQkv;
    case LinearSlot::O: return LinearInput::kO;
    case LinearSlot::Gate:
    case LinearSlot::Up: return LinearInput::kGateUp;
    case LinearSlot::Down: return LinearInput::kDown;
  }
  return LinearInput::kQkv;
}

std::vector<LinearRef> block_linears(const ModelWeights& m) {
  std::vector<LinearRef> out;
  for (int64_t i = 0; i < static_cast<int64_t>(m.blocks.size()); ++i) {
    const BlockTensorNames& n = m.names.blocks[static_cast<size_t>(i)];
    const bool fused_qkv = !n.qkv.empty();
    out.push_back({i, LinearSlot::Q, fused_qkv ? n.qkv : n.q});
    out.push_back({i, LinearSlot::K, fused_qkv ? n.qkv : n.k});
    out.push_back({i, LinearSlot::V, fused_qkv ? n.qkv : n.v});
    out.push_back({i, LinearSlot::O, n.o});
    if (!n.gate.empty() || !n.gate_up.empty()) out.push_back({i, LinearSlot::Gate, n.gate_up.empty() ? n.gate : n.gate_up});
    out.push_back({i, LinearSlot::Up, n.gate_up.empty() ? n.up : n.gate_up});
    out.push_back({i, LinearSlot::Down, n.down});
  }
  return out;
}

Linear& linear_of(DecoderBlock& b, LinearSlot slot) {
  switch (slot) {
    case LinearSlot::Q: return b.q;
    case LinearSlot::K: return b.k;
    case LinearSlot::V: return b.v;
    case LinearSlot::O: return b.o;
    case LinearSlot::Gate: return b.gate;
    case LinearSlot::Up: return b.up;
    case LinearSlot::Down: return b.down;
  }
  return b.q;
}

const Linear& linear_of(const DecoderBlock& b, LinearSlot slot) { return linear_of(const_cast<DecoderBlock&>(b), slot); }

Linear& linear_of(ModelWeights& m, const LinearRef& r) { return linear_of(m.blocks[static_cast<size_t>(r.block)], r.slot); }

std::pair<int64_t, int64_t> linear_shape(const ModelConfig& c, LinearSlot slot) {
  const int64_t nq = c.n_heads * c.head_dim, nkv = c.n_kv_heads * c.head_dim;
  switch (slot) {
    case LinearSlot::Q: return {nq, c.hidden};
    case LinearSlot::K:
    case LinearSlot::V: return {nkv, c.hidden};
    case LinearSlot::O: return {c.hidden, nq};
    case LinearSlot::Gate:
    case LinearSlot::Up: return {c.ffn, c.hidden};
    case LinearSlot::Down: return {c.hidden, c.ffn};
  }
  return {0, 0};
}

BlockStream stream_blocks(const Checkpoint& ck, ModelWeights& w,
                          std::function<Expected<void>(int64_t block, const EncodedTensors& encoded)> write) {
  BlockStream s;
  // The embeddings and the output head are needed before the blocks (calibration windows are
  // embedded) and after them (quantized with --quantize-embeddings, written): in between they are
  // let go, so the blocks' working memory does not add to theirs (1 GB in fp32 for a 7B model).
  // The first block loaded lets them go, whichever it is (a resumed walk starts later than block 0).
  s.load = [&ck, &w, first = std::make_shared<bool>(true)](int64_t b) -> Expected<void> {
    if (*first) release_model_wide(w);
    *first = false;
    return load_block(ck, w, b);
  };
  s.done = [&ck, &w, write = std::move(write)](int64_t b, EncodedTensors& encoded) -> Expected<void> {
    if (write) LB_TRY_VOID(write(b, encoded));
    for (const auto& r : block_linears(w))
      if (r.block == b) encoded.erase(r.tensor);
    release_block(w, b);
    if (b + 1 == static_cast<int64_t>(w.blocks.size())) LB_TRY_VOID(load_model_wide(ck, w));
    return {};
  };
  return s;
}

std::map<std::string, Format> planned_formats(const ModelWeights& m, const QuantizeOptions& o) {
  std::map<std::string, Format> out;
  for (const auto& r : block_linears(m)) out[r.tensor] = o.format_of(r.tensor);
  if (o.quantize_embeddings) {
    out[m.names.tok_embd] = o.format_of(m.names.tok_embd);
    if (!m.names.lm_head.empty()) out[m.names.lm_head] = o.format_of(m.names.lm_head);
  }
  return out;
}

void QuantizeBackends::apply_to(QuantizeOptions& o) const {
  o.rtn_backend = rtn;
  o.gptq.backend = gptq;
  o.awq.backend = awq_grid;
  o.awq.clip_backend = awq_clip;
  o.calib_walker = calib_walker;
}

Expected<void> QuantizeOptions::validate() const {
  const bool awq = method == QuantMethod::Awq || method == QuantMethod::AwqGptq;
  if (stream && method != QuantMethod::Rtn && method != QuantMethod::Gptq && !awq)
    return make_error(ErrorCode::Unsupported, std::string("streaming block by block is supported for methods rtn, gptq, awq and "
                                                          "awq+gptq, not ") + quant_method_name(method));
  if ((!resume_dir.empty() || resume) && method != QuantMethod::Gptq && !awq)
    return make_error(ErrorCode::Unsupported, std::string("resuming is supported for methods gptq, awq and awq+gptq, not ") +
                                                  quant_method_name(method));
  if (method == QuantMethod::Gptq) {
    GptqOptions g = gptq;
    g.format = format;
    if (format.kind != Format::Kind::Float) LB_TRY_VOID(g.validate());
    for (const auto& [name, f] : per_tensor) {
      if (f.kind == Format::Kind::Float) continue;  // float layers are converted, not quantized
      g.format = f;
      if (auto v = g.validate(); !v) return make_error(v.error().code, v.error().message + " (tensor " + name + ")");
    }
    LB_TRY_VOID(calib.validate());
  }
  if (method == QuantMethod::Awq || method == QuantMethod::AwqGptq) LB_TRY_VOID(validate_awq(*this));
  if (method == QuantMethod::OneBit) return validate_onebit(*this);
  if (method == QuantMethod::Cbq) return validate_cbq(*this);
  if (format.kind == Format::Kind::OneBit) return make_error(ErrorCode::Unsupported, "format onebit needs --method onebit");
  for (const auto& [name, f] : per_tensor)
    if (f.kind == Format::Kind::OneBit) return make_error(ErrorCode::Unsupported, name + ": format onebit needs --method onebit");
  return {};
}

static Expected<QuantizeResult> quantize_blocks(ModelWeights& m, const QuantizeOptions& o, const std::vector<int32_t>& calib_tokens,
                                         Progress* progress, const CancelToken* cancel);

namespace {

// RTN of the token embeddings and the output head (one tensor when tied), as llama-quantize --pure does.
Expected<void> quantize_embeddings(ModelWeights& m, const QuantizeOptions& o, QuantizeResult& res) {
  double bits = res.bits_per_weight * static_cast<double>(res.quantized_weights);
  auto one = [&](MatrixRM& w, const std::string& name, const char* part) -> Expected<void> {
    const auto ts = Clock::now();
    const Format f = o.format_of(name);
    const MatrixRM before = w;
    LB_TRY_VOID(rtn_in_place(w, f, o.mse_clip, o.fp16_scales, name, o.keep_encoded ? &res : nullptr));
    LayerReport rep;
    rep.tensor = name;
    rep.part = part;
    rep.format = f.name();
    rep.rows = w.rows();
    rep.cols = w.cols();
    rep.weight_rel_error = rel_error(before, w);
    rep.seconds = seconds_since(ts);
    bits += f.bits_per_weight(w.rows(), w.cols()) * static_cast<double>(w.size());
    res.quantized_weights += static_cast<int64_t>(w.size());
    res.layers.push_back(std::move(rep));
    return {};
  };
  LB_TRY_VOID(one(m.tok_embd, m.names.tok_embd, "embed"));
  if (m.lm_head.size()) LB_TRY_VOID(one(m.lm_head, m.names.lm_head, "output"));
  res.bits_per_weight = res.quantized_weights ? bits / static_cast<double>(res.quantized_weights) : 0;
  return {};
}

}  // namespace

Expected<QuantizeResult> quantize_model(ModelWeights& m, const QuantizeOptions& o, const std::vector<int32_t>& calib_tokens,
                                        Progress* progress, const CancelToken* cancel) {
  LB_TRY_VOID(o.validate());
  const auto t0 = Clock::now();
  QuantizeResult res;
  if (o.method == QuantMethod::OneBit) {
    LB_TRY_ASSIGN(res, onebit_quantize_model(m, o, calib_tokens, progress, cancel));
  } else if (o.method == QuantMethod::Cbq) {
    LB_TRY_ASSIGN(res, cbq_quantize_model(m, o, calib_tokens, progress, cancel));
  } else if (o.method == QuantMethod::Awq || o.method == QuantMethod::AwqGptq) {
    LB_TRY_ASSIGN(res, awq_quantize_model(m, o, calib_tokens, progress, cancel));
  } else {
    LB_TRY_ASSIGN(res, quantize_blocks(m, o, calib_tokens, progress, cancel));
  }
  if (o.quantize_embeddings) {
    if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "quantization cancelled");
    LB_TRY_VOID(quantize_embeddings(m, o, res));
  }
  res.seconds = seconds_since(t0);
  return res;
}

// The linear layers of the decoder blocks by RTN or GPTQ (AWQ has its own driver, awq_model.cpp).
static Expected<QuantizeResult> quantize_blocks(ModelWeights& m, const QuantizeOptions& o, const std::vector<int32_t>& calib_tokens,
                                         Progress* progress, const CancelToken* cancel) {
  const auto t0 = Clock::now();
  QuantizeResult res;
  const auto refs = block_linears(m);
  double bits = 0;
  auto account = [&](const LinearRef& r, const Format& f, const MatrixRM& before, const MatrixRM& after, const MatrixRM* h,
                     double secs) {
    LayerReport rep;
    rep.tensor = r.tensor;
    rep.part = slot_name(r.slot);
    rep.format = f.name();
    rep.rows = before.rows();
    rep.cols = before.cols();
    rep.weight_rel_error = rel_error(before, after);
    if (h) rep.output_rel_error = output_rel_error(before, after, *h);
    rep.seconds = secs;
    const double n = static_cast<double>(before.size());
    bits += f.bits_per_weight(before.rows(), before.cols()) * n;
    res.quantized_weights += static_cast<int64_t>(before.size());
    res.layers.push_back(std::move(rep));
  };

  if (o.method == QuantMethod::Rtn) {
    // Block by block, so a streaming job holds one block: load it, quantize its layers, hand it on.
    size_t done = 0;
    for (int64_t b = 0; b < static_cast<int64_t>(m.blocks.size()); ++b) {
      if (o.stream) LB_TRY_VOID(o.stream.load(b));
      for (const auto& r : refs) {
        if (r.block != b) continue;
        if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "quantization cancelled");
        const auto ts = Clock::now();
        Linear& l = linear_of(m, r);
        const Format f = o.format_of(r.tensor);
        const MatrixRM before = l.w;
        LB_TRY_VOID(rtn_in_place(l.w, f, o.mse_clip, o.fp16_scales, r.tensor, o.keep_encoded ? &res : nullptr, o.rtn_backend,
                                 &res.cpu_fallback_layers));
        account(r, f, before, l.w, nullptr, seconds_since(ts));
        ++done;
        if (progress) progress->report(static_cast<double>(done) / static_cast<double>(refs.size()), "RTN " + r.tensor);
      }
      if (o.stream) LB_TRY_VOID(o.stream.done(b, res.encoded));
    }
  } else {
    // Block by block: the Hessians of block b come from the windows run through blocks < b, already
    // quantized; each finished block is kept in the resume folder, and restored from it when resuming.
    auto quantize_block = [&](int64_t b, BlockStats& stats) -> Expected<void> {
      // Each input's fp32 Hessian replaces its (double) accumulator, which is freed at once, and is
      // freed itself after the block's last layer that reads it: a 7B block's statistics are 1.4 GB.
      std::map<LinearInput, MatrixRM> hessians;
      std::map<LinearInput, size_t> last_use;
      for (size_t k = 0; k < refs.size(); ++k)
        if (refs[k].block == b) last_use[input_of(refs[k].slot)] = k;
      for (auto it = stats.begin(); it != stats.end();) {
        hessians.emplace(it->first, it->second.hessian());
        it = stats.erase(it);
      }
      for (size_t k = 0; k < refs.size(); ++k) {
        const auto& r = refs[k];
        if (r.block != b) continue;
        struct Release {
          std::map<LinearInput, MatrixRM>& h;
          LinearInput which;
          bool last;
          ~Release() {
            if (last) h.erase(which);
          }
        } release{hessians, input_of(r.slot), last_use.at(input_of(r.slot)) == k};
        if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "quantization cancelled");
        const auto ts = Clock::now();
        Linear& l = linear_of(m, r);
        GptqOptions g = o.gptq;
        g.format = o.format_of(r.tensor);
        g.fp16_scales = g.fp16_scales || o.fp16_scales;
        const MatrixRM& h = hessians.at(input_of(r.slot));
        if (g.format.kind == Format::Kind::Float) {  // a layer a layout keeps in a float type
          const MatrixRM before = l.w;
          LB_TRY_VOID(rtn_in_place(l.w, g.format, false, false, r.tensor, o.keep_encoded ? &res : nullptr));
          account(r, g.format, before, l.w, &h, seconds_since(ts));
          continue;
        }
        const std::string label = r.tensor + (r.tensor.find(slot_name(r.slot)) == std::string::npos ? std::string(" (") + slot_name(r.slot) + ")" : "");
        const std::span<const float> ws{l.w.data(), static_cast<size_t>(l.w.size())}, hs{h.data(), static_cast<size_t>(h.size())};
        Expected<GptqResult> attempt = make_error(ErrorCode::Unsupported, "no backend");
        if (g.backend) attempt = g.backend(ws, l.w.rows(), l.w.cols(), hs, g, label);
        const bool on_backend = attempt.has_value();
        if (!attempt && attempt.error().code != ErrorCode::Unsupported) return Unexpected{attempt.error()};
        if (!attempt) attempt = gptq_quantize(ws, l.w.rows(), l.w.cols(), hs, g, label);
        if (!attempt) return Unexpected{attempt.error()};
        GptqResult q = std::move(*attempt);
        if (g.backend && !on_backend) ++res.cpu_fallback_layers;
        for (auto& w : q.warnings) res.warnings.push_back(std::move(w));
        const MatrixRM before = l.w;
        std::copy(q.dequantized.begin(), q.dequantized.end(), l.w.data());
        if (o.keep_encoded) LB_TRY_VOID(keep_encoded(res, r.tensor, encoded_from_gptq(std::move(q), g.format, l.w.rows(), l.w.cols())));
        account(r, g.format, before, l.w, &h, seconds_since(ts));
      }
      return {};
    };
    LB_TRY_VOID(calibrated_blocks(m, o, calib_tokens, res, bits, quantize_block, progress, cancel));
  }
  res.bits_per_weight = res.quantized_weights ? bits / static_cast<double>(res.quantized_weights) : 0;
  res.seconds = seconds_since(t0);
  return res;
}

}  // namespace lowbit
