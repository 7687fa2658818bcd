#include "gpu/ops/activation_op.h"

#include <string>

#include "gpu/ops/op_support.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/activation.comp (every variant).
struct ActivationPush {
  uint32_t n;
};
static_assert(sizeof(ActivationPush) == 4, "ActivationPush must match the push-constant block of activation.comp");

constexpr const char* kOp = "activation";

ShaderId shader_for(Activation act, bool gated) {
  if (act == Activation::Silu) return gated ? ShaderId::activation_swiglu : ShaderId::activation_silu;
  return gated ? ShaderId::activation_geglu : ShaderId::activation_gelu_tanh;
}

}  // namespace

Expected<void> record_activation(CommandRecorder& recorder, Activation act, int64_t n, const Buffer& g,
                                 const Buffer* up) {
  LB_TRY_VOID(check_op_size(kOp, "n", static_cast<uint64_t>(n > 0 ? n : 0)));
  const uint64_t bytes = static_cast<uint64_t>(n) * sizeof(float);
  LB_TRY_VOID(check_op_buffer(kOp, "g", g, bytes));
  if (up) {
    LB_TRY_VOID(check_op_buffer(kOp, "up", *up, bytes));
    LB_CHECK(up->handle() != g.handle(), "activation: g and up must be different buffers");
  }
  LB_TRY_ASSIGN(const Pipeline* pipeline,
                op_pipeline(recorder, shader_for(act, up != nullptr), up ? 2 : 1, sizeof(ActivationPush)));
  if (up)
    LB_TRY_VOID(recorder.bind(*pipeline, {BufferRange(g, 0, bytes), BufferRange(*up, 0, bytes)}));
  else
    LB_TRY_VOID(recorder.bind(*pipeline, {BufferRange(g, 0, bytes)}));
  recorder.push(ActivationPush{static_cast<uint32_t>(n)});
  return dispatch_elements(recorder, *pipeline, static_cast<uint64_t>(n));
}

Expected<void> activation(Device& device, Activation act, std::span<float> g, std::span<const float> up) {
  if (!up.empty() && up.size() != g.size())
    return make_error(ErrorCode::InvalidArgument, "activation: g holds " + std::to_string(g.size()) +
                                                      " floats and up " + std::to_string(up.size()));
  LB_TRY_ASSIGN(Buffer gb, op_buffer(device, g.size_bytes()));
  LB_TRY_ASSIGN(Buffer ub, op_buffer(device, up.size_bytes()));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(gb, std::as_bytes(std::span<const float>(g))));
  LB_TRY_VOID(rec.upload(ub, std::as_bytes(up)));
  rec.barrier();
  LB_TRY_VOID(record_activation(rec, act, static_cast<int64_t>(g.size()), gb, up.empty() ? nullptr : &ub));
  rec.barrier();
  LB_TRY_VOID(rec.download(gb, std::as_writable_bytes(g)));
  return rec.submit_and_wait();
}

}  // namespace lowbit::gpu
