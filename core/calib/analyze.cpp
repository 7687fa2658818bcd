#include "core/calib/analyze.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>

#include "core/io/resume_folder.h"
#include "core/io/safetensors_writer.h"

namespace lowbit {

BlockHooks hooks_of(BlockStream stream) {
  BlockHooks h;
  h.before = stream.load;
  h.after = [done = std::move(stream.done)](int64_t b) {
    EncodedTensors none;
    return done(b, none);
  };
  return h;
}

namespace {

std::string stat_name(int64_t block, LinearInput input, const char* what) {
  return "blk." + std::to_string(block) + "." + linear_input_name(input) + "." + what;
}

// The checkpoint tensors that read each input of block b.
std::vector<std::string> readers(const BlockTensorNames& n, LinearInput input) {
  std::vector<std::string> out;
  auto add = [&](const std::string& s) {
    if (!s.empty() && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  switch (input) {
    case LinearInput::kQkv: add(n.qkv), add(n.q), add(n.k), add(n.v); break;
    case LinearInput::kO: add(n.o); break;
    case LinearInput::kGateUp: add(n.gate_up), add(n.gate), add(n.up); break;
    case LinearInput::kDown: add(n.down); break;
  }
  return out;
}

// Q3 + 1.5·IQR of `v` (linear interpolation between order statistics).
float upper_fence(std::vector<float> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto q = [&](double p) {
    const double pos = p * static_cast<double>(v.size() - 1);
    const size_t i = static_cast<size_t>(pos);
    const double f = pos - static_cast<double>(i);
    return i + 1 < v.size() ? static_cast<float>(v[i] * (1 - f) + v[i + 1] * f) : v[i];
  };
  const float q1 = q(0.25), q3 = q(0.75);
  return q3 + 1.5f * (q3 - q1);
}

// A resumable analysis' state after block `block` (AnalyzeResume): the windows' hidden states entering
// block + 1, the summaries of calibration.json so far and the token count.
struct AnalyzeState {
  int64_t block = -1;
  MatrixRM hidden;
  nlohmann::json inputs;
  int64_t tokens = 0;
};

Expected<void> write_state(const std::filesystem::path& path, int64_t block, const MatrixRM& hidden, const nlohmann::json& inputs,
                           int64_t tokens) {
  LB_TRY_ASSIGN(SafetensorsWriter w,
                SafetensorsWriter::create(path, {{"hidden", DType::F32, {hidden.rows(), hidden.cols()}}},
                                          {{"format", "lowbit-analyze-state"},
                                           {"block", std::to_string(block)},
                                           {"tokens", std::to_string(tokens)},
                                           {"inputs", inputs.dump()}}));
  LB_TRY_VOID(w.write("hidden", std::span<const float>(hidden.data(), static_cast<size_t>(hidden.size()))));
  return w.finish();
}

Expected<AnalyzeState> read_state(const std::filesystem::path& path) {
  auto bad = [&path](const std::string& what) { return make_error(ErrorCode::Format, path.string() + ": " + what); };
  LB_TRY_ASSIGN(std::shared_ptr<SafetensorsFile> f, SafetensorsFile::open(path));
  const auto& md = f->metadata();
  auto get = [&md](const char* key) { auto it = md.find(key); return it == md.end() ? std::string() : it->second; };
  if (get("format") != "lowbit-analyze-state" || f->tensors().size() != 1 || f->tensors()[0].name != "hidden" ||
      f->tensors()[0].dtype != DType::F32 || f->tensors()[0].shape.size() != 2)
    return bad("not the state of an interrupted analysis");
  AnalyzeState st;
  try {
    st.block = std::stoll(get("block"));
    st.tokens = std::stoll(get("tokens"));
  } catch (const std::exception&) {
    return bad("the saved block or token count is not a number");
  }
  st.inputs = nlohmann::json::parse(get("inputs"), nullptr, false);
  if (st.inputs.is_discarded() || !st.inputs.is_array()) return bad("the saved summaries are not JSON");
  const TensorInfo& t = f->tensors()[0];
  st.hidden.resize(t.shape[0], t.shape[1]);
  if (t.nbytes != static_cast<uint64_t>(st.hidden.size()) * sizeof(float)) return bad("the hidden states are cut short");
  std::memcpy(st.hidden.data(), t.data, t.nbytes);
  return st;
}

}  // namespace

const char* linear_input_name(LinearInput input) {
  switch (input) {
    case LinearInput::kQkv: return "qkv";
    case LinearInput::kO: return "o";
    case LinearInput::kGateUp: return "gate_up";
    case LinearInput::kDown: return "down";
  }
  return "?";
}

std::optional<LinearInput> linear_input_from_name(const std::string& name) {
  for (LinearInput i : kLinearInputs)
    if (name == linear_input_name(i)) return i;
  return std::nullopt;
}

int64_t linear_input_channels(const ModelConfig& c, LinearInput input) {
  switch (input) {
    case LinearInput::kQkv:
    case LinearInput::kGateUp: return c.hidden;
    case LinearInput::kO: return c.n_heads * c.head_dim;
    case LinearInput::kDown: return c.ffn;
  }
  return 0;
}

uint64_t analysis_stats_bytes(const ModelConfig& c) {
  uint64_t per_block = 0;
  for (LinearInput i : kLinearInputs) {
    const auto ch = static_cast<uint64_t>(linear_input_channels(c, i));
    per_block += (ch * ch + 2 * ch) * sizeof(float);
  }
  return per_block * static_cast<uint64_t>(c.n_layers);
}

namespace {

// block_forward over the windows in chunks of about 4096 tokens, the cancel token polled per chunk
// (a block of many long windows takes seconds, and Cancel should not).
class CpuBlockWalker final : public BlockWalker {
 public:
  explicit CpuBlockWalker(const ModelConfig& c) : config_(c) {}
  std::string name() const override { return "cpu"; }
  Expected<void> start(MatrixRM x, int64_t S, int64_t T) override {
    x_ = std::move(x);
    S_ = S;
    T_ = T;
    return {};
  }
  Expected<void> stats(const DecoderBlock& blk, BlockStats& stats, const CancelToken* cancel) override {
    return chunks(cancel, [&](MatrixRM& xs, int64_t n) {
      block_forward(config_, blk, xs, n, T_, [&](LinearInput which, const MatrixRM& in) { stats.at(which).add(in); });
      return false;
    });
  }
  Expected<void> advance(const DecoderBlock& blk, const CancelToken* cancel) override {
    return chunks(cancel, [&](MatrixRM& xs, int64_t n) {
      block_forward(config_, blk, xs, n, T_);
      return true;
    });
  }
  Expected<const MatrixRM*> hidden() override { return &x_; }

 private:
  // f(rows of a chunk of windows, windows) → whether the rows go back into the hidden states.
  template <class F>
  Expected<void> chunks(const CancelToken* cancel, F f) {
    const int64_t chunk = std::max<int64_t>(1, 4096 / T_);
    for (int64_t s0 = 0; s0 < S_; s0 += chunk) {
      if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "cancelled");
      const int64_t n = std::min(chunk, S_ - s0);
      MatrixRM xs = x_.middleRows(s0 * T_, n * T_);
      if (f(xs, n)) x_.middleRows(s0 * T_, n * T_) = xs;
    }
    return {};
  }

  ModelConfig config_;
  MatrixRM x_;
  int64_t S_ = 0, T_ = 0;
};

}  // namespace

std::unique_ptr<BlockWalker> cpu_block_walker(const ModelConfig& config) {
  return std::make_unique<CpuBlockWalker>(config);
}

Expected<void> collect_block_stats(ModelWeights& m, std::span<const int32_t> windows, int64_t ctx, const BlockStatsSink& sink,
                                   Progress* progress, const CancelToken* cancel, const BlockHooks& hooks) {
  if (ctx < 1 || windows.empty() || windows.size() % static_cast<size_t>(ctx) != 0)
    return make_error(ErrorCode::InvalidArgument, "calibration tokens do not form whole windows of " + std::to_string(ctx));
  const int64_t T = ctx;
  const int64_t S = static_cast<int64_t>(windows.size()) / T;
  const int64_t nblocks = static_cast<int64_t>(m.blocks.size());
  std::unique_ptr<BlockWalker> walker;
  if (hooks.walker) {
    auto made = hooks.walker(m.config);
    if (made) {
      walker = std::move(*made);
    } else if (made.error().code != ErrorCode::Unsupported) {
      return Unexpected{made.error()};
    } else if (hooks.walker_note) {
      *hooks.walker_note = made.error().message;
    }
  }
  if (!walker) walker = cpu_block_walker(m.config);
  if (hooks.walker_used) *hooks.walker_used = walker->name();
  {
    MatrixRM x;
    if (hooks.start_hidden) {
      if (hooks.start_hidden->rows() != S * T || hooks.start_hidden->cols() != m.config.hidden || hooks.start_block < 0 ||
          hooks.start_block > nblocks)
        return make_error(ErrorCode::InvalidArgument, "the saved hidden states do not match these windows and this model");
      x = *hooks.start_hidden;
    } else {
      LB_TRY_VOID(embed_windows(m, windows, S, T, x));
    }
    LB_TRY_VOID(walker->start(std::move(x), S, T));
  }
  for (int64_t b = hooks.start_hidden ? hooks.start_block : 0; b < nblocks; ++b) {
    if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "cancelled");
    if (hooks.before) LB_TRY_VOID(hooks.before(b));
    DecoderBlock& blk = m.blocks[static_cast<size_t>(b)];
    BlockStats stats;
    for (LinearInput i : kLinearInputs) stats.emplace(i, InputStats(linear_input_channels(m.config, i)));
    LB_TRY_VOID(walker->stats(blk, stats, cancel));
    LB_TRY_VOID(sink(b, stats));
    LB_TRY_VOID(walker->advance(blk, cancel));
    if (hooks.walked) {
      LB_TRY_ASSIGN(const MatrixRM* x, walker->hidden());
      LB_TRY_VOID(hooks.walked(b, *x));
    }
    if (hooks.after) LB_TRY_VOID(hooks.after(b));
    if (progress)
      progress->report(static_cast<double>(b + 1) / static_cast<double>(nblocks),
                       "block " + std::to_string(b + 1) + "/" + std::to_string(nblocks));
  }
  return {};
}

Expected<nlohmann::json> analyze_to_folder(ModelWeights& m, std::span<const int32_t> windows, const AnalyzeInfo& info,
                                           const std::filesystem::path& dir, Progress* progress, const CancelToken* cancel,
                                           const BlockHooks& hooks, const AnalyzeResume& resume) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::Io, dir.string() + ": cannot create the folder: " + ec.message());
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t nblocks = static_cast<int64_t>(m.blocks.size());
  std::vector<SafetensorsDecl> decls;
  for (int64_t b = 0; b < nblocks; ++b)
    for (LinearInput i : kLinearInputs) {
      const int64_t c = linear_input_channels(m.config, i);
      decls.push_back({stat_name(b, i, "hessian"), DType::F32, {c, c}});
      decls.push_back({stat_name(b, i, "mean_abs"), DType::F32, {c}});
      decls.push_back({stat_name(b, i, "max_abs"), DType::F32, {c}});
    }
  const std::map<std::string, std::string> stats_meta = {{"format", "lowbit-calibration"}};

  nlohmann::json inputs = nlohmann::json::array();
  int64_t tokens = 0;
  // Resuming: the walk's state after the last block the interrupted run finished.
  const std::filesystem::path state_path = resume.dir / "state.safetensors";
  std::optional<AnalyzeState> state;
  if (!resume.dir.empty()) {
    const std::string fingerprint = "analyze;" + resume.run_id + ";calibration " + token_hash_hex(windows) + ";ctx " +
                                    std::to_string(info.calib.ctx) + ";blocks " + std::to_string(nblocks);
    LB_TRY_ASSIGN(const bool found, open_resume_folder(resume.dir, fingerprint, resume.resume, 1));
    if (found && std::filesystem::exists(state_path, ec)) {
      LB_TRY_ASSIGN(state, read_state(state_path));
    }
  }
  std::optional<SafetensorsWriter> writer;
  if (state) {
    std::vector<std::string> filled;
    for (int64_t b = 0; b <= state->block; ++b)
      for (LinearInput i : kLinearInputs)
        for (const char* what : {"hessian", "mean_abs", "max_abs"}) filled.push_back(stat_name(b, i, what));
    LB_TRY_ASSIGN(SafetensorsWriter w, SafetensorsWriter::reopen(dir / "stats.safetensors", decls, stats_meta, filled));
    writer.emplace(std::move(w));
    inputs = std::move(state->inputs);
    tokens = state->tokens;
  } else {
    LB_TRY_ASSIGN(SafetensorsWriter w, SafetensorsWriter::create(dir / "stats.safetensors", decls, stats_meta));
    writer.emplace(std::move(w));
  }
  if (!resume.dir.empty()) writer->keep_partial();  // an interrupted run's statistics stay for --resume
  BlockHooks walk = hooks;
  if (state) {
    walk.start_block = state->block + 1;
    walk.start_hidden = &state->hidden;
  }
  if (!resume.dir.empty())
    walk.walked = [&, inner = hooks.walked](int64_t b, const MatrixRM& hidden) -> Expected<void> {
      if (inner) LB_TRY_VOID(inner(b, hidden));
      LB_TRY_VOID(writer->flush());  // the block's statistics reach the file before the state names them
      return write_state(state_path, b, hidden, inputs, tokens);
    };
  auto sink = [&](int64_t b, BlockStats& stats) -> Expected<void> {
    for (LinearInput i : kLinearInputs) {
      const InputStats& st = stats.at(i);
      tokens = st.tokens();
      const MatrixRM h = st.hessian();
      const VectorF mean = st.mean_abs();
      const VectorF& mx = st.max_abs();
      LB_TRY_VOID(writer->write(stat_name(b, i, "hessian"), std::span<const float>(h.data(), static_cast<size_t>(h.size()))));
      LB_TRY_VOID(writer->write(stat_name(b, i, "mean_abs"), std::span<const float>(mean.data(), static_cast<size_t>(mean.size()))));
      LB_TRY_VOID(writer->write(stat_name(b, i, "max_abs"), std::span<const float>(mx.data(), static_cast<size_t>(mx.size()))));
      const float fence = upper_fence(std::vector<float>(mx.data(), mx.data() + mx.size()));
      const int64_t outliers = (mx.array() > fence).count();
      inputs.push_back({{"block", b},
                        {"input", linear_input_name(i)},
                        {"channels", st.channels()},
                        {"tensors", readers(m.names.blocks[static_cast<size_t>(b)], i)},
                        {"hessian_trace", static_cast<double>(h.trace())},
                        {"mean_abs_mean", mean.size() ? static_cast<double>(mean.mean()) : 0.0},
                        {"max_abs_max", mx.size() ? static_cast<double>(mx.maxCoeff()) : 0.0},
                        {"max_abs_fence", fence},
                        {"outlier_channels", outliers}});
    }
    return {};
  };
  LB_TRY_VOID(collect_block_stats(m, windows, info.calib.ctx, sink, progress, cancel, walk));
  LB_TRY_VOID(writer->finish());

  nlohmann::json j = {{"format", "lowbit-calibration"},
                      {"version", 1},
                      {"model", info.model},
                      {"architecture", arch_name(m.config.arch)},
                      {"text", info.text},
                      {"samples", info.calib.samples},
                      {"ctx", info.calib.ctx},
                      {"seed", info.calib.seed},
                      {"tokens", tokens},
                      {"blocks", nblocks},
                      {"stats", "stats.safetensors"},
                      {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()},
                      {"inputs", inputs}};
  const auto json_path = dir / "calibration.json";
  auto temp = json_path;
  temp += ".partial";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << j.dump(1) << "\n";
    if (!out) {
      std::filesystem::remove(temp, ec);
      return make_error(ErrorCode::Io, temp.string() + ": cannot be written");
    }
  }
  std::filesystem::rename(temp, json_path, ec);
  if (ec) return make_error(ErrorCode::Io, json_path.string() + ": cannot be moved into place: " + ec.message());
  return j;
}

