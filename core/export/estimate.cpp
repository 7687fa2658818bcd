#include "core/export/estimate.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>

#include "core/export/gguf_export.h"
#include "core/export/gptq_checkpoint.h"
#include "core/model/forward.h"

namespace lowbit {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// fp32 bytes of one decoder block's weights (its linears; norms and biases are negligible).
double block_fp32_bytes(const ModelConfig& c) {
  double n = 0;
  for (LinearSlot s : {LinearSlot::Q, LinearSlot::K, LinearSlot::V, LinearSlot::O, LinearSlot::Gate, LinearSlot::Up, LinearSlot::Down}) {
    if (s == LinearSlot::Gate && c.arch == Arch::Gpt2) continue;
    const auto [r, k] = linear_shape(c, s);
    n += static_cast<double>(r) * static_cast<double>(k);
  }
  return 4 * n;
}

}  // namespace

double process_peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

struct BlockProbe::State {
  ModelWeights* skeleton = nullptr;
  BlockStream inner;
  Clock::time_point t0, first_load{}, first_done{};
};

namespace {
constexpr const char* kProbeEnd = "estimate probe complete";
}  // namespace

BlockProbe::BlockProbe(const Checkpoint& ck, ModelWeights& skeleton) : s_(std::make_shared<State>()) {
  s_->skeleton = &skeleton;
  s_->inner = stream_blocks(ck, skeleton, nullptr);
  s_->t0 = Clock::now();
}

BlockStream BlockProbe::stream() {
  BlockStream st;
  st.load = [s = s_](int64_t b) -> Expected<void> {
    if (b >= 1) return make_error(ErrorCode::Cancelled, kProbeEnd);
    s->first_load = Clock::now();
    return s->inner.load(b);
  };
  st.done = [s = s_](int64_t b, EncodedTensors& enc) -> Expected<void> {
    if (b == 0) s->first_done = Clock::now();
    return s->inner.done(b, enc);
  };
  return st;
}

BlockHooks BlockProbe::hooks() { return hooks_of(stream()); }

Expected<JobEstimate> BlockProbe::finish(const std::optional<Error>& job_error, double load_seconds, double extra_seconds) const {
  if (job_error && job_error->message != kProbeEnd) return Unexpected{*job_error};
  if (s_->first_done == Clock::time_point{}) return make_error(ErrorCode::InvalidArgument, "estimate: the probe did not finish a block");
  JobEstimate e;
  e.blocks = static_cast<int64_t>(s_->skeleton->blocks.size());
  e.load_seconds = load_seconds;
  e.setup_seconds = seconds_between(s_->t0, s_->first_load);
  e.block_seconds = seconds_between(s_->first_load, s_->first_done);
  e.seconds = load_seconds + e.setup_seconds + static_cast<double>(e.blocks) * e.block_seconds + extra_seconds;
  e.peak_rss_mb = process_peak_rss_mb();
  return e;
}

struct ProgressProbe::State {
  double stop = 0.05, rate_from = 0;
  const CancelToken* user = nullptr;
  CancelToken token;
  Clock::time_point t0 = Clock::now();
  // The first report above 0 and the last one (time since t0, fraction); reports after the first.
  double t_first = -1, f_first = 0, t_last = 0, f_last = 0;
  int later = 0;
  bool stopped = false;
};

ProgressProbe::ProgressProbe(double stop_fraction, const CancelToken* user, double rate_from) : s_(std::make_shared<State>()) {
  s_->stop = stop_fraction;
  s_->rate_from = rate_from;
  s_->user = user;
}

