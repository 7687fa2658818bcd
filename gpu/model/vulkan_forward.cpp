#include "gpu/model/vulkan_forward.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/quant/format.h"
#include "gpu/model/block_recorder.h"
#include "gpu/model/device_weights.h"
#include "gpu/ops/activation_op.h"
#include "gpu/ops/add_op.h"
#include "gpu/ops/attention_op.h"
#include "gpu/ops/embed_op.h"
#include "gpu/ops/log_softmax_nll_op.h"
#include "gpu/ops/matmul_op.h"
#include "gpu/ops/norm_op.h"
#include "gpu/ops/rope_op.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {
namespace {

const Format kF32 = Format::float_type(DType::F32);

// The activations of one batch of `rows` = B·T tokens (capacity: the largest batch so far).
struct Activations {
  int64_t rows = 0;
  int64_t head_rows = 0;  // rows of logits per chunk of the output head
  BlockActivations block;
  Buffer ids, targets, nll;
  Buffer head_in;  // the chunk's rows of h, when the head runs in more than one chunk
  Buffer logits;   // [head_rows, vocab]

  uint64_t bytes() const {
    uint64_t total = block.bytes();
    for (const Buffer* b : {&ids, &targets, &nll, &head_in, &logits}) total += b->size();
    return total;
  }
};

Expected<Buffer> floats(Device& device, int64_t count) {
  return device_floats(device, count);
}

}  // namespace

struct VulkanForward::Impl {
  Device* device = nullptr;
  ModelConfig config;
  VulkanForwardOptions options;
  DeviceWeights weights;
  Activations act;
  Buffer rope_angles;  // rope_table(θ, rotary_dim, rope_T)
  int64_t rope_T = 0;

  Expected<void> reserve(int64_t rows);
  Expected<void> check_batch(std::span<const int32_t> tokens, int64_t B, int64_t T) const;
  // Uploads the tokens, runs every block and the final norm: h holds the head's input.
  Expected<void> record_body(CommandRecorder& rec, std::span<const int32_t> tokens, int64_t B, int64_t T);
  // The logits of rows [r0, r0 + rows) into act.logits.
  Expected<void> record_head_chunk(CommandRecorder& rec, int64_t r0, int64_t rows) const;
  Expected<void> logits(std::span<const int32_t> tokens, int64_t B, int64_t T, const WindowLogitsSink& sink);
  Expected<void> nll(std::span<const int32_t> tokens, int64_t B, int64_t T, int64_t first, std::span<double> out);
};

Expected<void> VulkanForwardOptions::validate() const {
  if (max_logits_bytes < 4096)
    return make_error(ErrorCode::InvalidArgument, "VulkanForwardOptions::max_logits_bytes must be at least 4096");
  return {};
}

Expected<void> check_forward_support(const Device& device, const ModelWeights& weights) {
  const ModelConfig& c = weights.config;
  if (c.head_dim > kAttentionMaxHeadDim)
    return make_error(ErrorCode::Unsupported, "the Vulkan forward pass takes head_dim up to " +
                                                  std::to_string(kAttentionMaxHeadDim) + "; this model has " +
                                                  std::to_string(c.head_dim));
  // Every weight is bound whole; one beyond the device's storage-buffer range cannot be.
  uint64_t largest = static_cast<uint64_t>(std::max(weights.tok_embd.size(), weights.lm_head.size()));
  for (const DecoderBlock& b : weights.blocks)
    for (const Linear* l : {&b.q, &b.k, &b.v, &b.o, &b.gate, &b.up, &b.down})
      largest = std::max(largest, static_cast<uint64_t>(l->w.size()));
  if (largest * sizeof(float) > device.limits().maxStorageBufferRange)
    return make_error(ErrorCode::Unsupported, "a weight of " + std::to_string(largest * sizeof(float)) +
                                                  " bytes exceeds the storage-buffer range of " + device.info().name +
                                                  " (" + std::to_string(device.limits().maxStorageBufferRange) +
                                                  " bytes)");
  return {};
}

