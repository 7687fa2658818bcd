#include "core/quant/block_cache.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "core/io/mapped_file.h"
#include "core/io/resume_folder.h"
#include "core/io/safetensors.h"
#include "core/io/safetensors_writer.h"

namespace fs = std::filesystem;

namespace lowbit {

namespace {

constexpr const char* kFormat = "lowbit-resume";
constexpr int kVersion = 2;  // 2: norms and biases kept; weights the codes give back are not

nlohmann::json report_to_json(const LayerReport& r) {
  return {{"tensor", r.tensor},
          {"part", r.part},
          {"format", r.format},
          {"rows", r.rows},
          {"cols", r.cols},
          {"weight_rel_error", r.weight_rel_error},
          {"output_rel_error", r.output_rel_error},
          {"seconds", r.seconds},
          {"awq_alpha", r.awq_alpha},
          {"awq_clip", r.awq_clip},
          {"note", r.note}};
}

LayerReport report_from_json(const nlohmann::json& j) {
  LayerReport r;
  r.tensor = j.at("tensor").get<std::string>();
  r.part = j.at("part").get<std::string>();
  r.format = j.at("format").get<std::string>();
  r.rows = j.at("rows").get<int64_t>();
  r.cols = j.at("cols").get<int64_t>();
  r.weight_rel_error = j.at("weight_rel_error").get<double>();
  r.output_rel_error = j.at("output_rel_error").get<double>();
  r.seconds = j.at("seconds").get<double>();
  r.awq_alpha = j.at("awq_alpha").get<double>();
  r.awq_clip = j.at("awq_clip").get<double>();
  r.note = j.at("note").get<std::string>();
  return r;
}

std::string weight_name(const LinearRef& r) { return "w." + r.tensor + "." + slot_name(r.slot); }

// The block's vectors a method may change besides the weights (AWQ folds its scales into the norms
// and into the biases of v_proj and up_proj): every non-empty one is kept, as `v.<name>`.
std::vector<std::pair<std::string, VectorF*>> block_vectors(DecoderBlock& blk) {
  std::vector<std::pair<std::string, VectorF*>> all = {
      {"attn_norm", &blk.attn_norm}, {"attn_norm_b", &blk.attn_norm_b}, {"ffn_norm", &blk.ffn_norm}, {"ffn_norm_b", &blk.ffn_norm_b},
      {"q_norm", &blk.q_norm},       {"k_norm", &blk.k_norm},           {"q.b", &blk.q.b},           {"k.b", &blk.k.b},
      {"v.b", &blk.v.b},             {"o.b", &blk.o.b},                 {"gate.b", &blk.gate.b},     {"up.b", &blk.up.b},
      {"down.b", &blk.down.b}};
  std::erase_if(all, [](const auto& v) { return v.second->size() == 0; });
  for (auto& v : all) v.first = "v." + v.first;
  return all;
}

std::span<const uint8_t> as_bytes(const float* p, size_t n) { return {reinterpret_cast<const uint8_t*>(p), n * sizeof(float)}; }

// The checkpoint tensors of block b, in the order of `refs` (a fused tensor once).
std::vector<std::string> block_tensors(int64_t b, const std::vector<LinearRef>& refs) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const LinearRef& r : refs)
    if (r.block == b && seen.insert(r.tensor).second) out.push_back(r.tensor);
  return out;
}

// The block's checkpoint tensors whose codes give back the layers' weights bit for bit (the usual
// case: a quantizer leaves Ŵ = dequantize(codes)); their weights are not kept, restore() decodes them.
std::set<std::string> weights_from_codes(int64_t b, const std::vector<LinearRef>& refs, ModelWeights& m, const EncodedTensors& encoded) {
  std::set<std::string> out;
  for (const std::string& t : block_tensors(b, refs)) {
    auto it = encoded.find(t);
    if (it == encoded.end()) continue;
    const EncodedTensor& e = it->second;
    std::vector<float> d(static_cast<size_t>(e.rows * e.cols));
    e.dequantize(d.data());
    int64_t row = 0;
    bool same = true;
    for (const LinearRef& r : refs) {
      if (r.block != b || r.tensor != t) continue;
      const MatrixRM& w = linear_of(m, r).w;
      same = same && w.cols() == e.cols && row + w.rows() <= e.rows &&
             std::memcmp(w.data(), d.data() + row * e.cols, static_cast<size_t>(w.size()) * sizeof(float)) == 0;
      row += w.rows();
    }
    if (same && row == e.rows) out.insert(t);
  }
  return out;
}

}  // namespace

