#include "gpu/model/vulkan_block_walker.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "gpu/model/block_recorder.h"
#include "gpu/model/device_weights.h"
#include "gpu/ops/attention_op.h"
#include "gpu/ops/column_stats_op.h"
#include "gpu/ops/hessian_op.h"
#include "gpu/ops/rope_op.h"

namespace lowbit::gpu {
namespace {

constexpr uint64_t kTransferBytes = uint64_t{64} << 20;  // hidden states moved per submission

// One linear input's sums on the device.
struct DeviceStats {
  int64_t channels = 0;
  Buffer xtx, sums, maxes;
  bool fresh = true;  // the next accumulation overwrites xtx (beta = 0) instead of reading it
};

size_t slot(LinearInput i) {
  return static_cast<size_t>(i);
}

class VulkanBlockWalker final : public BlockWalker {
 public:
  VulkanBlockWalker(Device& device, const ModelConfig& c, const VulkanBlockWalkerOptions& o)
      : device_(device), config_(c), options_(o) {}

  std::string name() const override { return "vulkan"; }

  Expected<void> start(MatrixRM x, int64_t S, int64_t T) override {
    const ModelConfig& c = config_;
    if (S < 1 || T < 1 || x.rows() != S * T || x.cols() != c.hidden)
      return make_error(ErrorCode::InvalidArgument, "vulkan calibration: hidden states do not match " + std::to_string(S) +
                                                        " windows of " + std::to_string(T) + " tokens");
    S_ = S;
    T_ = T;
    chunk_ = std::clamp<int64_t>(options_.chunk_tokens / T, 1, S);
    hidden_ = Buffer();
    act_ = BlockActivations();
    LB_TRY_ASSIGN(hidden_, device_floats(device_, S * T * c.hidden));
    LB_TRY_ASSIGN(act_, BlockActivations::create(device_, c, chunk_ * T));
    if (!c.learned_positions && c.rotary_dim() > 0) {
      const std::vector<float> table = rope_table(c.rope_theta, c.rotary_dim(), T);
      LB_TRY_ASSIGN(rope_, device_floats(device_, static_cast<int64_t>(table.size())));
      LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device_));
      LB_TRY_VOID(rec.upload(rope_, std::as_bytes(std::span<const float>(table))));
      LB_TRY_VOID(rec.submit_and_wait());
    }
    for (LinearInput i : kLinearInputs) {
      DeviceStats& d = stats_[slot(i)];
      d.channels = linear_input_channels(c, i);
      LB_TRY_ASSIGN(d.xtx, device_floats(device_, d.channels * d.channels));
      LB_TRY_ASSIGN(d.sums, device_floats(device_, d.channels));
      LB_TRY_ASSIGN(d.maxes, device_floats(device_, d.channels));
    }
    return transfer(x.data(), true);
  }

