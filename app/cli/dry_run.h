// --dry-run for `lowbit quantize` / `lowbit export` (methods rtn, gptq, awq, awq+gptq): what the run
// will cost, printed; the estimate itself is core's (core/export/estimate.h), shared with the studio.
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
