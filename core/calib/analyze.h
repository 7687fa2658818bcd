// Calibration analysis (`lowbit analyze`, the studio's Analyze): runs calibration windows through
// the model block by block and gathers, for each block, the statistics of its four linear inputs
// (q/k/v share one, then o, gate/up, down): the Hessian H = 2/n Σ x xᵀ, per-channel mean |x| and
// max |x|. Only the running hidden states of the windows and one block's statistics are held at a
// time. The same block-by-block walk serves methods that change a block before its outputs feed
// the next (GPTQ, AWQ): the sink runs between collecting a block's inputs and advancing through it.
//
// Saved folder (format "lowbit-calibration", version 1), read back by CalibrationSet:
//   calibration.json   what was measured: model, text file, samples, ctx, seed, tokens, and per block
//                      and input the channel count, the checkpoint tensors that read it and a summary
//                      (Hessian trace, mean of mean |x|, largest max |x|, outlier channels beyond the
//                      upper interquartile fence Q3 + 1.5·IQR of max |x|);
//   stats.safetensors  per block b and input i ∈ {qkv, o, gate_up, down}: `blk.b.i.hessian` F32 [c, c],
//                      `blk.b.i.mean_abs` F32 [c], `blk.b.i.max_abs` F32 [c].
// Both files are written under temporary names and renamed at the end: a cancelled run leaves none.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/calib/calibration.h"
#include "core/io/safetensors.h"
#include "core/jobs/progress.h"
#include "core/model/forward.h"