  Expected<void> stats(const DecoderBlock& blk, BlockStats& stats, const CancelToken* cancel) override {
    LB_TRY_ASSIGN(DeviceBlock b, upload_block(device_, config_, blk));
    {
      LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device_));
      for (DeviceStats& d : stats_) {
        const std::vector<float> zeros(static_cast<size_t>(d.channels), 0.0f);
        LB_TRY_VOID(rec.upload(d.sums, std::as_bytes(std::span<const float>(zeros))));
        LB_TRY_VOID(rec.upload(d.maxes, std::as_bytes(std::span<const float>(zeros))));
        d.fresh = true;
      }
      LB_TRY_VOID(rec.submit_and_wait());
    }
    auto tap = [this](CommandRecorder& rec, int64_t rows) {
      return [this, &rec, rows](LinearInput which, const Buffer& in, int64_t channels) -> Expected<void> {
        DeviceStats& d = stats_[slot(which)];
        LB_TRY_VOID(record_hessian_accumulate(rec, {rows, channels}, 1.0f, d.fresh ? 0.0f : 1.0f, in, d.xtx));
        d.fresh = false;
        return record_column_abs_stats(rec, rows, channels, in, d.sums, d.maxes);
      };
    };
    LB_TRY_VOID(chunks(b, cancel, false, tap));
    const int64_t tokens = S_ * T_;
    for (LinearInput i : kLinearInputs) {
      const DeviceStats& d = stats_[slot(i)];
      std::vector<float> xtx(static_cast<size_t>(d.channels * d.channels)), sums(static_cast<size_t>(d.channels)),
          maxes(static_cast<size_t>(d.channels));
      LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device_));
      LB_TRY_VOID(rec.download(d.xtx, std::as_writable_bytes(std::span<float>(xtx))));
      LB_TRY_VOID(rec.download(d.sums, std::as_writable_bytes(std::span<float>(sums))));
      LB_TRY_VOID(rec.download(d.maxes, std::as_writable_bytes(std::span<float>(maxes))));
      LB_TRY_VOID(rec.submit_and_wait());
      LB_TRY_VOID(stats.at(i).add_sums(xtx, sums, maxes, tokens));
    }
    return {};
  }

  Expected<void> advance(const DecoderBlock& blk, const CancelToken* cancel) override {
    LB_TRY_ASSIGN(DeviceBlock b, upload_block(device_, config_, blk));
    return chunks(b, cancel, true, [](CommandRecorder&, int64_t) { return LinearInputTap(); });
  }

  Expected<const MatrixRM*> hidden() override {
    host_.resize(S_ * T_, config_.hidden);
    LB_TRY_VOID(transfer(host_.data(), false));
    return &host_;
  }

 private:
  // Runs b over every chunk of windows: the chunk's hidden states copied into the activations, the
  // block recorded with make_tap(recorder, rows)'s tap, and (keep) the result copied back.
  template <class MakeTap>
  Expected<void> chunks(const DeviceBlock& b, const CancelToken* cancel, bool keep, MakeTap make_tap) {
    const uint64_t row_bytes = static_cast<uint64_t>(config_.hidden) * sizeof(float);
    for (int64_t s0 = 0; s0 < S_; s0 += chunk_) {
      if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "cancelled");
      const int64_t n = std::min(chunk_, S_ - s0), rows = n * T_;
      const uint64_t offset = static_cast<uint64_t>(s0 * T_) * row_bytes, bytes = static_cast<uint64_t>(rows) * row_bytes;
      LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device_));
      rec.copy(hidden_, act_.x, bytes, offset, 0);
      rec.barrier();
      LB_TRY_VOID(record_block(rec, config_, b, act_, rope_, n, T_, make_tap(rec, rows)));
      if (keep) rec.copy(act_.x, hidden_, bytes, 0, offset);
      LB_TRY_VOID(rec.submit_and_wait());
    }
    return {};
  }

  // The hidden states between the host and the device, in submissions of bounded size.
  Expected<void> transfer(float* host, bool up) {
    const uint64_t total = static_cast<uint64_t>(S_ * T_ * config_.hidden) * sizeof(float);
    auto* bytes = reinterpret_cast<std::byte*>(host);
    for (uint64_t off = 0; off < total; off += kTransferBytes) {
      const uint64_t n = std::min(kTransferBytes, total - off);
      LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device_));
      if (up)
        LB_TRY_VOID(rec.upload(hidden_, std::span<const std::byte>(bytes + off, n), off));
      else
        LB_TRY_VOID(rec.download(hidden_, std::span<std::byte>(bytes + off, n), off));
      LB_TRY_VOID(rec.submit_and_wait());
    }
    return {};
  }

  Device& device_;
  ModelConfig config_;
  VulkanBlockWalkerOptions options_;
  int64_t S_ = 0, T_ = 0, chunk_ = 1;
  Buffer hidden_, rope_;
  BlockActivations act_;
  std::array<DeviceStats, 4> stats_;
  MatrixRM host_;
};

}  // namespace

Expected<std::unique_ptr<BlockWalker>> vulkan_block_walker(Device& device, const ModelConfig& config,
                                                           const VulkanBlockWalkerOptions& options) {
  if (options.chunk_tokens < 1)
    return make_error(ErrorCode::InvalidArgument, "VulkanBlockWalkerOptions::chunk_tokens must be positive");
  if (config.head_dim > kAttentionMaxHeadDim)
    return make_error(ErrorCode::Unsupported, "the Vulkan forward pass takes head_dim up to " +
                                                  std::to_string(kAttentionMaxHeadDim) + "; this model has " +
                                                  std::to_string(config.head_dim));
  return std::unique_ptr<BlockWalker>(new VulkanBlockWalker(device, config, options));
}

BlockWalkerFactory vulkan_block_walker_factory(Device& device, const VulkanBlockWalkerOptions& options) {
  return [&device, options](const ModelConfig& config) { return vulkan_block_walker(device, config, options); };
}

}  // namespace lowbit::gpu
