// lowbit dev synth MODEL_DIR --preset llama-7b|tiny [--layers N] [--seed S] [--shard-size 2GB]
//                                                   [--outliers] [--force] [--threads N]
// Developer tools. `synth` writes a synthetic Hugging Face llama checkpoint of real shapes with
// random weights, so that memory and throughput can be measured without downloading a model:
// config.json, bf16 safetensors shards (model-0000k-of-0000n.safetensors + model.safetensors.index.json,
// or one model.safetensors when everything fits one shard), tokenizer.json and tokenizer_config.json.
//  - Weights: linears and embeddings N(0, 0.02²) (the usual initializer_range), norms exactly 1;
//    --outliers draws 1 in 128 input channels (columns) of every linear with 8× the deviation, the
//    heavy channels quantizers have to deal with in trained models. Values depend only on the seed,
//    the tensor and the position (chunks have their own generators), not on threads or shard size.
//  - Tokenizer: byte-level BPE as GPT-2's: <unk> <s> </s>, then the 256 byte symbols in byte order,
//    then merges of "Ġ"+letter and letter+letter (26 + 676, as far as the vocabulary allows), then
//    <unused_N> filler up to the vocabulary size. Any text tokenizes (every byte has a token).
// Shards are streamed tensor by tensor (the largest tensor is the only one held in memory) under
// temporary names and renamed when complete; the small JSON files follow, config.json last. A
// cancelled or failed run removes what it wrote.

#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/terminal_progress.h"
#include "core/io/safetensors_writer.h"
#include "core/tensor/half.h"

namespace lowbit::cli {
namespace {

namespace fs = std::filesystem;

struct SynthShape {
  int64_t hidden, layers, heads, kv_heads, ffn, vocab, max_positions;
};

constexpr SynthShape kLlama7b{4096, 32, 32, 32, 11008, 32000, 4096};
// Small enough for tests (1.7 M parameters, 3.4 MB), with grouped-query attention, rows that fit
// every format (k-quants need multiples of 256) and a vocabulary holding every tokenizer section.
constexpr SynthShape kTiny{256, 2, 4, 2, 512, 1024, 256};
constexpr float kInitStd = 0.02f;
constexpr int64_t kChunk = int64_t{1} << 16;  // elements per generator

struct SynthTensor {
  std::string name;
  std::vector<int64_t> shape;
  bool norm = false;    // all ones
  bool linear = false;  // eligible for outlier input channels
  uint64_t bytes() const {
    uint64_t n = 2;
    for (int64_t d : shape) n *= static_cast<uint64_t>(d);
    return n;
  }
};

std::vector<SynthTensor> synth_tensors(const SynthShape& s) {
  const int64_t hd = s.hidden / s.heads;
  std::vector<SynthTensor> t;
  t.push_back({"model.embed_tokens.weight", {s.vocab, s.hidden}});
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    t.push_back({p + "input_layernorm.weight", {s.hidden}, true});
    t.push_back({p + "self_attn.q_proj.weight", {s.heads * hd, s.hidden}, false, true});
    t.push_back({p + "self_attn.k_proj.weight", {s.kv_heads * hd, s.hidden}, false, true});
    t.push_back({p + "self_attn.v_proj.weight", {s.kv_heads * hd, s.hidden}, false, true});
    t.push_back({p + "self_attn.o_proj.weight", {s.hidden, s.heads * hd}, false, true});
    t.push_back({p + "post_attention_layernorm.weight", {s.hidden}, true});
    t.push_back({p + "mlp.gate_proj.weight", {s.ffn, s.hidden}, false, true});
    t.push_back({p + "mlp.up_proj.weight", {s.ffn, s.hidden}, false, true});
    t.push_back({p + "mlp.down_proj.weight", {s.hidden, s.ffn}, false, true});
  }
  t.push_back({"model.norm.weight", {s.hidden}, true});
  t.push_back({"lm_head.weight", {s.vocab, s.hidden}});
  return t;
}

// splitmix64, to seed each chunk's generator from (seed, tensor, chunk).
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// xoshiro256** with Box-Muller normals: fast enough to fill 13 GB in about a minute per core.
class Normal {
 public:
  explicit Normal(uint64_t seed) {
    for (auto& w : s_) w = seed = mix(seed);
  }
  float next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const float u1 = (static_cast<float>(bits() >> 40) + 1.0f) * 0x1p-24f;  // (0, 1]
    const float u2 = static_cast<float>(bits() >> 40) * 0x1p-24f;
    const float r = std::sqrt(-2.0f * std::log(u1));
    const float a = 6.2831853f * u2;
    spare_ = r * std::sin(a);
    has_spare_ = true;
    return r * std::cos(a);
  }

