// Quantizes the linear layers of a model's decoder blocks in place (their fp32 weights become the
// dequantized values the chosen codes represent, so the same forward pass evaluates the result) and
// reports per-layer errors. RTN works tensor by tensor; GPTQ goes block by block as the GPTQ paper
// does: the Hessians of block k come from calibration windows run through blocks < k already
// quantized, and only one block's activations are held at a time. AWQ and AWQ+GPTQ go block by block
// too (core/quant/awq_model.h), as does OneBit (SVID + distillation, core/quant/onebit_distill.h);
// CBQ trains windows of consecutive blocks (core/quant/cbq.h).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/calib/analyze.h"
#include "core/calib/calibration.h"
#include "core/jobs/progress.h"
#include "core/model/forward.h"
#include "core/model/weights.h"
#include "core/quant/awq.h"
#include "core/quant/encoded.h"
#include "core/quant/format.h"
#include "core/quant/gptq.h"
#include "core/quant/onebit.h"
#include "core/quant/cbq.h"

namespace lowbit {

enum class QuantMethod { Rtn, Gptq, Awq, AwqGptq, OneBit, Cbq };  // names: rtn, gptq, awq, awq+gptq, onebit, cbq
const char* quant_method_name(QuantMethod m);
std::optional<QuantMethod> quant_method_from_name(const std::string& name);

// One linear layer of a block: its place in ModelWeights and the checkpoint tensor it comes from
// (a fused checkpoint tensor, e.g. phi3's qkv_proj, covers several).
enum class LinearSlot { Q, K, V, O, Gate, Up, Down };
struct LinearRef {
  int64_t block = 0;
  LinearSlot slot = LinearSlot::Q;
  std::string tensor;  // checkpoint tensor name
};
std::vector<LinearRef> block_linears(const ModelWeights& m);
Linear& linear_of(ModelWeights& m, const LinearRef& ref);
Linear& linear_of(DecoderBlock& b, LinearSlot slot);
const Linear& linear_of(const DecoderBlock& b, LinearSlot slot);
// [outputs, inputs] of a slot's Linear, from the config alone (the blocks may not be loaded).
std::pair<int64_t, int64_t> linear_shape(const ModelConfig& c, LinearSlot slot);
LinearInput input_of(LinearSlot slot);
const char* slot_name(LinearSlot slot);

struct QuantizeOptions;

// Another backend's share of a quantization (the GPU's: app/backend/backend_device.h): RTN, GPTQ's
// sweep, AWQ's α grid and clip search and the calibration walk; what is empty, or answers
// Unsupported, runs on the CPU.
struct QuantizeBackends {
  RtnBackend rtn;
  GptqBackend gptq;
  AwqGridBackend awq_grid;
  AwqClipBackend awq_clip;
  BlockWalkerFactory calib_walker;
  // Sets QuantizeOptions::rtn_backend, gptq.backend, awq.backend, awq.clip_backend and calib_walker.
  void apply_to(QuantizeOptions& o) const;
};

struct QuantizeOptions {
  QuantMethod method = QuantMethod::Rtn;
  Format format = Format::integer(4, 128, false);
  std::map<std::string, Format> per_tensor;  // a layout: checkpoint tensor name → format (overrides `format`)
  bool mse_clip = false;                     // RTN: per-group clip search (int family); ggml's scale search, unweighted
  bool quantize_embeddings = false;          // also RTN the token embeddings and output head (llama-quantize --pure)
  bool keep_encoded = false;                 // keep every quantized tensor's codes in the result (for export)
  bool fp16_scales = false;                  // int family: scales rounded to fp16 before codes are chosen (GPTQ export)
  RtnBackend rtn_backend;                    // method rtn: another backend's RTN (empty: the CPU; Unsupported: the CPU)
  GptqOptions gptq;                          // block size, damping, act-order (format taken from above)
  AwqOptions awq;                            // α grid and clip search (methods awq, awq+gptq)
  OneBitOptions onebit;                      // distillation after SVID (method onebit, format onebit)
  CbqOptions cbq;                            // cross-block windows, LoRA-Rounding, CFP (method cbq)
  CalibOptions calib;
  // Methods gptq, awq, awq+gptq: where the calibration's forward passes and input statistics run
  // (core/calib/analyze.h; empty: the CPU; a walker the model cannot use falls back with a warning).
  BlockWalkerFactory calib_walker;
  // Methods gptq, awq, awq+gptq: each block's results go into `resume_dir` as it completes (core/quant/block_cache.h);
  // with `resume` the blocks an interrupted run left there are reused. `run_id` names the run (model
  // and options) in the folder's fingerprint, with a hash of the calibration windows. Empty: none.
  std::filesystem::path resume_dir;
  bool resume = false;
  bool resume_if_same = false;  // resume a folder of this very run, clear another run's (the studio resumes on its own)
  std::string run_id;
  // Methods rtn, gptq, awq, awq+gptq: the blocks are loaded and handed on one at a time (core/model/weights.h).
  BlockStream stream;
  Expected<void> validate() const;