namespace lowbit {

const char* linear_input_name(LinearInput input);  // "qkv", "o", "gate_up", "down"
std::optional<LinearInput> linear_input_from_name(const std::string& name);
inline constexpr LinearInput kLinearInputs[] = {LinearInput::kQkv, LinearInput::kO, LinearInput::kGateUp, LinearInput::kDown};
int64_t linear_input_channels(const ModelConfig& c, LinearInput input);
// The bytes of the statistics analyze_to_folder saves for a model (stats.safetensors' tensors: every
// block's Hessians and channel vectors; the headers and calibration.json add a few KB).
uint64_t analysis_stats_bytes(const ModelConfig& c);

using BlockStats = std::map<LinearInput, InputStats>;
// Called once per block with the statistics of its inputs; may change the block (quantize it)
// before the windows advance through it.
using BlockStatsSink = std::function<Expected<void>(int64_t block, BlockStats& stats)>;

// Where the walk's forward passes run: the windows' hidden states held by the walker, each block
// run over them twice — once for the statistics of its linear inputs, once (after the sink may have
// changed it) to advance them. The CPU walker (block_forward in chunks of windows) is the reference;
// the Vulkan one (gpu/model/vulkan_block_walker.h) keeps the hidden states on the device and
// accumulates the statistics there. One thread at a time.
class BlockWalker {
 public:
  virtual ~BlockWalker() = default;
  virtual std::string name() const = 0;  // "cpu", "vulkan"
  // Takes the hidden states of S windows of T tokens, x [S·T, hidden].
  virtual Expected<void> start(MatrixRM x, int64_t S, int64_t T) = 0;
  // The statistics of `blk`'s four linear inputs over every window (`stats` holds empty InputStats
  // of the right channel counts); the hidden states do not change.
  virtual Expected<void> stats(const DecoderBlock& blk, BlockStats& stats, const CancelToken* cancel) = 0;
  // Runs `blk` over every window: the hidden states become its outputs.
  virtual Expected<void> advance(const DecoderBlock& blk, const CancelToken* cancel) = 0;
  // The hidden states now [S·T, hidden], valid until the walker's next call.
  virtual Expected<const MatrixRM*> hidden() = 0;
};
// Makes a walker for a model of this configuration. Unsupported: not on this backend (the walk falls
// back to the CPU and says why); other errors fail the walk.
using BlockWalkerFactory = std::function<Expected<std::unique_ptr<BlockWalker>>(const ModelConfig& config)>;
// The CPU's walker.
std::unique_ptr<BlockWalker> cpu_block_walker(const ModelConfig& config);

// Called before block b is first used and after the windows went through it (streaming: load it,
// then write and free it); either may be empty.
struct BlockHooks {
  std::function<Expected<void>(int64_t block)> before, after;
  // After the windows have advanced through `block`: their hidden states, which enter block + 1 (a
  // resumable job saves them).
  std::function<Expected<void>(int64_t block, const MatrixRM& hidden)> walked;
  // Resuming a walk: it starts at `start_block` from `start_hidden`, the windows' hidden states
  // entering it (saved by `walked`), instead of embedding the windows.
  int64_t start_block = 0;
  const MatrixRM* start_hidden = nullptr;
  // Where the forward passes run (empty: the CPU). When it answers Unsupported the walk runs on the
  // CPU and `walker_note`, if set, receives the reason; `walker_used`, if set, the walker's name.
  BlockWalkerFactory walker;
  std::string* walker_note = nullptr;
  std::string* walker_used = nullptr;
};
// A streaming job's BlockStream (core/model/weights.h) as hooks: `after` hands the block on with no codes.
BlockHooks hooks_of(BlockStream stream);

// `windows`: S windows of `ctx` tokens, row-major (from draw_windows).
Expected<void> collect_block_stats(ModelWeights& m, std::span<const int32_t> windows, int64_t ctx, const BlockStatsSink& sink,
                                   Progress* progress = nullptr, const CancelToken* cancel = nullptr,
                                   const BlockHooks& hooks = {});

struct AnalyzeInfo {
  std::string model;  // as the user named it
  std::string text;   // the calibration text file
  CalibOptions calib;
};

// Resuming an interrupted analysis (`lowbit analyze --out DIR` keeps it in DIR.resume/, a resume
// folder of core/io/resume_folder.h): after every block, state.safetensors holds the windows' hidden
// states entering the next block and the summaries so far, and stats.safetensors stays unfinished
// (its .partial file) until the end; with `resume` a run continues from the last saved block and
// writes the same statistics, byte for byte, as an uninterrupted one. `run_id` names the run (model
// files and options) in the fingerprint, with a hash of the windows. Empty `dir`: none.
struct AnalyzeResume {
  std::filesystem::path dir;
  bool resume = false;
  std::string run_id;
};

// Collects the statistics of every block and writes the folder described above (created if
// missing; earlier results in it are replaced). Returns the contents of calibration.json.
// `hooks`: streaming (blocks loaded and freed one at a time, core/model/weights.h).
Expected<nlohmann::json> analyze_to_folder(ModelWeights& m, std::span<const int32_t> windows, const AnalyzeInfo& info,
                                           const std::filesystem::path& dir, Progress* progress = nullptr,
                                           const CancelToken* cancel = nullptr, const BlockHooks& hooks = {},
                                           const AnalyzeResume& resume = {});

// A saved calibration folder, memory-mapped; statistics are decoded on request.
class CalibrationSet {
 public:
  static Expected<CalibrationSet> open(const std::filesystem::path& dir);
  const nlohmann::json& info() const { return info_; }
  int64_t blocks() const { return blocks_; }
  int64_t channels(int64_t block, LinearInput input) const;
  Expected<std::vector<float>> hessian(int64_t block, LinearInput input) const;  // [c, c] row-major
  Expected<std::vector<float>> mean_abs(int64_t block, LinearInput input) const;
  Expected<std::vector<float>> max_abs(int64_t block, LinearInput input) const;

 private:
  Expected<std::vector<float>> read(int64_t block, LinearInput input, const char* what) const;
  std::filesystem::path dir_;
  nlohmann::json info_;
  int64_t blocks_ = 0;
  std::shared_ptr<SafetensorsFile> stats_;
  std::map<std::string, const TensorInfo*> by_name_;
};

}  // namespace lowbit
