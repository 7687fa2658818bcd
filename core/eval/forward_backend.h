// ForwardBackend: where the forward pass of an evaluation runs, so that perplexity (and later other
// evaluations) can use the CPU or the GPU without core knowing about Vulkan. A backend owns or
// references one model's weights and turns B windows of T token ids (each window starting at
// position 0) into either every window's logits or the negative log-likelihood of each next token.
// CpuForward wraps core's forward_windows and is the reference; the Vulkan backend lives in gpu/
// (gpu/model/vulkan_forward.h). Interfaces take spans and shapes, no Eigen types. A backend is used
// by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "core/io/checkpoint.h"
#include "core/model/config.h"
#include "core/model/weights.h"
#include "core/util/expected.h"

namespace lowbit {

// One window's logits, [T, vocab] row-major; valid only during the call.
using WindowLogitsSink = std::function<void(int64_t window, std::span<const float> logits)>;

class ForwardBackend {
 public:
  virtual ~ForwardBackend() = default;

  virtual const ModelConfig& config() const = 0;
  virtual std::string name() const = 0;    // "cpu", "vulkan": what the JSON output's "backend" says
  virtual std::string device() const = 0;  // the processor it runs on, for reports

  // tokens: B windows of T ids, row-major; ids must be < vocab (an error otherwise). `sink` is
  // called once per window, in window order.
  virtual Expected<void> logits(std::span<const int32_t> tokens, int64_t B, int64_t T,
                                const WindowLogitsSink& sink) = 0;

  // The NLL (nats) of token p + 1 of each window given its tokens 0..p, for p in [first, T − 1):
  // out[b·(T − 1 − first) + p − first] = −log softmax(logits[b, p])[tokens[b·T + p + 1]].
  // The default computes it from logits() with the log-softmax in double; a GPU backend overrides
  // it to reduce on the device and transfer one number per position instead of a vocabulary.
  virtual Expected<void> nll(std::span<const int32_t> tokens, int64_t B, int64_t T, int64_t first,
                             std::span<double> out);
};

// The CPU backend: forward_windows on the caller's weights (which must outlive it).
class CpuForward final : public ForwardBackend {
 public:
  explicit CpuForward(const ModelWeights& weights) : weights_(&weights) {}

  const ModelConfig& config() const override { return weights_->config; }
  std::string name() const override { return "cpu"; }
  std::string device() const override;
  Expected<void> logits(std::span<const int32_t> tokens, int64_t B, int64_t T, const WindowLogitsSink& sink) override;

 private:
  const ModelWeights* weights_;
};

// The CPU backend over a model read block by block from its checkpoint: `skeleton` holds only the
// model-wide tensors (load_model(…, blocks = false)); for every call each decoder block is loaded,
// applied to the windows and freed in turn, so memory is one block and the windows' activations
// whatever the model's size, at the price of reading the blocks once per call (from the page cache
// when it holds them): give it many windows per call. Its arithmetic is CpuForward's.
class StreamedCpuForward final : public ForwardBackend {
 public:
  StreamedCpuForward(const Checkpoint& ck, ModelWeights& skeleton) : ck_(&ck), weights_(&skeleton) {}

  const ModelConfig& config() const override { return weights_->config; }
  std::string name() const override { return "cpu"; }
  std::string device() const override;
  Expected<void> logits(std::span<const int32_t> tokens, int64_t B, int64_t T, const WindowLogitsSink& sink) override;

 private:
  const Checkpoint* ck_;
  ModelWeights* weights_;
};

// Makes the backend an evaluation runs on for given weights (which outlive it). Empty: the CPU. An
// error with ErrorCode::Unsupported means "not on this backend" (the caller falls back to the CPU and
// says so); other errors (out of device memory, a lost device) fail the evaluation.
using ForwardFactory = std::function<Expected<std::unique_ptr<ForwardBackend>>(const ModelWeights&)>;

// The factory's backend for `weights`, the CPU's when the factory is empty or answers Unsupported
// (then `fallback_note` says why).
Expected<std::unique_ptr<ForwardBackend>> make_forward(const ForwardFactory& factory, const ModelWeights& weights,
                                                      std::string* fallback_note = nullptr);

// −log softmax(row)[target] with the normalizer in double: the one definition every backend's
// scoring is compared with.
double token_nll(std::span<const float> row, int32_t target);

}  // namespace lowbit
