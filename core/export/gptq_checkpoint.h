// GPTQ checkpoint export (DESIGN.md "Export"): a model whose linear layers a quantizer encoded in the
// int family (int{b}g{g}{a|s}, b ∈ {2, 3, 4, 8}) becomes a Hugging Face folder that GPTQModel,
// transformers and lowbit itself load: model.safetensors with, for each quantized layer `p`,
// p.qweight / p.qzeros / p.scales / p.g_idx in the layout of core/io/gptq_format.h (checkpoint_format
// "gptq", zeros stored minus one), and every other tensor of the model in fp16 taken from the
// in-memory weights (AWQ folds its scales into norms, so the source checkpoint is not the truth), in
// the checkpoint's own names, shapes and orientation; config.json = the source's plus
// quantization_config {quant_method "gptq", bits, group_size (-1: per row), desc_act false, sym,
// checkpoint_format "gptq", lm_head, and `dynamic` (GPTQModel's syntax, one exact "+:^name$" key per
// module whose bits, group or symmetry differ from the most common, "-:^name$" for linear layers left
// unquantized — absent from `encoded` or kept in a float type by the layout —, which are stored as
// fp16 weights)}, the same object as quantize_config.json, and the source's tokenizer and generation
// files. Codes and grids are written exactly as the quantizer chose
// them; the grids keep fp32 scales in memory, so a model quantized with fp16_scales
// (QuantizeOptions) round-trips bit for bit, and any other gets a warning. act_order needs no
// permutation: GPTQ here keeps static groups (core/quant/gptq.h), so g_idx is i / group.
// Every architecture of the project can be expressed: fused tensors (phi3 qkv_proj / gate_up_proj,
// gpt2 c_attn) are one packed module each, as GPTQModel quantizes them, and gpt2's Conv1D weights are
// packed as [out, in] as GPTQModel transposes them; token embeddings cannot be packed and are refused.
// The folder is written as a temporary sibling and renamed at the end: a cancelled or failed export
// leaves nothing; an existing target is replaced only when it is itself a GPTQ checkpoint folder, and
// never when it is (or holds) the source.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/jobs/progress.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "core/quant/encoded.h"

namespace lowbit {

struct GptqExportReport {
  std::filesystem::path path;     // the folder written
  int64_t tensors = 0;            // tensors in model.safetensors
  int64_t quantized_modules = 0;  // linear layers packed
  uint64_t bytes = 0;             // all files of the folder
  double seconds = 0;
  std::vector<std::string> warnings;
};

// `source`: the model the weights were loaded from (a Hugging Face folder or a .safetensors file with
// config.json beside it); `encoded`: checkpoint tensor name → codes (QuantizeResult::encoded).
Expected<GptqExportReport> export_gptq(const Model& source, const ModelWeights& weights, const EncodedTensors& encoded,
                                       const std::filesystem::path& out_dir, Progress* progress = nullptr,
                                       const CancelToken* cancel = nullptr);

// The exact size of the export's model.safetensors for `formats` (the folder adds config.json and the
// source's tokenizer files), without quantizing or writing anything.
Expected<uint64_t> gptq_weights_file_size(const ModelWeights& weights, const std::map<std::string, Format>& formats);

// Streaming (core/export/gguf_export.h's GgufStream, for the GPTQ folder): declared from `formats`
// before any block is quantized, written block by block, finished with the model-wide tensors; the
// same folder as export_gptq's.
class GptqStream {
 public:
  static Expected<GptqStream> begin(const Model& source, const ModelWeights& weights, const std::map<std::string, Format>& formats,
                                    const std::filesystem::path& out_dir);
  GptqStream(GptqStream&&) noexcept;
  GptqStream& operator=(GptqStream&&) noexcept;
  ~GptqStream();
  Expected<void> write_block(int64_t block, const EncodedTensors& encoded);
  Expected<GptqExportReport> finish(const EncodedTensors& encoded, Progress* progress = nullptr, const CancelToken* cancel = nullptr);

 private:
  GptqStream();
  struct State;
  std::unique_ptr<State> s_;
  friend Expected<GptqExportReport> export_gptq(const Model&, const ModelWeights&, const EncodedTensors&, const std::filesystem::path&,
                                                Progress*, const CancelToken*);
};

}  // namespace lowbit