VulkanForward::VulkanForward(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VulkanForward::~VulkanForward() = default;

Expected<std::unique_ptr<VulkanForward>> VulkanForward::create(Device& device, const ModelWeights& weights,
                                                               const VulkanForwardOptions& options) {
  LB_TRY_VOID(options.validate());
  LB_TRY_VOID(check_forward_support(device, weights));
  const ModelConfig& c = weights.config;
  auto impl = std::make_unique<Impl>();
  impl->device = &device;
  impl->config = c;
  impl->options = options;
  LB_TRY_ASSIGN(impl->weights, upload_weights(device, weights));
  return std::unique_ptr<VulkanForward>(new VulkanForward(std::move(impl)));
}

const ModelConfig& VulkanForward::config() const {
  return impl_->config;
}

std::string VulkanForward::device() const {
  const DeviceInfo& info = impl_->device->info();
  return info.name + " (" + info.driver + ")";
}

uint64_t VulkanForward::weight_bytes() const {
  return impl_->weights.bytes;
}
uint64_t VulkanForward::activation_bytes() const {
  return impl_->act.bytes() + impl_->rope_angles.size();
}

Expected<void> VulkanForward::Impl::reserve(int64_t rows) {
  const ModelConfig& c = config;
  const uint64_t row_bytes = static_cast<uint64_t>(c.vocab) * sizeof(float);
  const uint64_t cap = std::min<uint64_t>(options.max_logits_bytes, device->limits().maxStorageBufferRange);
  const int64_t head_rows = std::clamp<int64_t>(static_cast<int64_t>(cap / row_bytes), 1, rows);
  if (act.rows >= rows && act.head_rows >= head_rows) return {};
  act = Activations{};  // release the old buffers before allocating larger ones
  Activations a;
  a.rows = rows;
  a.head_rows = head_rows;
  LB_TRY_ASSIGN(a.block, BlockActivations::create(*device, c, rows));
  LB_TRY_ASSIGN(a.ids, floats(*device, rows));  // int32, the size of a float
  LB_TRY_ASSIGN(a.targets, floats(*device, rows));
  LB_TRY_ASSIGN(a.nll, floats(*device, rows));
  LB_TRY_ASSIGN(a.head_in, floats(*device, head_rows * c.hidden));
  LB_TRY_ASSIGN(a.logits, floats(*device, head_rows * c.vocab));
  act = std::move(a);
  return {};
}

Expected<void> VulkanForward::Impl::check_batch(std::span<const int32_t> tokens, int64_t B, int64_t T) const {
  // The checks and messages of core's embed_windows.
  if (B <= 0 || T <= 0 || static_cast<int64_t>(tokens.size()) != B * T)
    return make_error(ErrorCode::InvalidArgument, "forward: " + std::to_string(tokens.size()) + " tokens do not form " +
                                                      std::to_string(B) + " windows of " + std::to_string(T));
  if (config.learned_positions && T > config.max_positions)
    return make_error(ErrorCode::InvalidArgument, "forward: window of " + std::to_string(T) +
                                                      " tokens exceeds the model's " +
                                                      std::to_string(config.max_positions) + " learned positions");
  return check_token_ids(tokens, config.vocab);
}

Expected<void> VulkanForward::Impl::record_body(CommandRecorder& rec, std::span<const int32_t> tokens, int64_t B,
                                                int64_t T) {
  const ModelConfig& c = config;
  const int64_t N = B * T;
  if (!c.learned_positions && c.rotary_dim() > 0 && rope_T != T) {
    const std::vector<float> table = rope_table(c.rope_theta, c.rotary_dim(), T);
    rope_T = 0;
    rope_angles = Buffer();
    LB_TRY_ASSIGN(rope_angles, floats(*device, static_cast<int64_t>(table.size())));
    LB_TRY_VOID(rec.upload(rope_angles, std::as_bytes(std::span<const float>(table))));
    rope_T = T;
  }
  LB_TRY_VOID(rec.upload(act.ids, std::as_bytes(tokens)));
  rec.barrier();
  LB_TRY_VOID(record_embedding(rec, c, weights, act.ids, act.block.x, B, T));
  for (const DeviceBlock& b : weights.blocks) LB_TRY_VOID(record_block(rec, c, b, act.block, rope_angles, B, T));
  return record_final_norm(rec, c, weights, act.block.x, act.block.h, N);
}

Expected<void> VulkanForward::Impl::record_head_chunk(CommandRecorder& rec, int64_t r0, int64_t rows) const {
  return record_head_rows(rec, config, weights, act.block.h, act.head_in, act.logits, r0, rows);
}

// A failed call may have left the rope table unwritten: the next call makes it again.
Expected<void> VulkanForward::logits(std::span<const int32_t> tokens, int64_t B, int64_t T,
                                     const WindowLogitsSink& sink) {
  auto done = impl_->logits(tokens, B, T, sink);
  if (!done) impl_->rope_T = 0;
  return done;
}

Expected<void> VulkanForward::nll(std::span<const int32_t> tokens, int64_t B, int64_t T, int64_t first,
                                  std::span<double> out) {
  auto done = impl_->nll(tokens, B, T, first, out);
  if (!done) impl_->rope_T = 0;
  return done;
}

Expected<void> VulkanForward::Impl::logits(std::span<const int32_t> tokens, int64_t B, int64_t T,
                                           const WindowLogitsSink& sink) {
  Impl& m = *this;
  LB_TRY_VOID(m.check_batch(tokens, B, T));
  const int64_t N = B * T, vocab = m.config.vocab;
  LB_TRY_VOID(m.reserve(N));
  {
    LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(*m.device));
    LB_TRY_VOID(m.record_body(rec, tokens, B, T));
    LB_TRY_VOID(rec.submit_and_wait());
  }
  // The head in chunks of rows, each downloaded into the window it belongs to; a window goes to the
  // sink once its last row has arrived.
  std::vector<float> window(static_cast<size_t>(T * vocab));
  const int64_t chunk = m.act.head_rows;
  int64_t r0 = 0;
  while (r0 < N) {
    const int64_t b = r0 / T;
    const int64_t rows = std::min({chunk, N - r0, (b + 1) * T - r0});  // never past the window's end
    LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(*m.device));
    LB_TRY_VOID(m.record_head_chunk(rec, r0, rows));
    const auto dst =
        std::span<float>(window).subspan(static_cast<size_t>((r0 - b * T) * vocab), static_cast<size_t>(rows * vocab));
    LB_TRY_VOID(rec.download(m.act.logits, std::as_writable_bytes(dst)));
    LB_TRY_VOID(rec.submit_and_wait());
    r0 += rows;
    if (r0 == (b + 1) * T) sink(b, window);
  }
  return {};
}

