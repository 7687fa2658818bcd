// Layout (DESIGN.md "Core concepts"): a format for every quantizable tensor of a model, keyed by the
// checkpoint's own tensor names, and the method that chooses the codes; the token embeddings and the
// output head are quantized only when the layout lists them, norms never. What `lowbit plan` writes,
// `lowbit ppl --layout` measures, `lowbit quantize/export --layout` produces, and the studio edits.
//
// File (JSON, format "lowbit-layout", version 1):
//   {"format": "lowbit-layout", "version": 1, "model": "...", "method": "rtn",
//    "tensors": {"model.layers.0.self_attn.q_proj.weight": "q4_k", ...},
//    "predicted": {...}}      optional, what a planner predicted (kept as written)
// Every block linear must be listed (a missing one is an error naming it); unknown tensor names,
// unknown formats and formats a tensor's rows do not fit are errors naming the tensor.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/model/weights.h"
#include "core/quant/quantize_model.h"

namespace lowbit {

struct Layout {
  QuantMethod method = QuantMethod::Rtn;
  std::string model;                      // informational: the checkpoint it was planned for
  std::map<std::string, Format> tensors;  // checkpoint tensor name → format
  nlohmann::json predicted;               // null when none

  // A uniform layout: every block linear in `f` (and embeddings/head too when `embeddings`).
  static Layout uniform(const ModelWeights& m, const Format& f, QuantMethod method, bool embeddings);

  // Checks names and formats against the model.
  Expected<void> validate(const ModelWeights& m) const;
  // Quantizer options for this layout (format, per-tensor formats, embeddings).
  QuantizeOptions options(const ModelWeights& m) const;
  nlohmann::json to_json() const;
  static Expected<Layout> from_json(const nlohmann::json& j, const std::string& source);
};

Expected<Layout> read_layout(const std::filesystem::path& path);
// Written to a temporary file and renamed.
Expected<void> write_layout(const Layout& layout, const std::filesystem::path& path);

// The shape [rows, cols] of a quantizable checkpoint tensor as the quantizer sees it (a fused tensor:
// all its parts' rows); nullopt for a name that is not a block linear, the embeddings or the head.
std::optional<std::pair<int64_t, int64_t>> quantizable_shape(const ModelWeights& m, const std::string& tensor);

}  // namespace lowbit