 private:
  uint64_t bits() {
    const uint64_t out = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0], s_[3] ^= s_[1], s_[1] ^= s_[2], s_[0] ^= s_[3], s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return out;
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_{};
  float spare_ = 0;
  bool has_spare_ = false;
};

// Fills `out` with the bf16 values of tensor number `index`.
void fill_tensor(const SynthTensor& t, uint64_t seed, size_t index, bool outliers, std::vector<uint16_t>& out) {
  const auto n = static_cast<int64_t>(t.bytes() / 2);
  out.resize(static_cast<size_t>(n));
  if (t.norm) {
    std::fill(out.begin(), out.end(), f32_to_bf16(1.0f));
    return;
  }
  const int64_t cols = t.shape.back();
  std::vector<float> col_std(static_cast<size_t>(cols), kInitStd);
  if (outliers && t.linear) {
    uint64_t pick = mix(seed ^ mix(index + 0x51ed));
    for (int64_t k = 0; k < std::max<int64_t>(1, cols / 128); ++k) {
      pick = mix(pick);
      col_std[pick % static_cast<uint64_t>(cols)] = 8 * kInitStd;
    }
  }
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    Normal rng(mix(seed) ^ mix((static_cast<uint64_t>(index) << 32) ^ static_cast<uint64_t>(c)));
    const int64_t end = std::min(n, (c + 1) * kChunk);
    for (int64_t i = c * kChunk; i < end; ++i)
      out[static_cast<size_t>(i)] = f32_to_bf16(col_std[static_cast<size_t>(i % cols)] * rng.next());
  }
}

// GPT-2's byte → symbol map: printable bytes stand for themselves, the others for U+0100 onwards.
std::vector<std::string> byte_symbols() {
  std::vector<std::string> out(256);
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    const int cp = printable ? b : next++;
    std::string s;
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    out[static_cast<size_t>(b)] = s;
  }
  return out;
}

