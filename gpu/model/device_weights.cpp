#include "gpu/model/device_weights.h"

#include <algorithm>
#include <optional>
#include <span>
#include <utility>

#include "gpu/pipeline/command_recorder.h"

namespace lowbit::gpu {
namespace {

constexpr uint64_t kStagingBytes = uint64_t{64} << 20;  // staged before a submission

// Creates device buffers and records their uploads, submitting whenever kStagingBytes are staged.
class Uploader {
 public:
  explicit Uploader(Device& device) : device_(device) {}

  Expected<Buffer> tensor(const float* data, int64_t count) {
    const uint64_t bytes = static_cast<uint64_t>(count) * sizeof(float);
    LB_TRY_ASSIGN(Buffer b, Buffer::create(device_, std::max<uint64_t>(bytes, 4), MemoryUse::Device));
    if (!recorder_) {
      LB_TRY_ASSIGN(CommandRecorder r, CommandRecorder::begin(device_));
      recorder_.emplace(std::move(r));
    }
    LB_TRY_VOID(recorder_->upload(b, std::as_bytes(std::span<const float>(data, static_cast<size_t>(count)))));
    total_ += b.size();
    staged_ += bytes;
    if (staged_ >= kStagingBytes) LB_TRY_VOID(flush());
    return b;
  }
  Expected<Buffer> vector(const VectorF& v) { return tensor(v.data(), v.size()); }
  Expected<Buffer> matrix(const MatrixRM& m) { return tensor(m.data(), m.size()); }

  Expected<void> flush() {
    if (!recorder_) return {};
    auto done = recorder_->submit_and_wait();
    recorder_.reset();
    staged_ = 0;
    return done;
  }
  uint64_t total() const { return total_; }

 private:
  Device& device_;
  std::optional<CommandRecorder> recorder_;
  uint64_t staged_ = 0, total_ = 0;
};

Expected<DeviceLinear> upload_linear(Uploader& up, const Linear& l) {
  DeviceLinear d;
  d.out = l.w.rows();
  d.in = l.w.cols();
  LB_TRY_ASSIGN(d.w, up.matrix(l.w));
  if (l.has_bias()) {
    LB_TRY_ASSIGN(d.b, up.vector(l.b));
  }
  return d;
}

Expected<DeviceBlock> block_to(Uploader& up, const ModelConfig& c, const DecoderBlock& b) {
  DeviceBlock db;
  LB_TRY_ASSIGN(db.attn_norm, up.vector(b.attn_norm));
  LB_TRY_ASSIGN(db.ffn_norm, up.vector(b.ffn_norm));
  if (c.norm == NormKind::Layer) {
    LB_TRY_ASSIGN(db.attn_norm_b, up.vector(b.attn_norm_b));
    LB_TRY_ASSIGN(db.ffn_norm_b, up.vector(b.ffn_norm_b));
  }
  if (c.qk_norm) {
    LB_TRY_ASSIGN(db.q_norm, up.vector(b.q_norm));
    LB_TRY_ASSIGN(db.k_norm, up.vector(b.k_norm));
  }
  LB_TRY_ASSIGN(db.q, upload_linear(up, b.q));
  LB_TRY_ASSIGN(db.k, upload_linear(up, b.k));
  LB_TRY_ASSIGN(db.v, upload_linear(up, b.v));
  LB_TRY_ASSIGN(db.o, upload_linear(up, b.o));
  db.gated = b.gate.w.size() > 0;
  if (db.gated) {
    LB_TRY_ASSIGN(db.gate, upload_linear(up, b.gate));
  }
  LB_TRY_ASSIGN(db.up, upload_linear(up, b.up));
  LB_TRY_ASSIGN(db.down, upload_linear(up, b.down));
  return db;
}

}  // namespace

Expected<DeviceWeights> upload_weights(Device& device, const ModelWeights& m, bool with_blocks) {
  const ModelConfig& c = m.config;
  Uploader up(device);
  DeviceWeights d;
  LB_TRY_ASSIGN(d.tok_embd, up.matrix(m.tok_embd));
  if (c.learned_positions) {
    LB_TRY_ASSIGN(d.pos_embd, up.matrix(m.pos_embd));
  }
  LB_TRY_ASSIGN(d.final_norm, up.vector(m.final_norm));
  if (c.norm == NormKind::Layer) {
    LB_TRY_ASSIGN(d.final_norm_b, up.vector(m.final_norm_b));
  }
  if (m.lm_head.size()) {
    LB_TRY_ASSIGN(d.lm_head, up.matrix(m.lm_head));
  }
  for (const DecoderBlock& b : m.blocks) {
    if (!with_blocks) break;
    LB_TRY_ASSIGN(DeviceBlock db, block_to(up, c, b));
    d.blocks.push_back(std::move(db));
  }
  LB_TRY_VOID(up.flush());
  d.bytes = up.total();
  return d;
}

Expected<DeviceBlock> upload_block(Device& device, const ModelConfig& c, const DecoderBlock& b) {
  Uploader up(device);
  LB_TRY_ASSIGN(DeviceBlock db, block_to(up, c, b));
  LB_TRY_VOID(up.flush());
  return db;
}

Expected<Buffer> upload_matrix(Device& device, const MatrixRM& m) {
  Uploader up(device);
  LB_TRY_ASSIGN(Buffer b, up.matrix(m));
  LB_TRY_VOID(up.flush());
  return b;
}

}  // namespace lowbit::gpu
