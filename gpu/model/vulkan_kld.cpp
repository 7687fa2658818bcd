#include "gpu/model/vulkan_kld.h"

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

constexpr int64_t kNone = -2;  // no part of the model differs from what the device holds

class VulkanKld final : public KldScorer {
 public:
  static Expected<std::unique_ptr<KldScorer>> create(Device& device, const ModelWeights& m, std::span<const int32_t> windows,
                                                     int64_t S, int64_t T, const VulkanForwardOptions& options);

  double nll_ref() const override { return nll_ref_; }
  std::string name() const override { return "vulkan"; }
  Expected<Sensitivity> score(const ModelWeights& m, int64_t first_block) override;

 private:
  explicit VulkanKld(Device& device) : device_(device) {}
  // Replaces what the device holds of part `part` (a block, −1 the embeddings, L the head) by m's.
  Expected<void> upload_part(const ModelWeights& m, int64_t part);
  // Records the head over h in chunks, each reduced by `reduce(rec, r0, rows)`.
  template <class Reduce>
  Expected<void> record_head(CommandRecorder& rec, const Reduce& reduce);

  Device& device_;
  ModelConfig config_;
  int64_t S_ = 0, T_ = 0, N_ = 0, L_ = 0, head_rows_ = 0;
  DeviceWeights weights_;
  BlockActivations act_;
  ScoredWindows win_;  // the ids, next-token targets and RoPE table
  Buffer head_in_, logits_;
  std::vector<Buffer> block_inputs_;  // [L + 1] × N·hidden: the reference's input to every block and to the final norm
  Buffer ref_logits_, ref_lse_, stats_;
  std::vector<double> lse_;  // the reference's logsumexp per row
  double nll_ref_ = 0;
  int64_t dirty_ = kNone;
};

Expected<std::unique_ptr<KldScorer>> VulkanKld::create(Device& device, const ModelWeights& m, std::span<const int32_t> windows,
                                                       int64_t S, int64_t T, const VulkanForwardOptions& options) {
  LB_TRY_VOID(options.validate());
  LB_TRY_VOID(check_forward_support(device, m));
  const ModelConfig& c = m.config;
  std::unique_ptr<VulkanKld> k(new VulkanKld(device));
  k->config_ = c;
  k->S_ = S;
  k->T_ = T;
  k->N_ = S * T;
  k->L_ = static_cast<int64_t>(m.blocks.size());
  const int64_t N = k->N_;
  const uint64_t row_bytes = static_cast<uint64_t>(c.vocab) * sizeof(float);
  const uint64_t cap = std::min<uint64_t>(options.max_logits_bytes, device.limits().maxStorageBufferRange);
  k->head_rows_ = std::clamp<int64_t>(static_cast<int64_t>(cap / row_bytes), 1, N);
  if (static_cast<uint64_t>(N) * row_bytes > device.limits().maxStorageBufferRange)
    return make_error(ErrorCode::Unsupported, "vulkan KLD: the reference logits of " + std::to_string(N) + " positions exceed the storage-buffer range of " +
                                                  device.info().name);
  LB_TRY_ASSIGN(k->weights_, upload_weights(device, m));
  LB_TRY_ASSIGN(k->act_, BlockActivations::create(device, c, N));
  LB_TRY_ASSIGN(k->head_in_, device_floats(device, k->head_rows_ * c.hidden));
  LB_TRY_ASSIGN(k->logits_, device_floats(device, k->head_rows_ * c.vocab));
  LB_TRY_ASSIGN(k->ref_logits_, device_floats(device, N * c.vocab));
  LB_TRY_ASSIGN(k->ref_lse_, device_floats(device, N));
  LB_TRY_ASSIGN(k->stats_, device_floats(device, 4 * N));
  for (int64_t b = 0; b <= k->L_; ++b) {
    LB_TRY_ASSIGN(Buffer in, device_floats(device, N * c.hidden));
    k->block_inputs_.push_back(std::move(in));
  }
  // The reference pass.
  std::vector<float> stats(static_cast<size_t>(3 * N));
  {
    LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
    LB_TRY_ASSIGN(k->win_, record_scored_windows(rec, c, windows, S, T));
    const uint64_t hidden_bytes = static_cast<uint64_t>(N * c.hidden) * sizeof(float);
    LB_TRY_VOID(record_embedding(rec, c, k->weights_, k->win_.ids, k->act_.x, S, T));
    for (int64_t b = 0; b < k->L_; ++b) {
      rec.copy(k->act_.x, k->block_inputs_[static_cast<size_t>(b)], hidden_bytes);
      LB_TRY_VOID(record_block(rec, c, k->weights_.blocks[static_cast<size_t>(b)], k->act_, k->win_.rope_angles, S, T));
    }
    rec.copy(k->act_.x, k->block_inputs_[static_cast<size_t>(k->L_)], hidden_bytes);
    LB_TRY_VOID(record_final_norm(rec, c, k->weights_, k->act_.x, k->act_.h, N));
    VulkanKld& self = *k;
    LB_TRY_VOID(k->record_head(rec, [&self, &row_bytes](CommandRecorder& r, int64_t r0, int64_t rows) -> Expected<void> {
      r.copy(self.logits_, self.ref_logits_, static_cast<uint64_t>(rows) * row_bytes, 0, static_cast<uint64_t>(r0) * row_bytes);
      return record_logit_stats(r, {rows, self.config_.vocab, r0}, self.logits_, self.win_.targets, self.stats_);
    }));
    LB_TRY_VOID(rec.download(k->stats_, std::as_writable_bytes(std::span<float>(stats))));
    LB_TRY_VOID(rec.submit_and_wait());
  }
  k->lse_.resize(static_cast<size_t>(N));
  std::vector<float> lse_f(static_cast<size_t>(N));
  double nll = 0;
  for (int64_t r = 0; r < N; ++r) {
    const double lse = static_cast<double>(stats[static_cast<size_t>(3 * r)]) + std::log(static_cast<double>(stats[static_cast<size_t>(3 * r + 1)]));
    k->lse_[static_cast<size_t>(r)] = lse;
    lse_f[static_cast<size_t>(r)] = static_cast<float>(lse);
    if (k->win_.targets_host[static_cast<size_t>(r)] >= 0) nll += lse - static_cast<double>(stats[static_cast<size_t>(3 * r + 2)]);
  }
  k->nll_ref_ = nll / static_cast<double>(k->win_.scored);
  {
    LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
    LB_TRY_VOID(rec.upload(k->ref_lse_, std::as_bytes(std::span<const float>(lse_f))));
    LB_TRY_VOID(rec.submit_and_wait());
  }
  return std::unique_ptr<KldScorer>(std::move(k));
}

