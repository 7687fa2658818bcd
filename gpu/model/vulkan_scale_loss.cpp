#include "gpu/model/vulkan_scale_loss.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "gpu/model/block_recorder.h"
#include "gpu/model/device_weights.h"
#include "gpu/ops/embed_op.h"
#include "gpu/ops/logit_stats_op.h"
#include "gpu/ops/rope_op.h"
#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {
namespace {

class VulkanScaleLossRunner final : public ScaleLossRunner {
 public:
  static Expected<std::unique_ptr<ScaleLossRunner>> create(Device& device, const ModelWeights& m, std::span<const int32_t> windows,
                                                           int64_t ctx, int slots, const VulkanForwardOptions& options);
  std::string name() const override { return "vulkan"; }
  Expected<int64_t> add_block(const DecoderBlock& b) override;
  void drop_block(int64_t handle) override { blocks_[static_cast<size_t>(handle)] = DeviceBlock{}; }
  Expected<void> embed(int slot) override;
  Expected<void> copy(int from, int to) override;
  Expected<void> run(int64_t block, int slot) override;
  Expected<double> loss(int slot) override;

 private:
  explicit VulkanScaleLossRunner(Device& device) : device_(device) {}

  Device& device_;
  ModelConfig config_;
  int64_t S_ = 0, T_ = 0, N_ = 0, head_rows_ = 0;
  DeviceWeights weights_;  // embeddings, final norm, head
  std::vector<DeviceBlock> blocks_;
  std::vector<Buffer> slots_;
  BlockActivations act_;
  ScoredWindows win_;  // the ids, next-token targets and RoPE table
  Buffer head_in_, logits_, stats_;
};

Expected<std::unique_ptr<ScaleLossRunner>> VulkanScaleLossRunner::create(Device& device, const ModelWeights& m,
                                                                         std::span<const int32_t> windows, int64_t ctx, int slots,
                                                                         const VulkanForwardOptions& options) {
  LB_TRY_VOID(options.validate());
  LB_TRY_VOID(check_forward_support(device, m));
  const ModelConfig& c = m.config;
  if (ctx < 2 || windows.empty() || windows.size() % static_cast<size_t>(ctx) != 0 || slots <= 0)
    return make_error(ErrorCode::InvalidArgument, "vulkan scale views: " + std::to_string(windows.size()) +
                                                      " tokens are not whole windows of " + std::to_string(ctx));
  std::unique_ptr<VulkanScaleLossRunner> r(new VulkanScaleLossRunner(device));
  r->config_ = c;
  r->T_ = ctx;
  r->S_ = static_cast<int64_t>(windows.size()) / ctx;
  r->N_ = r->S_ * ctx;
  const int64_t N = r->N_;
  const uint64_t cap = std::min<uint64_t>(options.max_logits_bytes, device.limits().maxStorageBufferRange);
  r->head_rows_ = std::clamp<int64_t>(static_cast<int64_t>(cap / (static_cast<uint64_t>(c.vocab) * sizeof(float))), 1, N);
  LB_TRY_ASSIGN(r->weights_, upload_weights(device, m, false));
  LB_TRY_ASSIGN(r->act_, BlockActivations::create(device, c, N));
  for (int k = 0; k < slots; ++k) {
    LB_TRY_ASSIGN(Buffer b, device_floats(device, N * c.hidden));
    r->slots_.push_back(std::move(b));
  }
  LB_TRY_ASSIGN(r->head_in_, device_floats(device, r->head_rows_ * c.hidden));
  LB_TRY_ASSIGN(r->logits_, device_floats(device, r->head_rows_ * c.vocab));
  LB_TRY_ASSIGN(r->stats_, device_floats(device, 3 * N));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_ASSIGN(r->win_, record_scored_windows(rec, c, windows, r->S_, ctx));
  LB_TRY_VOID(rec.submit_and_wait());
  return std::unique_ptr<ScaleLossRunner>(std::move(r));
}

Expected<int64_t> VulkanScaleLossRunner::add_block(const DecoderBlock& b) {
  LB_TRY_ASSIGN(DeviceBlock d, upload_block(device_, config_, b));
  for (size_t k = 0; k < blocks_.size(); ++k)  // a dropped block's place first
    if (!blocks_[k].attn_norm.handle()) {
      blocks_[k] = std::move(d);
      return static_cast<int64_t>(k);
    }
  blocks_.push_back(std::move(d));
  return static_cast<int64_t>(blocks_.size()) - 1;
}

Expected<void> VulkanScaleLossRunner::embed(int slot) {
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device_));
  LB_TRY_VOID(record_embedding(rec, config_, weights_, win_.ids, slots_[static_cast<size_t>(slot)], S_, T_));
  return rec.submit_and_wait();
}

Expected<void> VulkanScaleLossRunner::copy(int from, int to) {
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device_));
  rec.copy(slots_[static_cast<size_t>(from)], slots_[static_cast<size_t>(to)], static_cast<uint64_t>(N_ * config_.hidden) * sizeof(float));
  rec.barrier();
  return rec.submit_and_wait();
}

Expected<void> VulkanScaleLossRunner::run(int64_t block, int slot) {
  // The block runs in place on act_.x: the slot's buffer takes that place for the call.
  std::swap(act_.x, slots_[static_cast<size_t>(slot)]);
  auto done = [&]() -> Expected<void> {
    LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device_));
    LB_TRY_VOID(record_block(rec, config_, blocks_[static_cast<size_t>(block)], act_, win_.rope_angles, S_, T_));
    return rec.submit_and_wait();
  }();
  std::swap(act_.x, slots_[static_cast<size_t>(slot)]);
  return done;
}

Expected<double> VulkanScaleLossRunner::loss(int slot) {
  std::vector<float> stats(static_cast<size_t>(3 * N_));
  {
    LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device_));
    LB_TRY_VOID(record_final_norm(rec, config_, weights_, slots_[static_cast<size_t>(slot)], act_.h, N_));
    for (int64_t r0 = 0; r0 < N_; r0 += head_rows_) {
      const int64_t rows = std::min(head_rows_, N_ - r0);
      LB_TRY_VOID(record_head_rows(rec, config_, weights_, act_.h, head_in_, logits_, r0, rows));
      LB_TRY_VOID(record_logit_stats(rec, {rows, config_.vocab, r0}, logits_, win_.targets, stats_));
      rec.barrier();  // the next chunk overwrites the logits
    }
    LB_TRY_VOID(rec.download(stats_, std::as_writable_bytes(std::span<float>(stats))));
    LB_TRY_VOID(rec.submit_and_wait());
  }
  double nll = 0;
  for (int64_t r = 0; r < N_; ++r)
    if (win_.targets_host[static_cast<size_t>(r)] >= 0)
      nll += static_cast<double>(stats[static_cast<size_t>(3 * r)]) + std::log(static_cast<double>(stats[static_cast<size_t>(3 * r + 1)])) -
             static_cast<double>(stats[static_cast<size_t>(3 * r + 2)]);
  return nll / static_cast<double>(win_.scored);
}

}  // namespace

ScaleLossRunnerFactory vulkan_scale_loss_factory(Device& device, const VulkanForwardOptions& options) {
  return [&device, options](const ModelWeights& m, std::span<const int32_t> windows, int64_t ctx, int slots) {
    return VulkanScaleLossRunner::create(device, m, windows, ctx, slots, options);
  };
}

}  // namespace lowbit::gpu
