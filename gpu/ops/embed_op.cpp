#include "gpu/ops/embed_op.h"

#include <string>

#include "gpu/ops/op_support.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/embed.comp (both variants).
struct EmbedPush {
  uint32_t rows;
  uint32_t hidden;
  uint32_t T;
};
static_assert(sizeof(EmbedPush) == 12, "EmbedPush must match the push-constant block of embed.comp");

constexpr const char* kOp = "embed";

}  // namespace

Expected<void> EmbedShape::validate() const {
  if (rows <= 0 || hidden <= 0 || vocab <= 0 || T <= 0 || positions < 0 || (positions > 0 && T > positions))
    return make_error(ErrorCode::InvalidArgument,
                      "embed: rows " + std::to_string(rows) + ", hidden " + std::to_string(hidden) + ", vocab " +
                          std::to_string(vocab) + ", T " + std::to_string(T) + ", positions " +
                          std::to_string(positions) + ": sizes must be positive and T at most the positions");
  LB_TRY_VOID(check_op_size(kOp, "rows·hidden", static_cast<uint64_t>(rows * hidden)));
  return check_op_size(kOp, "vocab·hidden", static_cast<uint64_t>(vocab * hidden));
}

Expected<void> check_token_ids(std::span<const int32_t> ids, int64_t vocab) {
  for (const int32_t id : ids)
    if (id < 0 || id >= vocab)
      return make_error(ErrorCode::InvalidArgument, "forward: token id " + std::to_string(id) +
                                                        " is outside the vocabulary of " + std::to_string(vocab));
  return {};
}

Expected<void> record_embed(CommandRecorder& recorder, const EmbedShape& shape, const Buffer& ids, const Buffer& tok,
                            const Buffer* pos, const Buffer& x) {
  LB_TRY_VOID(shape.validate());
  const uint64_t id_bytes = static_cast<uint64_t>(shape.rows) * sizeof(int32_t);
  const uint64_t tok_bytes = static_cast<uint64_t>(shape.vocab * shape.hidden) * sizeof(float);
  const uint64_t pos_bytes = static_cast<uint64_t>(shape.positions * shape.hidden) * sizeof(float);
  const uint64_t x_bytes = static_cast<uint64_t>(shape.rows * shape.hidden) * sizeof(float);
  if ((pos != nullptr) != (shape.positions > 0))
    return make_error(ErrorCode::InvalidArgument, "embed: a position buffer goes with positions > 0");
  LB_TRY_VOID(check_op_buffer(kOp, "ids", ids, id_bytes));
  LB_TRY_VOID(check_op_buffer(kOp, "tok", tok, tok_bytes));
  LB_TRY_VOID(check_op_buffer(kOp, "x", x, x_bytes));
  if (pos) LB_TRY_VOID(check_op_buffer(kOp, "pos", *pos, pos_bytes));
  LB_TRY_ASSIGN(
      const Pipeline* pipeline,
      op_pipeline(recorder, pos ? ShaderId::embed_positions : ShaderId::embed_tokens, pos ? 4 : 3, sizeof(EmbedPush)));
  if (pos)
    LB_TRY_VOID(recorder.bind(*pipeline, {BufferRange(ids, 0, id_bytes), BufferRange(tok, 0, tok_bytes),
                                          BufferRange(x, 0, x_bytes), BufferRange(*pos, 0, pos_bytes)}));
  else
    LB_TRY_VOID(recorder.bind(
        *pipeline, {BufferRange(ids, 0, id_bytes), BufferRange(tok, 0, tok_bytes), BufferRange(x, 0, x_bytes)}));
  recorder.push(EmbedPush{static_cast<uint32_t>(shape.rows), static_cast<uint32_t>(shape.hidden),
                          static_cast<uint32_t>(shape.T)});
  return dispatch_elements(recorder, *pipeline, static_cast<uint64_t>(shape.rows * shape.hidden));
}

Expected<void> embed(Device& device, const EmbedShape& shape, std::span<const int32_t> ids, std::span<const float> tok,
                     std::span<const float> pos, std::span<float> x) {
  LB_TRY_VOID(shape.validate());
  if (ids.size() != static_cast<size_t>(shape.rows) || tok.size() != static_cast<size_t>(shape.vocab * shape.hidden) ||
      pos.size() != static_cast<size_t>(shape.positions * shape.hidden) ||
      x.size() != static_cast<size_t>(shape.rows * shape.hidden))
    return make_error(ErrorCode::InvalidArgument, "embed: span sizes do not fit the shape");
  LB_TRY_VOID(check_token_ids(ids, shape.vocab));
  LB_TRY_ASSIGN(Buffer ib, op_buffer(device, ids.size_bytes()));
  LB_TRY_ASSIGN(Buffer tb, op_buffer(device, tok.size_bytes()));
  LB_TRY_ASSIGN(Buffer pb, op_buffer(device, pos.size_bytes()));
  LB_TRY_ASSIGN(Buffer xb, op_buffer(device, x.size_bytes()));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(ib, std::as_bytes(ids)));
  LB_TRY_VOID(rec.upload(tb, std::as_bytes(tok)));
  LB_TRY_VOID(rec.upload(pb, std::as_bytes(pos)));
  rec.barrier();
  LB_TRY_VOID(record_embed(rec, shape, ib, tb, shape.positions > 0 ? &pb : nullptr, xb));
  rec.barrier();
  LB_TRY_VOID(rec.download(xb, std::as_writable_bytes(x)));
  return rec.submit_and_wait();
}

}  // namespace lowbit::gpu
