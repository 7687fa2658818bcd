#include "gpu/ops/attention_op.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "gpu/ops/op_support.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/attention.comp.
struct AttentionPush {
  uint32_t T;
  uint32_t heads;
  uint32_t kv_heads;
  uint32_t head_dim;
  uint32_t window;
  float scale;
};
static_assert(sizeof(AttentionPush) == 24, "AttentionPush must match the push-constant block of attention.comp");

constexpr const char* kOp = "attention";

std::string shape_text(const AttentionShape& s) {
  return "B=" + std::to_string(s.windows) + ", T=" + std::to_string(s.T) + ", heads=" + std::to_string(s.heads) +
         ", kv_heads=" + std::to_string(s.kv_heads) + ", head_dim=" + std::to_string(s.head_dim) +
         ", window=" + std::to_string(s.sliding_window);
}

}  // namespace

Expected<void> AttentionShape::validate() const {
  if (windows <= 0 || T <= 0 || heads <= 0 || kv_heads <= 0 || head_dim <= 0 || sliding_window < 0 ||
      heads % kv_heads != 0)
    return make_error(ErrorCode::InvalidArgument,
                      "attention: " + shape_text(*this) + ": sizes must be positive and heads a multiple of kv_heads");
  if (head_dim > kAttentionMaxHeadDim)
    return make_error(ErrorCode::Unsupported, "attention: head_dim " + std::to_string(head_dim) +
                                                  " is larger than the shader's " +
                                                  std::to_string(kAttentionMaxHeadDim));
  return check_op_size(kOp, "B·T·heads·head_dim", q_floats());
}

Expected<void> record_attention(CommandRecorder& recorder, const AttentionShape& shape, const Buffer& q,
                                const Buffer& k, const Buffer& v, const Buffer& out) {
  LB_TRY_VOID(shape.validate());
  const uint64_t q_bytes = shape.q_floats() * sizeof(float), kv_bytes = shape.kv_floats() * sizeof(float);
  LB_TRY_VOID(check_op_buffer(kOp, "q", q, q_bytes));
  LB_TRY_VOID(check_op_buffer(kOp, "k", k, kv_bytes));
  LB_TRY_VOID(check_op_buffer(kOp, "v", v, kv_bytes));
  LB_TRY_VOID(check_op_buffer(kOp, "out", out, q_bytes));
  LB_CHECK(out.handle() != q.handle() && out.handle() != k.handle() && out.handle() != v.handle(),
           "attention: out must not be an input");
  // The variant with the smallest register arrays that hold a head.
  const ShaderId shader = shape.head_dim <= 64    ? ShaderId::attention_64
                          : shape.head_dim <= 128 ? ShaderId::attention_128
                                                  : ShaderId::attention_256;
  // A query walks its keys 16 at a time (attention.comp's CHUNK), each chunk once over head_dim.
  LB_TRY_VOID(check_loop_budget(recorder.device(), kOp,
                                static_cast<uint64_t>((shape.T + 15) / 16) * static_cast<uint64_t>(shape.head_dim),
                                "a window of " + std::to_string(shape.T) + " tokens with head_dim " +
                                    std::to_string(shape.head_dim)));
  LB_TRY_ASSIGN(const Pipeline* pipeline, op_pipeline(recorder, shader, 4, sizeof(AttentionPush)));
  const uint64_t pipeline_local = pipeline->local_size()[0];
  const auto& limits = recorder.device().limits();
  const uint64_t query_groups = (static_cast<uint64_t>(shape.T) + pipeline_local - 1) / pipeline_local;
  if (query_groups > limits.maxComputeWorkGroupCount[0] || uint64_t(shape.heads) > limits.maxComputeWorkGroupCount[1] ||
      uint64_t(shape.windows) > limits.maxComputeWorkGroupCount[2])
    return make_error(ErrorCode::Unsupported,
                      "attention: " + shape_text(shape) + " needs more workgroups than the device's grid");
  LB_TRY_VOID(recorder.bind(*pipeline, {BufferRange(q, 0, q_bytes), BufferRange(k, 0, kv_bytes),
                                        BufferRange(v, 0, kv_bytes), BufferRange(out, 0, q_bytes)}));
  recorder.push(AttentionPush{static_cast<uint32_t>(shape.T), static_cast<uint32_t>(shape.heads),
                              static_cast<uint32_t>(shape.kv_heads), static_cast<uint32_t>(shape.head_dim),
                              static_cast<uint32_t>(std::min<int64_t>(shape.sliding_window, shape.T)),
                              1.0f / std::sqrt(static_cast<float>(shape.head_dim))});
  return recorder.dispatch(static_cast<uint32_t>(query_groups), static_cast<uint32_t>(shape.heads),
                           static_cast<uint32_t>(shape.windows));
}

Expected<void> attention(Device& device, const AttentionShape& shape, std::span<const float> q,
                         std::span<const float> k, std::span<const float> v, std::span<float> out) {
  LB_TRY_VOID(shape.validate());
  if (q.size() != shape.q_floats() || out.size() != shape.q_floats() || k.size() != shape.kv_floats() ||
      v.size() != shape.kv_floats())
    return make_error(ErrorCode::InvalidArgument, "attention: span sizes do not fit " + shape_text(shape));
  LB_TRY_ASSIGN(Buffer qb, op_buffer(device, q.size_bytes()));
  LB_TRY_ASSIGN(Buffer kb, op_buffer(device, k.size_bytes()));
  LB_TRY_ASSIGN(Buffer vb, op_buffer(device, v.size_bytes()));
  LB_TRY_ASSIGN(Buffer ob, op_buffer(device, out.size_bytes()));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(qb, std::as_bytes(q)));
  LB_TRY_VOID(rec.upload(kb, std::as_bytes(k)));
  LB_TRY_VOID(rec.upload(vb, std::as_bytes(v)));
  rec.barrier();
  LB_TRY_VOID(record_attention(rec, shape, qb, kb, vb, ob));
  rec.barrier();
  LB_TRY_VOID(rec.download(ob, std::as_writable_bytes(out)));
  return rec.submit_and_wait();
}

}  // namespace lowbit::gpu