Expected<BlockCache> BlockCache::open(const fs::path& dir, const std::string& fingerprint, bool resume, bool other_runs_start_fresh) {
  BlockCache c;
  if (dir.empty()) return c;
  c.dir_ = dir;
  c.fingerprint_ = fingerprint;
  LB_TRY_VOID(open_resume_folder(dir, fingerprint, resume, kVersion, other_runs_start_fresh));
  return c;
}

fs::path BlockCache::block_file(int64_t b) const {
  char name[32];
  std::snprintf(name, sizeof name, "block-%05lld.safetensors", static_cast<long long>(b));
  return dir_ / name;
}

Expected<void> BlockCache::save(int64_t b, const std::vector<LinearRef>& refs, ModelWeights& m, const QuantizeResult& res,
                                size_t layers_before, size_t warnings_before, double block_bits) const {
  if (!enabled()) return {};
  std::vector<SafetensorsDecl> decls;
  nlohmann::json meta = {{"block", b}, {"bits", block_bits}};
  const std::set<std::string> from_codes = weights_from_codes(b, refs, m, res.encoded);
  meta["weights_from_codes"] = from_codes;
  int64_t weights = 0;
  for (const LinearRef& r : refs) {
    if (r.block != b) continue;
    const Linear& l = linear_of(m, r);
    if (!from_codes.count(r.tensor)) decls.push_back({weight_name(r), DType::F32, {l.w.rows(), l.w.cols()}});
    weights += static_cast<int64_t>(l.w.size());
  }
  meta["quantized_weights"] = weights;
  DecoderBlock& blk = m.blocks[static_cast<size_t>(b)];
  for (const auto& [name, v] : block_vectors(blk)) decls.push_back({name, DType::F32, {v->size()}});
  nlohmann::json encoded = nlohmann::json::object();
  for (const std::string& t : block_tensors(b, refs)) {
    auto it = res.encoded.find(t);
    if (it == res.encoded.end()) continue;
    const EncodedTensor& e = it->second;
    encoded[t] = {{"format", e.format.name()}, {"rows", e.rows}, {"cols", e.cols}};
    if (e.format.kind == Format::Kind::Int) {
      decls.push_back({"enc." + t + ".codes", DType::U8, {static_cast<int64_t>(e.ints.codes.size())}});
      decls.push_back({"enc." + t + ".grids", DType::F32, {static_cast<int64_t>(e.ints.grids.size()), 2}});
    } else {
      decls.push_back({"enc." + t + ".bytes", DType::U8, {static_cast<int64_t>(e.bytes.size())}});
    }
  }
  meta["encoded"] = encoded;
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = layers_before; i < res.layers.size(); ++i) layers.push_back(report_to_json(res.layers[i]));
  meta["layers"] = layers;
  meta["warnings"] = std::vector<std::string>(res.warnings.begin() + static_cast<std::ptrdiff_t>(warnings_before), res.warnings.end());

  LB_TRY_ASSIGN(SafetensorsWriter w, SafetensorsWriter::create(block_file(b), decls,
                                                                {{"format", kFormat}, {"fingerprint", fingerprint_}, {"block", meta.dump()}}));
  for (const LinearRef& r : refs) {
    if (r.block != b || from_codes.count(r.tensor)) continue;
    const Linear& l = linear_of(m, r);
    LB_TRY_VOID(w.write(weight_name(r), as_bytes(l.w.data(), static_cast<size_t>(l.w.size()))));
  }
  for (const auto& [name, v] : block_vectors(blk)) LB_TRY_VOID(w.write(name, as_bytes(v->data(), static_cast<size_t>(v->size()))));
  for (const std::string& t : block_tensors(b, refs)) {
    auto it = res.encoded.find(t);
    if (it == res.encoded.end()) continue;
    const EncodedTensor& e = it->second;
    if (e.format.kind == Format::Kind::Int) {
      LB_TRY_VOID(w.write("enc." + t + ".codes", std::span<const uint8_t>(e.ints.codes)));
      std::vector<float> grids;
      grids.reserve(e.ints.grids.size() * 2);
      for (const IntGrid& g : e.ints.grids) grids.insert(grids.end(), {g.scale, g.zero});
      LB_TRY_VOID(w.write("enc." + t + ".grids", std::span<const float>(grids)));
    } else {
      LB_TRY_VOID(w.write("enc." + t + ".bytes", std::span<const uint8_t>(e.bytes)));
    }
  }
  return w.finish();
}

