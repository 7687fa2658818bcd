// --dry-run for `lowbit quantize` / `lowbit export` (methods rtn, gptq, awq, awq+gptq): what the run will cost,
// from the output's declarations and a short probe of the real pipeline, before anything is written.
//  - output size: exact, from the file's declarations (GGUF: the whole file; GPTQ: model.safetensors,
//    the folder adds config and tokenizer files);
//  - peak memory: the probe streams the first decoder block through the same code the run uses
//    (load, calibration statistics, quantization, encoding), so the process's peak resident size
//    after it is the streamed run's; a run without --out keeps every block, and the other blocks'
//    fp32 weights are added;
//  - time: loading the model-wide tensors, the probe's setup (calibration windows embedded) and its
//    block, times the number of blocks, plus writing the model-wide tensors (taken as long as
//    reading them).
// Nothing is written: the probe keeps no resume folder and opens no output file.
#pragma once

#include <string>
#include <vector>

#include "core/model/model.h"
#include "core/model/weights.h"
#include "core/quant/quantize_model.h"

namespace lowbit::cli {

struct DryRunTarget {
  std::string out;            // empty: no output file
  std::string to;             // gguf | gptq
  double load_seconds = 0;    // loading the model-wide tensors (measured by the caller)
};

// `skeleton`: the model loaded without its blocks (load_model(…, blocks = false)).
int dry_run_quantize(const Model& model, ModelWeights& skeleton, QuantizeOptions options, const std::vector<int32_t>& calib,
                     const DryRunTarget& target, bool json);

}  // namespace lowbit::cli
