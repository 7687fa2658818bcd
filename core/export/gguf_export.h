// GGUF export (DESIGN.md "Export"): a model whose linear layers (and, by choice, embeddings and
// output head) a quantizer encoded becomes a GGUF v3 file llama.cpp loads, with llama.cpp's tensor
// names and metadata keys for the architecture (llama — mistral too, as llama.cpp's converter
// maps it —, qwen2, qwen3, phi3 with its fused attn_qkv and gate+up ffn_up, gpt2), the tokenizer in
// tokenizer.ggml.* (core/export/gguf_vocab.h), general.file_type and general.quantization_version.
// Encoded tensors are written byte for byte as the quantizer chose them; everything else comes from
// the in-memory weights (AWQ folds scales into norms, so the source checkpoint is not the truth):
// 1-D tensors (norms, biases) as f32, other 2-D tensors in the source's float type (f16 for f32 or
// quantized sources). For the llama architecture from a Hugging Face source, q and k rows (and
// biases) are reordered within each head as llama.cpp's converter does, so its interleaved RoPE
// matches: new row h·d + 2i + t = old row h·d + t·d/2 + i. The int family is not a GGUF type and is
// refused (export those with the GPTQ checkpoint). Tensors are produced one at a time and written
// through GgufWriter (temporary file, renamed at the end); the source file is never the target.
#pragma once

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

struct GgufExportOptions {
  std::string name;  // general.name; empty: the source file or folder name
};

struct GgufExportReport {
  std::filesystem::path path;
  uint64_t bytes = 0;
  int64_t tensors = 0;
  int64_t parameters = 0;
  double bits_per_weight = 0;  // 8 · file bytes / parameters (the whole file, metadata included)
  uint32_t file_type = 0;      // llama_ftype written to general.file_type
  double seconds = 0;
  std::vector<std::string> warnings;
};

Expected<GgufExportReport> export_gguf(const Model& source, const ModelWeights& weights, const EncodedTensors& encoded,
                                       const std::filesystem::path& out, const GgufExportOptions& options = {},
                                       Progress* progress = nullptr, const CancelToken* cancel = nullptr);

// Streaming, for a model too large to hold: the file is declared from `formats` (what each quantized
// tensor will be, planned_formats) before any block is quantized; write_block(b) writes block b's
// tensors once the quantizer is done with it (values in weights.blocks[b], codes in `encoded`) so the
// block can be freed; finish() writes the model-wide tensors and puts the file in place. The file is
// byte for byte export_gguf's, which is this with every block resident. A stream dropped before
// finish() leaves nothing behind.
class GgufStream {
 public:
  static Expected<GgufStream> begin(const Model& source, const ModelWeights& weights, const std::map<std::string, Format>& formats,
                                    const std::filesystem::path& out, const GgufExportOptions& options = {});
  GgufStream(GgufStream&&) noexcept;
  GgufStream& operator=(GgufStream&&) noexcept;
  ~GgufStream();
  Expected<void> write_block(int64_t block, const EncodedTensors& encoded);
  Expected<GgufExportReport> finish(const EncodedTensors& encoded, Progress* progress = nullptr, const CancelToken* cancel = nullptr);
  uint64_t file_size() const;

 private:
  GgufStream();
  struct State;
  std::unique_ptr<State> s_;
  friend Expected<GgufExportReport> export_gguf(const Model&, const ModelWeights&, const EncodedTensors&, const std::filesystem::path&,
                                                const GgufExportOptions&, Progress*, const CancelToken*);
};

// The exact size of the GGUF export of `source` with `formats` (checkpoint tensor → format; others in
// the float type), without quantizing or writing anything: what a size budget is checked against.
Expected<uint64_t> gguf_file_size(const Model& source, const ModelWeights& weights, const std::map<std::string, Format>& formats);

// llama.cpp's llama_ftype for a file whose quantized weights are mostly `type` (q4_k → 15, Q4_K_M).
uint32_t llama_file_type(DType type);

// The row order llama.cpp's converter gives llama q/k projections: result[i] = source row.
std::vector<int64_t> llama_rope_row_order(int64_t heads, int64_t head_dim);

// Refuses a target that is the source itself (same file, or inside the source folder's files).
Expected<void> check_not_source(const std::filesystem::path& source, const std::filesystem::path& out);

}  // namespace lowbit