nlohmann::json synth_tokenizer(int64_t vocab_size) {
  using nlohmann::json;
  const auto bytes = byte_symbols();
  json vocab = json::object();
  int64_t next = 0;
  for (const char* s : {"<unk>", "<s>", "</s>"}) vocab[s] = next++;
  for (const auto& b : bytes) vocab[b] = next++;
  json merges = json::array();
  const std::string space = bytes[' '];
  auto merge = [&](const std::string& a, const std::string& b) {
    if (next >= vocab_size || vocab.contains(a + b)) return;
    merges.push_back(json::array({a, b}));
    vocab[a + b] = next++;
  };
  for (char c = 'a'; c <= 'z'; ++c) merge(space, std::string(1, c));
  for (char a = 'a'; a <= 'z'; ++a)
    for (char b = 'a'; b <= 'z'; ++b) merge(std::string(1, a), std::string(1, b));
  for (int64_t k = 0; next < vocab_size; ++k) vocab["<unused_" + std::to_string(k) + ">"] = next++;

  json added = json::array();
  for (int id = 0; id < 3; ++id)
    added.push_back({{"id", id}, {"content", id == 0 ? "<unk>" : id == 1 ? "<s>" : "</s>"}, {"single_word", false},
                     {"lstrip", false}, {"rstrip", false}, {"normalized", false}, {"special", true}});
  const json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", added},
          {"normalizer", nullptr},
          {"pre_tokenizer", byte_level},
          {"post_processor",
           {{"type", "TemplateProcessing"},
            {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
            {"pair", json::array()},
            {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
          {"decoder", byte_level},
          {"model",
           {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
            {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
            {"vocab", vocab}, {"merges", merges}}}};
}

nlohmann::json synth_config(const SynthShape& s) {
  return {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"hidden_size", s.hidden},
          {"num_hidden_layers", s.layers}, {"num_attention_heads", s.heads}, {"num_key_value_heads", s.kv_heads},
          {"head_dim", s.hidden / s.heads}, {"intermediate_size", s.ffn}, {"vocab_size", s.vocab},
          {"max_position_embeddings", s.max_positions}, {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0},
          {"hidden_act", "silu"}, {"attention_bias", false}, {"mlp_bias", false}, {"tie_word_embeddings", false},
          {"initializer_range", kInitStd}, {"bos_token_id", 1}, {"eos_token_id", 2}, {"torch_dtype", "bfloat16"},
          {"lowbit_synthetic", true}};
}

// Writes a small text file under a temporary name and renames it into place.
Expected<void> write_text(const fs::path& path, const std::string& text) {
  fs::path temp = path;
  temp += ".partial";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) {
      std::error_code ec;
      fs::remove(temp, ec);
      return make_error(ErrorCode::Io, temp.string() + ": writing failed (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) return make_error(ErrorCode::Io, path.string() + ": cannot rename into place: " + ec.message());
  return {};
}

// "2GB", "500MB", "1.5GiB", "123" (bytes); decimal units as Hugging Face's max_shard_size.
std::optional<uint64_t> parse_size(const std::string& text) {
  size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(text, &pos);
  } catch (...) {
    return std::nullopt;
  }
  std::string unit = text.substr(pos);
  for (auto& ch : unit) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  static const std::pair<const char*, double> units[] = {{"", 1}, {"B", 1}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
                                                         {"KIB", 1024.0}, {"MIB", 1048576.0}, {"GIB", 1073741824.0}};
  for (const auto& [name, scale] : units)
    if (unit == name && v > 0 && v * scale < 1e15) return static_cast<uint64_t>(v * scale);
  return std::nullopt;
}

struct SynthOptions {
  SynthShape shape;
  std::string preset;
  uint64_t seed = 0;
  uint64_t shard_bytes = 2'000'000'000;
  bool outliers = false;
  bool force = false;
};

struct SynthResult {
  uint64_t parameters = 0, bytes = 0;
  std::vector<std::string> shards;
};

Expected<SynthResult> synth_checkpoint(const fs::path& dir, const SynthOptions& o, Progress progress, const CancelToken& cancel) {
  const auto tensors = synth_tensors(o.shape);
  // Hugging Face's sharding: tensors in order, a new shard when the next would overflow this one.
  std::vector<std::vector<size_t>> shards(1);
  uint64_t in_shard = 0, total = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const uint64_t b = tensors[i].bytes();
    if (!shards.back().empty() && in_shard + b > o.shard_bytes) shards.emplace_back(), in_shard = 0;
    shards.back().push_back(i);
    in_shard += b;
    total += b;
  }
  SynthResult result;
  result.bytes = total;
  for (size_t s = 0; s < shards.size(); ++s) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    result.shards.push_back(shards.size() == 1 ? "model.safetensors" : name);
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::Io, dir.string() + ": cannot create the folder: " + ec.message());
  std::vector<std::string> outputs = result.shards;
  outputs.insert(outputs.end(), {"config.json", "model.safetensors.index.json", "tokenizer.json"});
  for (const auto& f : outputs)
    if (!o.force && fs::exists(dir / f, ec))
      return make_error(ErrorCode::InvalidArgument, (dir / f).string() + " exists; pass --force to overwrite it");

  // What this run completed, removed again when a later step fails or is cancelled.
  std::vector<fs::path> written;
  const auto undo = [&](Error e) {
    for (const auto& p : written) fs::remove(p, ec);
    return Unexpected{std::move(e)};
  };
  std::vector<uint16_t> buf;
  uint64_t done = 0;
  for (size_t s = 0; s < shards.size(); ++s) {
    std::vector<SafetensorsDecl> decls;
    for (size_t i : shards[s]) decls.push_back({tensors[i].name, DType::BF16, tensors[i].shape});
    auto writer = SafetensorsWriter::create(dir / result.shards[s], std::move(decls), {{"format", "pt"}});
    if (!writer) return undo(writer.error());
    for (size_t i : shards[s]) {
      if (cancel.cancelled()) return undo({ErrorCode::Cancelled, "lowbit dev synth: cancelled; nothing was kept"});
      progress.report(static_cast<double>(done) / static_cast<double>(total), result.shards[s] + ": " + tensors[i].name);
      fill_tensor(tensors[i], o.seed, i, o.outliers, buf);
      const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(buf.data()), buf.size() * 2);
      if (auto w = writer->write(tensors[i].name, bytes); !w) return undo(w.error());
      done += tensors[i].bytes();
      result.parameters += tensors[i].bytes() / 2;
    }
    if (auto f = writer->finish(); !f) return undo(f.error());
    written.push_back(dir / result.shards[s]);
  }
  const auto text = [&](const fs::path& p, const nlohmann::json& j) -> Expected<void> {
    LB_TRY_VOID(write_text(p, j.dump(2) + "\n"));
    written.push_back(p);
    return {};
  };
  Expected<void> ok{};
  if (shards.size() > 1) {
    nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", nlohmann::json::object()}};
    for (size_t s = 0; s < shards.size(); ++s)
      for (size_t i : shards[s]) index["weight_map"][tensors[i].name] = result.shards[s];
    ok = text(dir / "model.safetensors.index.json", index);
  }
  if (ok) ok = text(dir / "tokenizer.json", synth_tokenizer(o.shape.vocab));
  if (ok)
    ok = text(dir / "tokenizer_config.json",
              {{"add_bos_token", true}, {"add_eos_token", false}, {"bos_token", "<s>"}, {"eos_token", "</s>"},
               {"unk_token", "<unk>"}, {"model_max_length", o.shape.max_positions},
               {"tokenizer_class", "PreTrainedTokenizerFast"}});
  if (ok) ok = text(dir / "config.json", synth_config(o.shape));
  if (!ok) return undo(ok.error());
  progress.report(1.0, "done");
  return result;
}

