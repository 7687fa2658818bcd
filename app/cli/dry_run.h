// --dry-run for `lowbit quantize` / `lowbit export` and the other heavy commands: what the run
// will cost, printed; the estimate itself is core's (core/export/estimate.h), shared with the studio.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/export/estimate.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "core/quant/quantize_model.h"

namespace lowbit::cli {

struct DryRunTarget {
  std::string out;            // empty: no output file
  std::string to;             // gguf | gptq
  double load_seconds = 0;    // loading the model-wide tensors (measured by the caller)
};

// Prints an estimate of `command` ("quantize", "analyze", "plan") as text, or as JSON with
// {"dry_run": true, …} plus `fields`; `out`/`to` name the output when the estimate has its size.
int print_estimate(const std::string& command, const nlohmann::json& fields, const JobEstimate& e, const std::string& out,
                   const std::string& to, bool json);

// `skeleton`: the model loaded without its blocks (load_model(…, blocks = false)).
int dry_run_quantize(const Model& model, ModelWeights& skeleton, QuantizeOptions options, const std::vector<int32_t>& calib,
                     const DryRunTarget& target, bool json);

}  // namespace lowbit::cli
