#include "gpu/ops/ggml_quantize_op.h"

#include <optional>
#include <string>

#include "gpu/ops/op_support.h"

namespace lowbit::gpu {
namespace {

// Mirrors `Params` in gpu/shaders/ggml_quantize_legacy.comp and ggml_quantize_k.comp.
struct GgmlQuantizePush {
  uint32_t blocks;
};
static_assert(sizeof(GgmlQuantizePush) == 4,
              "GgmlQuantizePush must match the push-constant block of ggml_quantize_legacy.comp and ggml_quantize_k.comp");

// Mirrors `Params` of ggml_quantize_legacy.comp's WEIGHTED variants.
struct GgmlWeightedPush {
  uint32_t blocks, blocks_per_row;
};
static_assert(sizeof(GgmlWeightedPush) == 8, "GgmlWeightedPush must match the push-constant block of ggml_quantize_legacy.comp (WEIGHTED)");

// Mirrors `Params` of ggml_quantize_k.comp's K_WEIGHTED variants.
struct GgmlKWeightedPush {
  uint32_t blocks, cols;
};
static_assert(sizeof(GgmlKWeightedPush) == 8, "GgmlKWeightedPush must match the push-constant block of ggml_quantize_k.comp (K_WEIGHTED)");

// Mirrors `Params` in gpu/shaders/ggml_row_sigma2.comp.
struct GgmlSigmaPush {
  uint32_t rows, n;
};
static_assert(sizeof(GgmlSigmaPush) == 8, "GgmlSigmaPush must match the push-constant block of ggml_row_sigma2.comp");

constexpr const char* kOp = "ggml_quantize";

std::optional<ShaderId> weighted_shader_for(DType t) {
  switch (t) {
    case DType::Q4_0: return ShaderId::ggml_quantize_weighted_q4_0;
    case DType::Q4_1: return ShaderId::ggml_quantize_weighted_q4_1;
    case DType::Q5_0: return ShaderId::ggml_quantize_weighted_q5_0;
    case DType::Q5_1: return ShaderId::ggml_quantize_weighted_q5_1;
    case DType::Q8_0: return ShaderId::ggml_quantize_weighted_q8_0;
    case DType::Q2_K: return ShaderId::ggml_quantize_weighted_q2_k;
    case DType::Q3_K: return ShaderId::ggml_quantize_weighted_q3_k;
    case DType::Q4_K: return ShaderId::ggml_quantize_weighted_q4_k;
    case DType::Q5_K: return ShaderId::ggml_quantize_weighted_q5_k;
    case DType::Q6_K: return ShaderId::ggml_quantize_weighted_q6_k;
    default: return std::nullopt;
  }
}

std::optional<ShaderId> shader_for(DType t) {
  switch (t) {
    case DType::Q4_0: return ShaderId::ggml_quantize_q4_0;
    case DType::Q4_1: return ShaderId::ggml_quantize_q4_1;
    case DType::Q5_0: return ShaderId::ggml_quantize_q5_0;
    case DType::Q5_1: return ShaderId::ggml_quantize_q5_1;
    case DType::Q8_0: return ShaderId::ggml_quantize_q8_0;
    case DType::Q2_K: return ShaderId::ggml_quantize_q2_k;
    case DType::Q3_K: return ShaderId::ggml_quantize_q3_k;
    case DType::Q4_K: return ShaderId::ggml_quantize_q4_k;
    case DType::Q5_K: return ShaderId::ggml_quantize_q5_k;
    case DType::Q6_K: return ShaderId::ggml_quantize_q6_k;
    default: return std::nullopt;
  }
}

uint64_t padded(uint64_t bytes) {
  return (bytes + 3) / 4 * 4;
}

}  // namespace

bool ggml_quantize_on_device(DType type) {
  return shader_for(type).has_value();
}

Expected<void> record_ggml_quantize(CommandRecorder& recorder, DType type, uint64_t blocks, const Buffer& w, const Buffer& out) {
  const auto shader = shader_for(type);
  if (!shader)
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": " + dtype_name(type) + " is not quantized on the device");
  const uint64_t n = blocks * static_cast<uint64_t>(traits(type).block_size);
  LB_TRY_VOID(check_op_size(kOp, "weights", n));
  const uint64_t out_bytes = padded(dtype_bytes(type, n));
  LB_TRY_VOID(check_op_buffer(kOp, "w", w, n * sizeof(float)));
  LB_TRY_VOID(check_op_buffer(kOp, "out", out, out_bytes));
  LB_TRY_ASSIGN(const Pipeline* pipeline, op_pipeline(recorder, *shader, 2, sizeof(GgmlQuantizePush)));
  LB_TRY_VOID(recorder.bind(*pipeline, {BufferRange(w, 0, n * sizeof(float)), BufferRange(out, 0, out_bytes)}));
  recorder.push(GgmlQuantizePush{static_cast<uint32_t>(blocks)});
  return dispatch_elements(recorder, *pipeline, (blocks + 1) / 2);  // one invocation per pair of blocks
}