template <class Reduce>
Expected<void> VulkanKld::record_head(CommandRecorder& rec, const Reduce& reduce) {
  for (int64_t r0 = 0; r0 < N_; r0 += head_rows_) {
    const int64_t rows = std::min(head_rows_, N_ - r0);
    LB_TRY_VOID(record_head_rows(rec, config_, weights_, act_.h, head_in_, logits_, r0, rows));
    LB_TRY_VOID(reduce(rec, r0, rows));
    rec.barrier();  // the next chunk overwrites the logits
  }
  return {};
}

Expected<void> VulkanKld::upload_part(const ModelWeights& m, int64_t part) {
  if (part < 0) {
    LB_TRY_ASSIGN(weights_.tok_embd, upload_matrix(device_, m.tok_embd));
  } else if (part >= L_) {
    LB_TRY_ASSIGN(weights_.lm_head, upload_matrix(device_, m.lm_head));
  } else {
    LB_TRY_ASSIGN(weights_.blocks[static_cast<size_t>(part)], upload_block(device_, config_, m.blocks[static_cast<size_t>(part)]));
  }
  return {};
}

Expected<Sensitivity> VulkanKld::score(const ModelWeights& m, int64_t first_block) {
  if (first_block < -1 || first_block > L_ || static_cast<int64_t>(m.blocks.size()) != L_)
    return make_error(ErrorCode::InvalidArgument, "vulkan KLD: part " + std::to_string(first_block) + " of a model with " +
                                                      std::to_string(L_) + " blocks");
  if (first_block == L_ && m.lm_head.size() == 0)
    return make_error(ErrorCode::InvalidArgument, "vulkan KLD: the model's head is its embeddings (tied)");
  if (dirty_ != kNone && dirty_ != first_block) {
    LB_TRY_VOID(upload_part(m, dirty_));  // m holds the original again
    dirty_ = kNone;
  }
  dirty_ = first_block;  // set before the upload: a failed upload leaves the part to restore
  LB_TRY_VOID(upload_part(m, first_block));
  const ModelConfig& c = config_;
  std::vector<float> stats(static_cast<size_t>(4 * N_));
  {
    LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device_));
    const int64_t from = std::max<int64_t>(first_block, 0);
    if (first_block < 0) {
      LB_TRY_VOID(record_embedding(rec, c, weights_, win_.ids, act_.x, S_, T_));
    } else {
      rec.copy(block_inputs_[static_cast<size_t>(from)], act_.x, static_cast<uint64_t>(N_ * c.hidden) * sizeof(float));
      rec.barrier();
    }
    for (int64_t b = from; b < L_; ++b)
      LB_TRY_VOID(record_block(rec, c, weights_.blocks[static_cast<size_t>(b)], act_, win_.rope_angles, S_, T_));
    LB_TRY_VOID(record_final_norm(rec, c, weights_, act_.x, act_.h, N_));
    LB_TRY_VOID(record_head(rec, [this](CommandRecorder& r, int64_t r0, int64_t rows) {
      return record_logit_kl_stats(r, {rows, config_.vocab, r0}, logits_, win_.targets, ref_logits_, ref_lse_, stats_);
    }));
    LB_TRY_VOID(rec.download(stats_, std::as_writable_bytes(std::span<float>(stats))));
    LB_TRY_VOID(rec.submit_and_wait());
  }
  double kl = 0, nll = 0;
  for (int64_t r = 0; r < N_; ++r) {
    if (win_.targets_host[static_cast<size_t>(r)] < 0) continue;
    const double a = stats[static_cast<size_t>(4 * r)], cm = stats[static_cast<size_t>(4 * r + 1)];
    const double sp = stats[static_cast<size_t>(4 * r + 2)], lt = stats[static_cast<size_t>(4 * r + 3)];
    const double shift = std::log1p(cm / sp);  // logsumexp(candidate) − logsumexp(reference)
    kl += std::max(a / sp + shift, 0.0);
    nll += lse_[static_cast<size_t>(r)] + shift - lt;
  }
  const double n = static_cast<double>(win_.scored);
  return Sensitivity{kl / n, nll / n - nll_ref_};
}

}  // namespace

KldScorerFactory vulkan_kld_factory(Device& device, const VulkanForwardOptions& options) {
  return [&device, options](const ModelWeights& m, std::span<const int32_t> windows, int64_t S, int64_t T) {
    return VulkanKld::create(device, m, windows, S, T, options);
  };
}

}  // namespace lowbit::gpu