int run_synth(const std::vector<std::string>& argv) {
  std::string err;
  auto args = Args::parse(argv, {{"preset", "layers", "seed", "shard-size", "threads"}, {"json", "outliers", "force"}, {}}, err);
  const bool json = args && args->flag("json");
  if (!args) return usage_error("dev synth", err, json);
  if (args->positional().size() != 1) return usage_error("dev synth", "expects one MODEL_DIR", json);
  SynthOptions o;
  o.preset = args->get("preset").value_or("");
  if (o.preset == "llama-7b") o.shape = kLlama7b;
  else if (o.preset == "tiny") o.shape = kTiny;
  else return usage_error("dev synth", "--preset llama-7b|tiny is required", json);
  o.shape.layers = args->get_int("layers", o.shape.layers, err);
  o.seed = static_cast<uint64_t>(args->get_int("seed", 0, err));
  const long long threads = args->get_int("threads", 0, err);
  if (!err.empty()) return usage_error("dev synth", err, json);
  if (o.shape.layers < 1 || o.shape.layers > 1024) return usage_error("dev synth", "--layers must be 1 to 1024", json);
  if (!apply_threads(threads, err)) return usage_error("dev synth", err, json);
  if (const auto s = args->get("shard-size")) {
    const auto bytes = parse_size(*s);
    if (!bytes) return usage_error("dev synth", "--shard-size takes a size such as 2GB, 500MB or 1GiB", json);
    o.shard_bytes = *bytes;
  }
  o.outliers = args->flag("outliers");
  o.force = args->flag("force");

  const fs::path dir = args->positional()[0];
  TerminalProgress bar(json);
  const auto start = std::chrono::steady_clock::now();
  auto r = synth_checkpoint(dir, o, bar.sink(), interrupt_token());
  bar.finish();
  if (!r) return fail(r.error(), json);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (json) {
    print_json({{"ok", true}, {"path", dir.string()}, {"preset", o.preset}, {"layers", o.shape.layers},
                {"parameters", r->parameters}, {"bytes", r->bytes}, {"shards", r->shards}, {"seconds", seconds},
                {"peak_rss_mb", peak_rss_mb()}});
  } else {
    std::printf("wrote %s: llama %s, %lld layers, %.3f B parameters, %.2f GB in %zu file(s), %.1f s (peak RSS %.0f MB)\n",
                dir.string().c_str(), o.preset.c_str(), static_cast<long long>(o.shape.layers),
                static_cast<double>(r->parameters) / 1e9, static_cast<double>(r->bytes) / 1e9, r->shards.size(), seconds,
                peak_rss_mb());
  }
  return kOk;
}

}  // namespace

int run_dev(const std::vector<std::string>& argv) {
  if (!argv.empty() && argv[0] == "synth") return run_synth({argv.begin() + 1, argv.end()});
  return usage_error("dev", "expects a tool: synth MODEL_DIR --preset llama-7b|tiny [--layers N] [--seed S] "
                            "[--shard-size 2GB] [--outliers] [--force]", !argv.empty() && argv.back() == "--json");
}

}  // namespace lowbit::cli