Progress ProgressProbe::progress(Progress* outer) {
  return Progress([s = s_, outer](const ProgressUpdate& u) {
    if (s->user && s->user->cancelled()) s->token.cancel();
    if (outer) outer->report(std::min(1.0, u.fraction / std::max(1e-9, s->stop)), "estimating: " + u.stage);
    if (s->stopped || !(u.fraction > s->rate_from) || !(u.fraction > 0)) return;
    const double t = seconds_between(s->t0, Clock::now());
    if (s->t_first < 0) {
      s->t_first = t;
      s->f_first = u.fraction;
    } else if (u.fraction > s->f_last) {
      ++s->later;
    }
    s->t_last = t;
    s->f_last = std::max(s->f_last, u.fraction);
    if (s->f_last > s->stop * (1 + 1e-9) && s->later >= 2 && s->f_last < 1) {
      s->stopped = true;
      s->token.cancel();
    }
  });
}

const CancelToken* ProgressProbe::cancel() const { return &s_->token; }

Expected<JobEstimate> ProgressProbe::finish(const std::optional<Error>& job_error, double load_seconds) const {
  const State& s = *s_;
  JobEstimate e;
  e.streamed = false;
  e.load_seconds = load_seconds;
  e.peak_rss_mb = process_peak_rss_mb();
  if (job_error && !(s.stopped && job_error->code == ErrorCode::Cancelled)) return Unexpected{*job_error};
  if (!job_error) {  // the job ended before the probe did: measured whole
    e.probed_fraction = 1;
    e.setup_seconds = s.t_first < 0 ? seconds_between(s.t0, Clock::now()) : s.t_first;
    e.seconds = load_seconds + seconds_between(s.t0, Clock::now());
    return e;
  }
  const double rate = (s.t_last - s.t_first) / (s.f_last - s.f_first);  // seconds per unit of progress
  e.setup_seconds = s.t_first;
  e.probed_fraction = s.f_last;
  e.seconds = load_seconds + s.t_last + (1.0 - s.f_last) * rate;
  return e;
}

Expected<JobEstimate> estimate_quantization(const Model& model, ModelWeights& skeleton, QuantizeOptions o,
                                            const std::vector<int32_t>& calib, std::optional<ExportTarget> to, double load_seconds,
                                            const CancelToken* cancel) {
  const auto formats = planned_formats(skeleton, o);
  std::optional<uint64_t> bytes;
  if (!layout_streams(o.method)) {
    if (to && o.method != QuantMethod::OneBit) {
      LB_TRY_ASSIGN(const uint64_t b, *to == ExportTarget::Gguf ? gguf_file_size(model, skeleton, formats)
                                                                : gptq_weights_file_size(skeleton, formats));
      bytes = b;
    }
    o.resume_dir.clear();
    o.resume = false;
    // The probe runs one whole unit of the job's work, from the first step of its first window
    // (cbq) or block (onebit) to the first of the next, so the rate includes the per-unit setup.
    const int64_t blocks = static_cast<int64_t>(skeleton.blocks.size());
    const int64_t units = o.method == QuantMethod::Cbq ? std::max<int64_t>(1, blocks - std::min(o.cbq.window, blocks) + 1) : blocks;
    ProgressProbe probe(1.0 / static_cast<double>(std::max<int64_t>(1, units)), cancel);
    Progress progress = probe.progress();
    auto r = quantize_model(skeleton, o, calib, &progress, probe.cancel());
    // Writing the output is taken as long as reading the model was.
    LB_TRY_ASSIGN(JobEstimate e, probe.finish(r ? std::nullopt : std::optional<Error>(r.error()), 2 * load_seconds));
    e.load_seconds = load_seconds;
    e.blocks = static_cast<int64_t>(skeleton.blocks.size());
    e.bytes = bytes;
    return e;
  }
  if (to) {
    LB_TRY_ASSIGN(const uint64_t b, *to == ExportTarget::Gguf ? gguf_file_size(model, skeleton, formats)
                                                              : gptq_weights_file_size(skeleton, formats));
    bytes = b;
  }
  // The probe: the first block through the job's own pipeline, streamed; writing the model-wide
  // tensors at the end is taken as long as reading them.
  o.resume_dir.clear();
  o.resume = false;
  o.keep_encoded = true;
  BlockProbe probe(*model.checkpoint, skeleton);
  o.stream = probe.stream();
  auto r = quantize_model(skeleton, o, calib, nullptr, cancel);
  LB_TRY_ASSIGN(JobEstimate e, probe.finish(r ? std::nullopt : std::optional<Error>(r.error()), load_seconds, load_seconds));
  e.bytes = bytes;
  e.streamed = to.has_value();
  if (!e.streamed) e.peak_rss_mb += static_cast<double>(e.blocks - 1) * block_fp32_bytes(skeleton.config) / (1024.0 * 1024.0);
  return e;
}