Expected<CalibrationSet> CalibrationSet::open(const std::filesystem::path& dir) {
  CalibrationSet s;
  s.dir_ = dir;
  const auto json_path = dir / "calibration.json";
  std::ifstream in(json_path, std::ios::binary);
  if (!in) return make_error(ErrorCode::Io, json_path.string() + ": no such file (not a folder written by lowbit analyze?)");
  s.info_ = nlohmann::json::parse(in, nullptr, false);
  if (s.info_.is_discarded() || !s.info_.is_object())
    return make_error(ErrorCode::Format, json_path.string() + ": not valid JSON");
  if (s.info_.value("format", "") != "lowbit-calibration" || s.info_.value("version", 0) != 1)
    return make_error(ErrorCode::Format, json_path.string() + ": not a lowbit-calibration version 1 file");
  if (!s.info_.contains("blocks") || !s.info_["blocks"].is_number_integer() || s.info_["blocks"].get<int64_t>() < 0)
    return make_error(ErrorCode::Format, json_path.string() + ": 'blocks' is missing or not a count");
  s.blocks_ = s.info_["blocks"].get<int64_t>();
  LB_TRY_ASSIGN(s.stats_, SafetensorsFile::open(dir / "stats.safetensors"));
  for (const auto& t : s.stats_->tensors()) s.by_name_[t.name] = &t;
  for (int64_t b = 0; b < s.blocks_; ++b)
    for (LinearInput i : kLinearInputs) {
      const TensorInfo* h = s.by_name_.count(stat_name(b, i, "hessian")) ? s.by_name_.at(stat_name(b, i, "hessian")) : nullptr;
      if (!h || h->shape.size() != 2 || h->shape[0] != h->shape[1] || h->dtype != DType::F32)
        return make_error(ErrorCode::Format, (dir / "stats.safetensors").string() + ": " + stat_name(b, i, "hessian") +
                                                 " is missing or not a square F32 matrix");
      for (const char* what : {"mean_abs", "max_abs"}) {
        auto it = s.by_name_.find(stat_name(b, i, what));
        if (it == s.by_name_.end() || it->second->shape != std::vector<int64_t>{h->shape[0]} || it->second->dtype != DType::F32)
          return make_error(ErrorCode::Format, (dir / "stats.safetensors").string() + ": " + stat_name(b, i, what) +
                                                   " is missing or not an F32 vector of " + std::to_string(h->shape[0]));
      }
    }
  return s;
}

int64_t CalibrationSet::channels(int64_t block, LinearInput input) const {
  auto it = by_name_.find(stat_name(block, input, "hessian"));
  return it == by_name_.end() ? 0 : it->second->shape[0];
}

Expected<std::vector<float>> CalibrationSet::read(int64_t block, LinearInput input, const char* what) const {
  auto it = by_name_.find(stat_name(block, input, what));
  if (it == by_name_.end())
    return make_error(ErrorCode::InvalidArgument, (dir_ / "stats.safetensors").string() + ": no " + stat_name(block, input, what));
  return decode_to_f32(*it->second);
}

Expected<std::vector<float>> CalibrationSet::hessian(int64_t block, LinearInput input) const { return read(block, input, "hessian"); }
Expected<std::vector<float>> CalibrationSet::mean_abs(int64_t block, LinearInput input) const { return read(block, input, "mean_abs"); }
Expected<std::vector<float>> CalibrationSet::max_abs(int64_t block, LinearInput input) const { return read(block, input, "max_abs"); }

}  // namespace lowbit
