// Onebit checkpoint export: a model whose block linear layers method onebit made 1-bit
// (QuantizeResult::onebit) becomes a Hugging Face folder in the layout of core/io/onebit_format.h —
// model.safetensors with `<tensor>.onebit_signs` (U8, packed), `<tensor>.onebit_g` and
// `<tensor>.onebit_h` (F16) for every 1-bit layer and every other tensor in the source's dtype
// (norms, embeddings and the head are unchanged by the method, so a bf16 source is stored exactly);
// config.json = the source's plus quantization_config {"quant_method": "lowbit-onebit", "version": 1};
// the source's tokenizer and generation files. Before writing, each layer's dense Ŵ is checked to be
// bit for bit the weight the in-memory model evaluates, so opening the folder gives the perplexity
// measured in memory. Fused checkpoint tensors (phi3 qkv_proj / gate_up_proj, gpt2 c_attn) are one
// 1-bit layer each and round-trip; gpt2's Conv1D layers are stored [outputs, inputs].
// The folder is written as a temporary sibling and renamed at the end: a cancelled or failed export
// leaves nothing; an existing target is replaced only when it is empty or itself a onebit checkpoint
// folder, and never when it is (or holds) the source.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/jobs/progress.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "core/quant/onebit.h"

namespace lowbit {

struct OneBitExportReport {
  std::filesystem::path path;  // the folder written
  int64_t tensors = 0;         // tensors in model.safetensors
  int64_t onebit_layers = 0;   // 1-bit layers written
  uint64_t bytes = 0;          // all files of the folder
  uint64_t onebit_bytes = 0;   // bytes of the 1-bit layers' tensors
  int64_t onebit_weights = 0;  // weights those layers stand for
  double seconds = 0;
  std::vector<std::string> warnings;
};

// `source`: the model the weights were loaded from (a Hugging Face folder, or a .safetensors file with
// config.json beside it); `layers`: checkpoint tensor name → its 1-bit layer ([outputs, inputs]).
Expected<OneBitExportReport> export_onebit(const Model& source, const ModelWeights& weights,
                                           const std::map<std::string, OneBitLayer>& layers,
                                           const std::filesystem::path& out_dir, Progress* progress = nullptr,
                                           const CancelToken* cancel = nullptr);

}  // namespace lowbit
