// What a quantize-and-export job will cost, before it runs (`lowbit quantize|export --dry-run`, the
// studio's Estimate on the Export page), for the methods that go block by block (rtn, gptq, awq,
// awq+gptq):
//  - output size: exact, from the file's declarations (GGUF: the whole file; GPTQ: model.safetensors,
//    the folder adds config and tokenizer files);
//  - peak memory: a probe streams the first decoder block through the job's own code (load,
//    calibration statistics, quantization, encoding), so this process's peak resident size after it
//    is the streamed job's; a job that keeps every block (no output: quantize in memory) adds the
//    other blocks' fp32 weights;
//  - time: loading the model-wide tensors, the probe's setup (calibration windows embedded) and its
//    block, times the number of blocks, plus writing the model-wide tensors (taken as long as
//    reading them).
// Nothing is written: the probe keeps no resume folder and opens no output file.
// Jobs that hold the whole model (CBQ, OneBit, plan's KLD sensitivity, compare, perplexity of a
// layout, analyze with views) are probed by ProgressProbe instead: they run on their own progress
// reports until a share of the work is done, and the rest is extrapolated at the measured rate.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/calib/analyze.h"
#include "core/eval/perplexity.h"
#include "core/export/export_layout.h"
#include "core/model/model.h"
#include "core/quant/quantize_model.h"

namespace lowbit {

struct JobEstimate {
  std::optional<uint64_t> bytes;  // the output file (GGUF) or model.safetensors (GPTQ); none without an output
  double peak_rss_mb = 0;         // MiB, this process's
  double seconds = 0;
  int64_t blocks = 0;
  bool streamed = true;           // one block in memory at a time
  double load_seconds = 0;        // the model-wide tensors
  double setup_seconds = 0;       // before the first block (calibration windows embedded)
  double block_seconds = 0;       // the probed block
  double probed_fraction = 0;     // ProgressProbe: the share of the job the probe ran (1: all of it)
};

// This process's peak resident size so far, in MiB.
double process_peak_rss_mb();

// The probe of a job that goes block by block over `skeleton` (loaded with blocks = false from
// `ck`): block 0 is streamed and timed, and the job is ended (ErrorCode::Cancelled) when it asks for
// block 1. Give the job stream() (the quantizers' QuantizeOptions::stream) or hooks() (calibration
// passes), run it, then finish() with its error, if any: the estimate's blocks, setup and block
// times, peak memory, and seconds = load + setup + blocks × block (+ `extra_seconds`).
class BlockProbe {
 public:
  BlockProbe(const Checkpoint& ck, ModelWeights& skeleton);
  BlockStream stream();
  BlockHooks hooks();
  Expected<JobEstimate> finish(const std::optional<Error>& job_error, double load_seconds, double extra_seconds = 0) const;

 private:
  struct State;
  std::shared_ptr<State> s_;
};

// The probe of a job that reports its progress (core/jobs/progress.h): give the job progress() and
// cancel(); once its reported fraction passes `stop_fraction` — and has advanced at least twice past
// the first report above `rate_from` (and 0), so that a rate is measured — the job is cancelled.
// finish() takes the job's error, if any (the probe's own cancellation is not one; a job that ended
// first is measured whole): seconds = load + the time to the last report + the rest at the rate
// measured from that first report to the last (what comes before it — setup, a reference pass, a
// phase of other pace such as a quantization before an evaluation — is measured, not extrapolated),
// and the peak memory so far. `user`: the caller's own cancellation (Ctrl-C), passed on.
class ProgressProbe {
 public:
  explicit ProgressProbe(double stop_fraction = 0.05, const CancelToken* user = nullptr, double rate_from = 0);
  // `outer`, when given, sees the probe's own progress: the job's fraction over stop_fraction.
  Progress progress(Progress* outer = nullptr);
  const CancelToken* cancel() const;
  Expected<JobEstimate> finish(const std::optional<Error>& job_error, double load_seconds) const;

 private:
  struct State;
  std::shared_ptr<State> s_;
};

// `skeleton`: the model loaded without its blocks (load_model(…, blocks = false)), which took
// `load_seconds`, for the methods that stream (layout_streams: rtn, gptq, awq, awq+gptq); the others
// (cbq, onebit) hold the whole model: load it whole, and they are probed on their progress (the probe
// quantizes part of `skeleton` in place). `to`: the output written, none for a quantization kept in
// memory (or a onebit folder, whose size is not estimated).
Expected<JobEstimate> estimate_quantization(const Model& model, ModelWeights& skeleton, QuantizeOptions options,
                                            const std::vector<int32_t>& calib, std::optional<ExportTarget> to, double load_seconds,
                                            const CancelToken* cancel = nullptr);

// The estimate of evaluate_perplexity on a StreamedCpuForward over `skeleton` with these options: a
// probe runs the first batch of windows through block 0 (read from `ck`) and the head; every batch
// then walks all blocks, so seconds = load + batches × (blocks × block + head).
Expected<JobEstimate> estimate_streamed_perplexity(const Checkpoint& ck, ModelWeights& skeleton, std::span<const int32_t> tokens,
                                                   const PplOptions& options, double load_seconds);

// The estimate of export_layout_streamed(source, layout, …) with the same arguments.
Expected<JobEstimate> estimate_layout_export(const Model& source, const Layout& layout, std::span<const int32_t> calib_windows,
                                             const LayoutExportOptions& options, const CancelToken* cancel = nullptr);

}  // namespace lowbit
