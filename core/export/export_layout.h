// Quantize-and-export of one layout (the studio's Export page; `lowbit export`'s pipeline): the
// layout's method quantizes a copy of the weights with the codes kept, then the codes are written as
// a GGUF file or a GPTQ checkpoint folder. A GPTQ checkpoint stores fp16 scales, so for it the codes
// are chosen on fp16 grids — the file is exactly the model that was evaluated. Both writers use a
// temporary name renamed at the end: a failure or a cancel leaves no output behind. Both exports write
// through the target's stream (GgufStream, GptqStream), so streamed and resident files are the same.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/calib/calibration.h"
#include "core/export/gguf_export.h"
#include "core/plan/layout.h"

namespace lowbit {

enum class ExportTarget { Gguf, Gptq };
const char* export_target_name(ExportTarget t);  // "gguf", "gptq"
std::optional<ExportTarget> export_target_from_name(const std::string& name);

struct LayoutExportOptions {
  ExportTarget to = ExportTarget::Gguf;
  std::string name;    // GGUF general.name; empty: the source's name
  CalibOptions calib;  // the windows passed below were drawn with these (GPTQ/AWQ layouts)
  // GPTQ/AWQ layouts: each finished block is kept in `resume_dir` (QuantizeOptions::resume_dir), and a
  // folder an interrupted export of this very run (`run_id`: model, layout, target) left there is
  // resumed; another run's is cleared. Empty: none. Removing it afterwards is the caller's.
  std::filesystem::path resume_dir;
  std::string run_id;
  // Where RTN, GPTQ's sweep, AWQ's α grid and the calibration walk run (empty: the CPU).
  QuantizeBackends backends;
};

struct LayoutExportReport {
  std::filesystem::path path;
  ExportTarget to = ExportTarget::Gguf;
  uint64_t bytes = 0;         // the file, or all files of the folder
  int64_t tensors = 0;
  double bits_per_weight = 0; // 8 · bytes / checkpoint parameters
  double quantize_seconds = 0, write_seconds = 0;
  QuantizeResult quantized;   // per-layer errors (codes moved out)
  std::vector<std::string> warnings;
};

// Whether a layout's method goes block by block (rtn, gptq, awq, awq+gptq), so that its export can be
// streamed from the checkpoint and estimated by a probe (core/export/estimate.h).
bool layout_streams(QuantMethod m);

// The quantizer's options for exporting `layout` (checked against `w`, which may hold no blocks).
Expected<QuantizeOptions> layout_quantize_options(const Layout& layout, const ModelWeights& w, const LayoutExportOptions& options,
                                                  std::span<const int32_t> calib_windows);

// `weights` are the unquantized weights of `source` (not changed). The target must not be the source.
Expected<LayoutExportReport> export_layout(const Model& source, const ModelWeights& weights, const Layout& layout,
                                           const std::filesystem::path& out, std::span<const int32_t> calib_windows,
                                           const LayoutExportOptions& options, Progress* progress = nullptr,
                                           const CancelToken* cancel = nullptr);

// The same export read from `source`'s checkpoint: for a method that streams, one decoder block is in
// memory at a time, each written as soon as it is final (the file is the one export_layout writes);
// other methods load the whole model first.
Expected<LayoutExportReport> export_layout_streamed(const Model& source, const Layout& layout, const std::filesystem::path& out,
                                                    std::span<const int32_t> calib_windows, const LayoutExportOptions& options,
                                                    Progress* progress = nullptr, const CancelToken* cancel = nullptr);

}  // namespace lowbit