Expected<JobEstimate> estimate_streamed_perplexity(const Checkpoint& ck, ModelWeights& skeleton, std::span<const int32_t> tokens,
                                                   const PplOptions& o, double load_seconds) {
  LB_TRY_VOID(o.validate());
  const int64_t ctx = o.ctx;
  int64_t windows = static_cast<int64_t>(tokens.size()) / ctx;
  if (o.max_windows > 0) windows = std::min(windows, o.max_windows);
  if (windows == 0) return make_error(ErrorCode::InvalidArgument, "the text has fewer tokens than one window of " + std::to_string(ctx));
  const int64_t batch = std::min(o.batch_windows > 0 ? o.batch_windows : std::clamp<int64_t>(1024 / ctx, 1, 16), windows);
  const int64_t batches = (windows + batch - 1) / batch;
  const auto t0 = Clock::now();
  MatrixRM x;
  LB_TRY_VOID(embed_windows(skeleton, tokens.subspan(0, static_cast<size_t>(batch * ctx)), batch, ctx, x));
  const auto t1 = Clock::now();
  LB_TRY_VOID(load_block(ck, skeleton, 0));
  const auto t_loaded = Clock::now();
  {
    MatrixRM warm = x;  // the first call allocates its buffers and touches its pages: not timed
    block_forward(skeleton.config, skeleton.blocks[0], warm, batch, ctx);
  }
  const auto t_warm = Clock::now();
  block_forward(skeleton.config, skeleton.blocks[0], x, batch, ctx);
  release_block(skeleton, 0);
  const auto t2 = Clock::now();
  double sink = 0;  // the scoring, as evaluate_perplexity does it, so that it is timed too
  head_forward(skeleton, x, batch, ctx, [&](int64_t w, const MatrixRM& l) {
    for (int64_t p = 0; p + 1 < ctx; ++p)
      sink += token_nll(std::span<const float>(l.row(p).data(), static_cast<size_t>(l.cols())),
                        tokens[static_cast<size_t>(w * ctx + p + 1)]);
  });
  const auto t3 = Clock::now();
  JobEstimate e;
  e.blocks = static_cast<int64_t>(skeleton.blocks.size());
  e.load_seconds = load_seconds;
  e.setup_seconds = seconds_between(t0, t1);
  e.block_seconds = seconds_between(t1, t_loaded) + seconds_between(t_warm, t2);  // read and decode, then apply
  const double head = seconds_between(t2, t3);
  e.seconds = load_seconds + static_cast<double>(batches) * (e.setup_seconds + static_cast<double>(e.blocks) * e.block_seconds + head);
  e.peak_rss_mb = process_peak_rss_mb();
  e.streamed = true;
  return e;
}

Expected<JobEstimate> estimate_layout_export(const Model& source, const Layout& layout, std::span<const int32_t> calib_windows,
                                             const LayoutExportOptions& options, const CancelToken* cancel) {
  const auto t0 = Clock::now();
  // The streamed methods are probed on block 0 from a skeleton; cbq and onebit on the whole model.
  LB_TRY_ASSIGN(ModelWeights w, load_model(*source.checkpoint, source.config, nullptr, !layout_streams(layout.method)));
  const double load_seconds = seconds_between(t0, Clock::now());
  LB_TRY_ASSIGN(QuantizeOptions qo, layout_quantize_options(layout, w, options, calib_windows));
  const std::vector<int32_t> windows(calib_windows.begin(), calib_windows.end());
  return estimate_quantization(source, w, std::move(qo), windows, options.to, load_seconds, cancel);
}

}  // namespace lowbit