Expected<bool> BlockCache::restore(int64_t b, const std::vector<LinearRef>& refs, ModelWeights& m, QuantizeResult& res,
                                   double& bits) {
  if (!enabled()) return false;
  const fs::path file = block_file(b);
  std::error_code ec;
  if (!fs::exists(file, ec)) return false;
  auto bad = [&file](const std::string& what) { return make_error(ErrorCode::Format, file.string() + ": " + what); };
  LB_TRY_ASSIGN(std::shared_ptr<SafetensorsFile> st, SafetensorsFile::open(file));
  const auto& md = st->metadata();
  auto fp = md.find("fingerprint");
  auto blk = md.find("block");
  if (fp == md.end() || fp->second != fingerprint_ || blk == md.end()) return bad("not a block of this run");
  const auto meta = nlohmann::json::parse(blk->second, nullptr, false);
  if (meta.is_discarded() || !meta.is_object()) return bad("the block's metadata is not JSON");
  std::map<std::string, const TensorInfo*> by_name;
  for (const TensorInfo& t : st->tensors()) by_name[t.name] = &t;
  auto tensor = [&](const std::string& name, DType dtype, uint64_t bytes) -> Expected<const TensorInfo*> {
    auto it = by_name.find(name);
    if (it == by_name.end() || it->second->dtype != dtype || it->second->nbytes != bytes) return bad("tensor " + name + " is missing or has the wrong size");
    return it->second;
  };
  // Check everything before changing the model: a damaged block leaves the run as it was.
  std::set<std::string> from_codes;
  try {
    from_codes = meta.at("weights_from_codes").get<std::set<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return bad(std::string("malformed block metadata: ") + e.what());
  }
  for (const LinearRef& r : refs) {
    if (r.block != b || from_codes.count(r.tensor)) continue;
    const Linear& l = linear_of(m, r);
    LB_TRY_VOID(tensor(weight_name(r), DType::F32, static_cast<uint64_t>(l.w.size()) * sizeof(float)));
  }
  const auto vectors = block_vectors(m.blocks[static_cast<size_t>(b)]);
  for (const auto& [name, v] : vectors) LB_TRY_VOID(tensor(name, DType::F32, static_cast<uint64_t>(v->size()) * sizeof(float)));
  try {
    EncodedTensors restored;
    for (const auto& [name, e] : meta.at("encoded").items()) {
      EncodedTensor t;
      const auto f = Format::parse(e.at("format").get<std::string>());
      if (!f) return bad("unknown format of " + name);
      t.format = *f;
      t.rows = e.at("rows").get<int64_t>();
      t.cols = e.at("cols").get<int64_t>();
      if (f->kind == Format::Kind::Int) {
        auto codes = by_name.find("enc." + name + ".codes");
        auto grids = by_name.find("enc." + name + ".grids");
        if (codes == by_name.end() || grids == by_name.end() || grids->second->nbytes % (2 * sizeof(float)) != 0)
          return bad("the codes of " + name + " are missing");
        t.ints.format = *f;
        t.ints.rows = t.rows;
        t.ints.cols = t.cols;
        t.ints.codes.assign(codes->second->data, codes->second->data + codes->second->nbytes);
        const size_t n = grids->second->nbytes / (2 * sizeof(float));
        t.ints.grids.resize(n);
        for (size_t i = 0; i < n; ++i) {
          std::memcpy(&t.ints.grids[i].scale, grids->second->data + 8 * i, sizeof(float));
          std::memcpy(&t.ints.grids[i].zero, grids->second->data + 8 * i + 4, sizeof(float));
        }
        if (static_cast<int64_t>(n) != t.rows * t.ints.groups()) return bad("the grids of " + name + " do not match its shape");
      } else {
        auto bytes = by_name.find("enc." + name + ".bytes");
        if (bytes == by_name.end()) return bad("the codes of " + name + " are missing");
        t.bytes.assign(bytes->second->data, bytes->second->data + bytes->second->nbytes);
      }
      restored.emplace(name, std::move(t));
    }
    std::vector<LayerReport> layers;
    for (const auto& l : meta.at("layers")) layers.push_back(report_from_json(l));
    const auto warnings = meta.at("warnings").get<std::vector<std::string>>();
    const double block_bits = meta.at("bits").get<double>();
    const int64_t weights = meta.at("quantized_weights").get<int64_t>();
    // The weights the codes give back: each fused part's rows in turn.
    std::map<std::string, std::vector<float>> decoded;
    for (const std::string& t : from_codes) {
      auto it = restored.find(t);
      if (it == restored.end()) return bad("the codes of " + t + " are missing");
      const EncodedTensor& e = it->second;
      int64_t rows = 0;
      for (const LinearRef& r : refs)
        if (r.block == b && r.tensor == t) {
          const Linear& l = linear_of(m, r);
          if (l.w.cols() != e.cols) return bad("the codes of " + t + " do not match its shape");
          rows += l.w.rows();
        }
      if (rows != e.rows) return bad("the codes of " + t + " do not match its shape");
      std::vector<float>& d = decoded[t];
      d.resize(static_cast<size_t>(e.rows * e.cols));
      e.dequantize(d.data());
    }
    // All read: now the model and the result change.
    std::map<std::string, int64_t> next_row;
    for (const LinearRef& r : refs) {
      if (r.block != b) continue;
      Linear& l = linear_of(m, r);
      const size_t bytes = static_cast<size_t>(l.w.size()) * sizeof(float);
      if (auto d = decoded.find(r.tensor); d != decoded.end()) {
        int64_t& row = next_row[r.tensor];
        std::memcpy(l.w.data(), d->second.data() + row * l.w.cols(), bytes);
        row += l.w.rows();
      } else {
        std::memcpy(l.w.data(), by_name.at(weight_name(r))->data, bytes);
      }
    }
    for (const auto& [name, v] : vectors) std::memcpy(v->data(), by_name.at(name)->data, static_cast<size_t>(v->size()) * sizeof(float));
    for (auto& [name, t] : restored) res.encoded[name] = std::move(t);
    for (auto& l : layers) res.layers.push_back(std::move(l));
    for (const auto& w : warnings) res.warnings.push_back(w);
    res.quantized_weights += weights;
    bits += block_bits;
  } catch (const nlohmann::json::exception& e) {
    return bad(std::string("malformed block metadata: ") + e.what());
  }
  ++restored_;
  return true;
}