  // The format a layout gives `tensor` (a checkpoint tensor name), else `format`.
  Format format_of(const std::string& tensor) const;
};

// The BlockStream of a streaming job over `weights` (loaded with blocks = false from `ck`): a block is
// loaded before use; when it is final `write` gets it (values in weights.blocks[b], codes in the
// encodings), then its codes are dropped and its memory freed.
BlockStream stream_blocks(const Checkpoint& ck, ModelWeights& weights,
                          std::function<Expected<void>(int64_t block, const EncodedTensors& encoded)> write);

// The format every tensor the options quantize will have (checkpoint tensor name → format): what a
// streaming export declares before any block is quantized, and what a size estimate counts.
std::map<std::string, Format> planned_formats(const ModelWeights& m, const QuantizeOptions& o);

struct LayerReport {
  std::string tensor;
  std::string part;        // q/k/v/o/gate/up/down
  std::string format;
  int64_t rows = 0, cols = 0;
  double weight_rel_error = 0;  // ‖W − Ŵ‖ / ‖W‖
  double output_rel_error = -1; // ‖(W − Ŵ) X‖ / ‖W X‖ from the Hessian (GPTQ), -1 when unknown
  double seconds = 0;
  double awq_alpha = -1;  // AWQ: the α chosen for the layer's group, -1 when the group was not scaled
  double awq_clip = -1;   // AWQ (int family): the mean clip ratio chosen, -1 when no clip search ran
  std::string note;       // e.g. why AWQ left the group unscaled
};

struct QuantizeResult {
  std::vector<LayerReport> layers;
  double bits_per_weight = 0;  // over the quantized layers
  int64_t quantized_weights = 0;
  double seconds = 0;
  std::vector<std::string> warnings;
  EncodedTensors encoded;  // with keep_encoded: checkpoint tensor name → codes (fused slots stacked)
  OneBitResult onebit;     // method onebit: the 1-bit layers (always kept) and the per-block report
  CbqReport cbq;           // method cbq: per-window loss curves and probe errors
  int64_t resumed_blocks = 0;  // blocks restored from the resume folder instead of quantized
  int64_t cpu_fallback_layers = 0;  // GPTQ or RTN with a backend: layers it did not handle (run on the CPU)
  std::string calibration_backend;  // gptq, awq, awq+gptq: where the calibration walk ran ("cpu", "vulkan")
};

// Records one layer's codes under its checkpoint tensor (stacking the slots of a fused tensor).
Expected<void> keep_encoded(QuantizeResult& result, const std::string& tensor, EncodedTensor t);

// `calib_tokens`: windows from draw_windows (needed by GPTQ and AWQ; ignored by RTN).
Expected<QuantizeResult> quantize_model(ModelWeights& m, const QuantizeOptions& options, const std::vector<int32_t>& calib_tokens,
                                        Progress* progress = nullptr, const CancelToken* cancel = nullptr);

}  // namespace lowbit
