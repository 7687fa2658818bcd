#include "gpu/model/block_recorder.h"

#include <algorithm>

#include "core/quant/format.h"
#include "gpu/ops/activation_op.h"
#include "gpu/ops/add_op.h"
#include "gpu/ops/attention_op.h"
#include "gpu/ops/embed_op.h"
#include "gpu/ops/matmul_op.h"
#include "gpu/ops/norm_op.h"
#include "gpu/ops/rope_op.h"

namespace lowbit::gpu {
namespace {

const Format kF32 = Format::float_type(DType::F32);

Expected<void> record_linear(CommandRecorder& rec, const DeviceLinear& l, int64_t rows, const Buffer& x, const Buffer& y) {
  LB_TRY_VOID(record_matmul(rec, MatmulShape{rows, l.out, l.in}, kF32, x, l.w, y));
  if (!l.has_bias()) return {};
  rec.barrier();
  return record_add_bias(rec, rows, l.out, y, l.b);
}

}  // namespace

Expected<Buffer> device_floats(Device& device, int64_t count) {
  return Buffer::create(device, std::max<uint64_t>(static_cast<uint64_t>(count) * sizeof(float), 4), MemoryUse::Device);
}

Expected<BlockActivations> BlockActivations::create(Device& device, const ModelConfig& c, int64_t rows) {
  BlockActivations a;
  a.rows = rows;
  const int64_t q_width = c.n_heads * c.head_dim, kv_width = c.n_kv_heads * c.head_dim;
  LB_TRY_ASSIGN(a.x, device_floats(device, rows * c.hidden));
  LB_TRY_ASSIGN(a.h, device_floats(device, rows * c.hidden));
  LB_TRY_ASSIGN(a.q, device_floats(device, rows * q_width));
  LB_TRY_ASSIGN(a.k, device_floats(device, rows * kv_width));
  LB_TRY_ASSIGN(a.v, device_floats(device, rows * kv_width));
  LB_TRY_ASSIGN(a.att, device_floats(device, rows * q_width));
  LB_TRY_ASSIGN(a.tmp, device_floats(device, rows * std::max(c.hidden, kv_width)));  // also k before its norm
  LB_TRY_ASSIGN(a.g, device_floats(device, rows * c.ffn));
  LB_TRY_ASSIGN(a.u, device_floats(device, rows * c.ffn));
  return a;
}

uint64_t BlockActivations::bytes() const {
  uint64_t total = 0;
  for (const Buffer* b : {&x, &h, &q, &k, &v, &att, &tmp, &g, &u}) total += b->size();
  return total;
}

Expected<void> record_block(CommandRecorder& rec, const ModelConfig& c, const DeviceBlock& b, const BlockActivations& a,
                            const Buffer& rope_angles, int64_t B, int64_t T, const LinearInputTap& tap) {
  const int64_t N = B * T;
  const float eps = static_cast<float>(c.norm_eps);
  auto tapped = [&](LinearInput which, const Buffer& in, int64_t channels) -> Expected<void> {
    return tap ? tap(which, in, channels) : Expected<void>{};
  };

  // Attention.
  LB_TRY_VOID(record_norm(rec, c.norm, {N, c.hidden}, eps, a.x, b.attn_norm, &b.attn_norm_b, a.h));
  rec.barrier();
  LB_TRY_VOID(tapped(LinearInput::kQkv, a.h, c.hidden));
  // With q/k norms the projections land in att and tmp first and are normalized into q and k.
  LB_TRY_VOID(record_linear(rec, b.q, N, a.h, c.qk_norm ? a.att : a.q));
  LB_TRY_VOID(record_linear(rec, b.k, N, a.h, c.qk_norm ? a.tmp : a.k));
  LB_TRY_VOID(record_linear(rec, b.v, N, a.h, a.v));
  rec.barrier();
  if (c.qk_norm) {
    LB_TRY_VOID(record_norm(rec, NormKind::Rms, {N * c.n_heads, c.head_dim}, eps, a.att, b.q_norm, nullptr, a.q));
    LB_TRY_VOID(record_norm(rec, NormKind::Rms, {N * c.n_kv_heads, c.head_dim}, eps, a.tmp, b.k_norm, nullptr, a.k));
    rec.barrier();
  }
  if (!c.learned_positions && c.rotary_dim() > 0) {
    LB_TRY_VOID(record_rope(rec, c.rope_style, {N, c.n_heads, c.head_dim, c.rotary_dim(), T}, a.q, rope_angles));
    LB_TRY_VOID(record_rope(rec, c.rope_style, {N, c.n_kv_heads, c.head_dim, c.rotary_dim(), T}, a.k, rope_angles));
    rec.barrier();
  }
  LB_TRY_VOID(record_attention(rec, {B, T, c.n_heads, c.n_kv_heads, c.head_dim, c.sliding_window}, a.q, a.k, a.v, a.att));
  rec.barrier();
  LB_TRY_VOID(tapped(LinearInput::kO, a.att, c.n_heads * c.head_dim));
  LB_TRY_VOID(record_linear(rec, b.o, N, a.att, a.tmp));
  rec.barrier();
  LB_TRY_VOID(record_add(rec, N * c.hidden, a.x, a.tmp));
  rec.barrier();

  // Feed-forward.
  LB_TRY_VOID(record_norm(rec, c.norm, {N, c.hidden}, eps, a.x, b.ffn_norm, &b.ffn_norm_b, a.h));
  rec.barrier();
  LB_TRY_VOID(tapped(LinearInput::kGateUp, a.h, c.hidden));
  if (b.gated) {
    LB_TRY_VOID(record_linear(rec, b.gate, N, a.h, a.g));
    LB_TRY_VOID(record_linear(rec, b.up, N, a.h, a.u));
  } else {
    LB_TRY_VOID(record_linear(rec, b.up, N, a.h, a.g));
  }
  rec.barrier();
  LB_TRY_VOID(record_activation(rec, c.act, N * b.up.out, a.g, b.gated ? &a.u : nullptr));
  rec.barrier();
  LB_TRY_VOID(tapped(LinearInput::kDown, a.g, b.up.out));
  LB_TRY_VOID(record_linear(rec, b.down, N, a.g, a.tmp));
  rec.barrier();
  LB_TRY_VOID(record_add(rec, N * c.hidden, a.x, a.tmp));
  rec.barrier();
  return {};
}

Expected<void> record_embedding(CommandRecorder& rec, const ModelConfig& c, const DeviceWeights& w, const Buffer& ids,
                                const Buffer& x, int64_t B, int64_t T) {
  const EmbedShape embed{B * T, c.hidden, c.vocab, T, c.learned_positions ? c.max_positions : 0};
  LB_TRY_VOID(record_embed(rec, embed, ids, w.tok_embd, c.learned_positions ? &w.pos_embd : nullptr, x));
  rec.barrier();
  return {};
}

Expected<void> record_final_norm(CommandRecorder& rec, const ModelConfig& c, const DeviceWeights& w, const Buffer& x,
                                 const Buffer& h, int64_t rows) {
  LB_TRY_VOID(record_norm(rec, c.norm, {rows, c.hidden}, static_cast<float>(c.norm_eps), x, w.final_norm, &w.final_norm_b, h));
  rec.barrier();
  return {};
}

Expected<void> record_head_rows(CommandRecorder& rec, const ModelConfig& c, const DeviceWeights& w, const Buffer& h,
                                const Buffer& head_in, const Buffer& logits, int64_t r0, int64_t rows) {
  const Buffer* in = &h;
  if (r0 > 0) {
    const uint64_t row_bytes = static_cast<uint64_t>(c.hidden) * sizeof(float);
    rec.copy(h, head_in, static_cast<uint64_t>(rows) * row_bytes, static_cast<uint64_t>(r0) * row_bytes, 0);
    rec.barrier();
    in = &head_in;
  }
  LB_TRY_VOID(record_matmul(rec, MatmulShape{rows, c.vocab, c.hidden}, kF32, *in, w.output(), logits));
  rec.barrier();
  return {};
}

Expected<ScoredWindows> record_scored_windows(CommandRecorder& rec, const ModelConfig& c, std::span<const int32_t> windows,
                                              int64_t S, int64_t T) {
  if (S <= 0 || T < 2 || static_cast<int64_t>(windows.size()) != S * T)
    return make_error(ErrorCode::InvalidArgument, std::to_string(windows.size()) + " tokens are not " + std::to_string(S) +
                                                      " windows of " + std::to_string(T) + " (at least 2)");
  if (c.learned_positions && T > c.max_positions)
    return make_error(ErrorCode::InvalidArgument, "window of " + std::to_string(T) + " tokens exceeds the model's " +
                                                      std::to_string(c.max_positions) + " learned positions");
  LB_TRY_VOID(check_token_ids(windows, c.vocab));
  Device& device = rec.device();
  const int64_t N = S * T;
  ScoredWindows w;
  w.targets_host.assign(static_cast<size_t>(N), -1);
  for (int64_t s = 0; s < S; ++s)
    for (int64_t t = 0; t + 1 < T; ++t) w.targets_host[static_cast<size_t>(s * T + t)] = windows[static_cast<size_t>(s * T + t + 1)];
  w.scored = S * (T - 1);
  LB_TRY_ASSIGN(w.ids, device_floats(device, N));  // int32, the size of a float
  LB_TRY_ASSIGN(w.targets, device_floats(device, N));
  if (!c.learned_positions && c.rotary_dim() > 0) {
    const std::vector<float> table = rope_table(c.rope_theta, c.rotary_dim(), T);
    LB_TRY_ASSIGN(w.rope_angles, device_floats(device, static_cast<int64_t>(table.size())));
    LB_TRY_VOID(rec.upload(w.rope_angles, std::as_bytes(std::span<const float>(table))));
  }
  LB_TRY_VOID(rec.upload(w.ids, std::as_bytes(windows)));
  LB_TRY_VOID(rec.upload(w.targets, std::as_bytes(std::span<const int32_t>(w.targets_host))));
  rec.barrier();
  return w;
}

}  // namespace lowbit::gpu
