// BlockCache: the per-block results of a block-by-block GPTQ or AWQ run, kept in a folder as each block
// completes (`lowbit quantize --out F` keeps them in F.resume/) so that an interrupted run resumes
// where it stopped (`--resume`) and writes the same file, byte for byte, as an uninterrupted one.
//
// block-<b>.safetensors holds what block b left behind: the linear layers' weights after quantization
// (F32 `w.<tensor>.<slot>`, exactly what the run continues with) where the codes do not give them
// back bit for bit (usually they do: those tensors are listed in "weights_from_codes" and decoded on
// restore, so a 7B block takes its codes — 0.1 GB in q4_k, 0.2 GB in the int family, one byte a code —
// rather than 0.8 GB of fp32), its norms and biases
// (F32 `v.<name>`: AWQ folds its scales into them), the codes of the
// block's checkpoint tensors (`enc.<tensor>.bytes` for ggml and float kinds, `enc.<tensor>.codes` +
// `enc.<tensor>.grids` [n, 2] (scale, zero) for the int family) and, in the metadata under "block",
// the layer reports, warnings and bit counts as JSON. It is written under a temporary name and
// renamed, so a kill leaves the whole block or nothing. run.json holds the run's fingerprint; a
// folder written by another run (model, options or calibration windows differ) is an error, never
// silently mixed in. A resumed run still walks the calibration windows through the restored blocks
// (their inputs feed the next block's Hessian), but skips their quantization.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/calib/analyze.h"
#include "core/io/resume_folder.h"
#include "core/quant/quantize_model.h"

namespace lowbit {

class BlockCache {
 public:
  // No folder: a cache that keeps nothing. `resume` false: a stale folder is cleared first;
  // `other_runs_start_fresh`: another run's folder is cleared too instead of being an error.
  BlockCache() = default;
  static Expected<BlockCache> open(const std::filesystem::path& dir, const std::string& fingerprint, bool resume,
                                   bool other_runs_start_fresh = false);

  bool enabled() const { return !dir_.empty(); }
  const std::filesystem::path& dir() const { return dir_; }
  int64_t restored_blocks() const { return restored_; }

  // Restores block b into `m` (its linear layers) and `res` (reports, warnings, codes, counts; `bits`
  // is the running Σ bits·weights): true, or false when the folder has no block b.
  Expected<bool> restore(int64_t b, const std::vector<LinearRef>& refs, ModelWeights& m, QuantizeResult& res, double& bits);
  // Saves block b: its layers from `m`, and what `res` gained since (`layers_before`, `warnings_before`).
  Expected<void> save(int64_t b, const std::vector<LinearRef>& refs, ModelWeights& m, const QuantizeResult& res,
                      size_t layers_before, size_t warnings_before, double block_bits) const;
  // The run completed: the folder goes.
  void remove() const;

 private:
  std::filesystem::path block_file(int64_t b) const;

  std::filesystem::path dir_;
  std::string fingerprint_;
  int64_t restored_ = 0;
};

// The block-by-block pass of the calibrated methods (GPTQ, AWQ): `process` gets each block's input
// statistics, collected from the windows run through the blocks before it, already processed. Around
// it: the resume folder of `o` (a block found there is restored instead of processed; a processed
// block is saved) and `o.stream` (each block loaded before, handed on after). `bits`: the running
// Σ bits·weights of the result. Sets res.resumed_blocks.
Expected<void> calibrated_blocks(ModelWeights& m, const QuantizeOptions& o, const std::vector<int32_t>& calib_tokens,
                                 QuantizeResult& res, double& bits, const BlockStatsSink& process, Progress* progress,
                                 const CancelToken* cancel);


}  // namespace lowbit