Expected<void> VulkanForward::Impl::nll(std::span<const int32_t> tokens, int64_t B, int64_t T, int64_t first,
                                        std::span<double> out) {
  Impl& m = *this;
  LB_TRY_VOID(m.check_batch(tokens, B, T));
  const int64_t per_window = T - 1 - first;
  if (first < 0 || per_window < 0 || static_cast<int64_t>(out.size()) != B * per_window)
    return make_error(ErrorCode::InvalidArgument, "nll: " + std::to_string(out.size()) + " outputs for " +
                                                      std::to_string(B) + " windows of " + std::to_string(T) +
                                                      " scored from position " + std::to_string(first));
  const int64_t N = B * T;
  LB_TRY_VOID(m.reserve(N));
  // Row b·T + p is scored against token p + 1 of its window; rows that score nothing get −1.
  std::vector<int32_t> targets(static_cast<size_t>(N), -1);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t p = first; p < T - 1; ++p)
      targets[static_cast<size_t>(b * T + p)] = tokens[static_cast<size_t>(b * T + p + 1)];
  std::vector<float> nll(static_cast<size_t>(N));
  {
    LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(*m.device));
    LB_TRY_VOID(rec.upload(m.act.targets, std::as_bytes(std::span<const int32_t>(targets))));
    LB_TRY_VOID(m.record_body(rec, tokens, B, T));
    for (int64_t r0 = 0; r0 < N; r0 += m.act.head_rows) {
      const int64_t rows = std::min(m.act.head_rows, N - r0);
      LB_TRY_VOID(m.record_head_chunk(rec, r0, rows));
      LB_TRY_VOID(record_log_softmax_nll(rec, {rows, m.config.vocab, r0}, m.act.logits, m.act.targets, m.act.nll));
      rec.barrier();  // the next chunk overwrites the logits
    }
    LB_TRY_VOID(rec.download(m.act.nll, std::as_writable_bytes(std::span<float>(nll))));
    LB_TRY_VOID(rec.submit_and_wait());
  }
  for (int64_t b = 0; b < B; ++b)
    for (int64_t p = first; p < T - 1; ++p)
      out[static_cast<size_t>(b * per_window + p - first)] = static_cast<double>(nll[static_cast<size_t>(b * T + p)]);
  return {};
}

ForwardFactory vulkan_forward_factory(Device& device, const VulkanForwardOptions& options) {
  return [&device, options](const ModelWeights& weights) -> Expected<std::unique_ptr<ForwardBackend>> {
    LB_TRY_ASSIGN(std::unique_ptr<VulkanForward> engine, VulkanForward::create(device, weights, options));
    return std::unique_ptr<ForwardBackend>(std::move(engine));
  };
}

}  // namespace lowbit::gpu