Expected<void> calibrated_blocks(ModelWeights& m, const QuantizeOptions& o, const std::vector<int32_t>& calib_tokens,
                                 QuantizeResult& res, double& bits, const BlockStatsSink& process, Progress* progress,
                                 const CancelToken* cancel) {
  const std::string fingerprint = o.run_id + ";calibration " + token_hash_hex(calib_tokens) + ";blocks " + std::to_string(m.blocks.size());
  LB_TRY_ASSIGN(BlockCache cache, BlockCache::open(o.resume_dir, fingerprint, o.resume || o.resume_if_same, o.resume_if_same));
  const auto refs = block_linears(m);
  auto one = [&](int64_t b, BlockStats& stats) -> Expected<void> {
    LB_TRY_ASSIGN(const bool restored, cache.restore(b, refs, m, res, bits));
    if (restored) return {};
    const size_t layers_before = res.layers.size(), warnings_before = res.warnings.size();
    const double bits_before = bits;
    LB_TRY_VOID(process(b, stats));
    return cache.save(b, refs, m, res, layers_before, warnings_before, bits - bits_before);
  };
  BlockHooks hooks;
  std::string walker_note;
  hooks.walker = o.calib_walker;
  hooks.walker_note = &walker_note;
  hooks.walker_used = &res.calibration_backend;
  if (o.stream) {
    hooks.before = o.stream.load;
    hooks.after = [&](int64_t b) { return o.stream.done(b, res.encoded); };
  }
  LB_TRY_VOID(collect_block_stats(m, calib_tokens, o.calib.ctx, one, progress, cancel, hooks));
  if (!walker_note.empty()) res.warnings.push_back("calibration on the CPU: " + walker_note);
  res.resumed_blocks = cache.restored_blocks();
  return {};
}

void BlockCache::remove() const {
  if (!enabled()) return;
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

}  // namespace lowbit
