// Comparing layouts of one model (`lowbit compare`, the studio's Compare page): each candidate
// layout is quantized from the same unquantized weights, then measured on the same evaluation
// windows — perplexity, KL divergence against the unquantized model, the size of its GGUF export
// (exact where every format has a GGUF type) and bits per weight of the whole file, and the time it
// took. Candidates run one after another, so memory holds the original and one quantized copy.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/calib/calibration.h"
#include "core/eval/forward_backend.h"
#include "core/eval/perplexity.h"
#include "core/model/model.h"
#include "core/plan/layout.h"
#include "core/quant/quantize_model.h"

namespace lowbit {

struct CompareCandidate {
  std::string name;  // a layout file's path, or a uniform format's name
  Layout layout;
};

struct CompareRow {
  std::string name;
  QuantMethod method = QuantMethod::Rtn;
  double ppl = 0, ppl_stderr = 0;
  std::optional<KldStats> kld;
  std::optional<uint64_t> file_bytes;   // the GGUF export's size; none when a format has no GGUF type
  double bits_per_weight = 0;           // whole file when file_bytes is known, else over the quantized linears
  bool bits_whole_file = false;
  std::optional<double> predicted_ppl;  // what the planner predicted for the layout, when it did
  double seconds = 0;
  std::string backend;                  // where it was evaluated: "cpu", "vulkan"; empty when unknown
  std::vector<std::string> warnings;
};

struct CompareOptions {
  PplOptions ppl;
  CalibOptions calib;  // the windows below were drawn with these (non-RTN methods)
  ForwardFactory forward;  // where the evaluations run (core/eval/forward_backend.h); empty: the CPU
  QuantizeBackends quantize;  // where the candidates' quantization runs (empty members: the CPU)
  Expected<void> validate() const;
};

// Candidates whose method needs calibration windows fail when `calib_windows` is empty. An error
// names the candidate. `eval_tokens` is the evaluation text tokenized for options.ppl.method.
Expected<std::vector<CompareRow>> compare_layouts(const Model& model, const ModelWeights& original,
                                                  const std::vector<CompareCandidate>& candidates,
                                                  std::span<const int32_t> eval_tokens, std::span<const int32_t> calib_windows,
                                                  const CompareOptions& options, Progress* progress = nullptr,
                                                  const CancelToken* cancel = nullptr);

// A row as `lowbit compare --json` prints it and project files keep it (format in the .cpp), and back.
nlohmann::json compare_row_to_json(const CompareRow& row);
Expected<CompareRow> compare_row_from_json(const nlohmann::json& j, const std::string& source);

// True when any candidate's method needs calibration windows.
bool compare_needs_calibration(const std::vector<CompareCandidate>& candidates);

// The model's parameter count as the checkpoint stores it (what bits per weight divides by).
int64_t checkpoint_parameters(const Model& model);

}  // namespace lowbit