Expected<std::vector<uint8_t>> ggml_quantize(Device& device, DType type, std::span<const float> w) {
  if (!ggml_quantize_on_device(type))
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": " + dtype_name(type) + " is not quantized on the device");
  const uint64_t block = static_cast<uint64_t>(traits(type).block_size);
  if (w.empty() || w.size() % block != 0)
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": " + std::to_string(w.size()) +
                                                      " weights are not whole blocks of " + std::to_string(block));
  const uint64_t blocks = w.size() / block, bytes = dtype_bytes(type, w.size());
  LB_TRY_ASSIGN(Buffer wb, op_buffer(device, w.size_bytes()));
  LB_TRY_ASSIGN(Buffer ob, op_buffer(device, padded(bytes)));
  std::vector<uint8_t> out(padded(bytes));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(wb, std::as_bytes(w)));
  rec.barrier();
  LB_TRY_VOID(record_ggml_quantize(rec, type, blocks, wb, ob));
  rec.barrier();
  LB_TRY_VOID(rec.download(ob, std::as_writable_bytes(std::span<uint8_t>(out))));
  LB_TRY_VOID(rec.submit_and_wait());
  out.resize(bytes);
  return out;
}

bool ggml_quantize_weighted_on_device(DType type) {
  return weighted_shader_for(type).has_value();
}

Expected<std::vector<uint8_t>> ggml_quantize_weighted(Device& device, DType type, std::span<const float> w, int64_t rows,
                                                      int64_t cols, std::span<const float> qw) {
  const auto shader = weighted_shader_for(type);
  if (!shader)
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": the weighted " + dtype_name(type) + " is not quantized on the device");
  const int64_t block = traits(type).block_size;
  if (rows <= 0 || cols <= 0 || cols % block != 0 || w.size() != static_cast<size_t>(rows * cols) ||
      qw.size() != static_cast<size_t>(cols))
    return make_error(ErrorCode::InvalidArgument, std::string(kOp) + ": " + std::to_string(w.size()) + " weights and " +
                                                      std::to_string(qw.size()) + " importances are not " + std::to_string(rows) + " × " +
                                                      std::to_string(cols) + " in whole blocks of " + std::to_string(block) +
                                                      " and one per column");
  LB_TRY_VOID(check_op_size(kOp, "weights", w.size()));
  const bool k_quant = block == 256;  // the K-quants: σ² per super-block, in the shader
  if (!k_quant)
    LB_TRY_VOID(check_loop_budget(device, kOp, static_cast<uint64_t>(cols), "a row's σ² over " + std::to_string(cols) + " columns"));
  const uint64_t blocks = w.size() / static_cast<uint64_t>(block), bytes = dtype_bytes(type, w.size());
  LB_TRY_ASSIGN(Buffer wb, op_buffer(device, w.size_bytes()));
  LB_TRY_ASSIGN(Buffer qb, op_buffer(device, qw.size_bytes()));
  LB_TRY_ASSIGN(Buffer sb, op_buffer(device, k_quant ? 0 : static_cast<uint64_t>(rows) * 4));
  LB_TRY_ASSIGN(Buffer ob, op_buffer(device, padded(bytes)));
  std::vector<uint8_t> out(padded(bytes));
  LB_TRY_ASSIGN(CommandRecorder rec, CommandRecorder::begin(device));
  LB_TRY_VOID(rec.upload(wb, std::as_bytes(w)));
  LB_TRY_VOID(rec.upload(qb, std::as_bytes(qw)));
  rec.barrier();
  const BufferRange wr(wb, 0, w.size_bytes()), orr(ob, 0, padded(bytes)), qr(qb, 0, qw.size_bytes());
  if (k_quant) {
    LB_TRY_ASSIGN(const Pipeline* pipeline, op_pipeline(rec, *shader, 3, sizeof(GgmlKWeightedPush)));
    LB_TRY_VOID(rec.bind(*pipeline, {wr, orr, qr}));
    rec.push(GgmlKWeightedPush{static_cast<uint32_t>(blocks), static_cast<uint32_t>(cols)});
    LB_TRY_VOID(dispatch_elements(rec, *pipeline, (blocks + 1) / 2));  // one invocation per pair of super-blocks
  } else {
    LB_TRY_ASSIGN(const Pipeline* sigma, op_pipeline(rec, ShaderId::ggml_row_sigma2, 2, sizeof(GgmlSigmaPush)));
    LB_TRY_VOID(rec.bind(*sigma, {wr, BufferRange(sb, 0, sb.size())}));
    rec.push(GgmlSigmaPush{static_cast<uint32_t>(rows), static_cast<uint32_t>(cols)});
    LB_TRY_VOID(dispatch_elements(rec, *sigma, static_cast<uint64_t>(rows)));
    rec.barrier();
    LB_TRY_ASSIGN(const Pipeline* pipeline, op_pipeline(rec, *shader, 4, sizeof(GgmlWeightedPush)));
    LB_TRY_VOID(rec.bind(*pipeline, {wr, orr, BufferRange(sb, 0, sb.size()), qr}));
    rec.push(GgmlWeightedPush{static_cast<uint32_t>(blocks), static_cast<uint32_t>(cols / 32)});
    LB_TRY_VOID(dispatch_elements(rec, *pipeline, (blocks + 1) / 2));  // one invocation per pair of blocks
  }
  rec.barrier();
  LB_TRY_VOID(rec.download(ob, std::as_writable_bytes(std::span<uint8_t>(out))));
  LB_TRY_VOID(rec.submit_and_wait());
  out.resize(bytes);
  return out;
}

}  // namespace lowbit::gpu
