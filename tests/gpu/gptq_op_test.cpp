// GPTQ's sweep on every Vulkan device against core's gptq_quantize (the oracle): the same U, the
// same block structure, the same float operations in the same order — codes, grids and quantized
// weights bit for bit the CPU's; the loss (summed in float on the device, in double on the CPU)
// within 1e-3 relative.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "core/quant/gptq.h"
#include "core/tensor/eigen_types.h"
#include "gpu/ops/gptq_op.h"
#include "gpu_test_support.h"
#include "gptq_test_layer.h"

namespace lowbit::gpu {
namespace {

void expect_matches_cpu(Device& device, const Layer& l, const std::string& format, bool fp16_scales) {
  SCOPED_TRACE(format + (fp16_scales ? " fp16 scales" : ""));
  GptqOptions o;
  o.format = *Format::parse(format);
  o.fp16_scales = fp16_scales;
  auto cpu = gptq_quantize(l.w, l.rows, l.cols, l.h, o);
  ASSERT_TRUE(cpu) << cpu.error().message;
  auto f = gptq_inverse_factor(l.h, l.cols, o.damp);
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_TRUE(f->dead.empty());
  auto gpu = gptq_int(device, {l.rows, l.cols, o.format, fp16_scales}, l.w, f->u);
  ASSERT_TRUE(gpu) << gpu.error().message;
  // The same operations in the same order (core's sweep accumulates the block update as
  // gptq_update.comp does, neither fuses a multiply-add): the same bits, not merely close ones.
  int64_t same = 0;
  for (size_t i = 0; i < cpu->tensor.codes.size(); ++i) same += cpu->tensor.codes[i] == gpu->tensor.codes[i];
  EXPECT_EQ(same, static_cast<int64_t>(cpu->tensor.codes.size())) << "codes that differ from the CPU's";
  ASSERT_EQ(cpu->tensor.grids.size(), gpu->tensor.grids.size());
  int64_t grids_same = 0;
  for (size_t i = 0; i < cpu->tensor.grids.size(); ++i)
    grids_same += cpu->tensor.grids[i].scale == gpu->tensor.grids[i].scale && cpu->tensor.grids[i].zero == gpu->tensor.grids[i].zero;
  EXPECT_EQ(grids_same, static_cast<int64_t>(cpu->tensor.grids.size()));
  ASSERT_EQ(cpu->dequantized.size(), gpu->dequantized.size());
  EXPECT_EQ(0, std::memcmp(cpu->dequantized.data(), gpu->dequantized.data(), cpu->dequantized.size() * sizeof(float)))
      << "the quantized weights differ from the CPU's in their bits";
  EXPECT_NEAR(gpu->loss, cpu->loss, 1e-3 * cpu->loss);
}

TEST(GptqOp, SweepMatchesTheCpuOnEveryDevice) {
  const Layer l = make_layer(96, 384, 7);
  FOR_EACH_DEVICE({
    expect_matches_cpu(device, l, "int4g128a", false);
    expect_matches_cpu(device, l, "int3g64s", false);
    expect_matches_cpu(device, l, "int2g32a", true);
  });
}

TEST(GptqOp, ALastBlockShorterThan128) {
  const Layer l = make_layer(40, 320, 11);  // blocks of 128, 128, 64
  FOR_EACH_DEVICE({ expect_matches_cpu(device, l, "int4g64a", true); });
}

// ggml's block types: grids and codes at each block's fix from ggml's reference quantizer (a
// K-quant super-block's fix in the first of its two column blocks), nearest codes after — the CPU's
// packed blocks and quantized weights, bit for bit, through the backend as quantize_model calls it
// (FactorOn::Cpu: the factor on the CPU). Every type's importance-weighted grids (--weighted-grids)
// too.
TEST(GptqOp, GgmlTypesAreTheCpusBytes) {
  const Layer legacy = make_layer(72, 320, 13);  // blocks of 128, 128, 64 columns
  const Layer k = make_layer(40, 512, 17);       // two super-blocks a row: four column blocks
  FOR_EACH_DEVICE({
    const GptqBackend backend = vulkan_gptq(device, FactorOn::Cpu);
    for (const char* spec : {"q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q4_0 weighted",
                             "q4_1 weighted", "q5_0 weighted", "q5_1 weighted", "q8_0 weighted", "q2_k weighted",
                             "q3_k weighted", "q4_k weighted", "q5_k weighted", "q6_k weighted"}) {
      SCOPED_TRACE(spec);
      const std::string name(spec);
      GptqOptions o;
      o.format = *Format::parse(name.substr(0, 4));
      o.weighted_grids = name.size() > 4;
      const Layer& l = traits(o.format.dtype).block_size == 256 ? k : legacy;
      auto cpu = gptq_quantize(l.w, l.rows, l.cols, l.h, o);
      ASSERT_TRUE(cpu) << cpu.error().message;
      auto gpu = backend(l.w, l.rows, l.cols, l.h, o, "layer");
      ASSERT_TRUE(gpu) << gpu.error().message;
      ASSERT_EQ(gpu->ggml.size(), cpu->ggml.size());
      EXPECT_TRUE(gpu->ggml == cpu->ggml) << "the packed blocks differ";
      ASSERT_EQ(gpu->dequantized.size(), cpu->dequantized.size());
      EXPECT_EQ(0, std::memcmp(gpu->dequantized.data(), cpu->dequantized.data(), cpu->dequantized.size() * sizeof(float)));
      EXPECT_NEAR(gpu->loss, cpu->loss, 1e-3 * cpu->loss);
    }
  });
}

// Grids fixed up front (act-order, static groups, one grid per row, groups wider than the block):
// the host fixes core's grids and the column order, the device sweeps in that order — with the CPU's
// factor the CPU's codes, grids and weights bit for bit; with the device's nearly all of them. A dead
// column (H[i][i] = 0) rides along.
TEST(GptqOp, ActOrderAndStaticGroupsAreTheCpus) {
  Layer l = make_layer(48, 512, 29);
  for (int64_t j = 0; j < l.cols; ++j) l.h[static_cast<size_t>(77 * l.cols + j)] = l.h[static_cast<size_t>(j * l.cols + 77)] = 0.0f;
  struct Case {
    const char* format;
    bool act_order, static_groups, fp16_scales;
  };
  FOR_EACH_DEVICE({
    for (const FactorOn on : {FactorOn::Cpu, FactorOn::Device}) {
      const GptqBackend backend = vulkan_gptq(device, on);
      for (const Case c : {Case{"int4g128a", true, false, false}, Case{"int3g64s", false, true, true}, Case{"int4g0a", true, false, false},
                           Case{"int4g256a", true, false, true}, Case{"int2g32a", true, false, false}}) {
        SCOPED_TRACE(std::string(c.format) + (c.act_order ? " act-order" : " static groups") + (on == FactorOn::Cpu ? ", CPU factor" : ""));
        GptqOptions o;
        o.format = *Format::parse(c.format);
        o.act_order = c.act_order;
        o.static_groups = c.static_groups;
        o.fp16_scales = c.fp16_scales;
        auto cpu = gptq_quantize(l.w, l.rows, l.cols, l.h, o);
        ASSERT_TRUE(cpu) << cpu.error().message;
        auto gpu = backend(l.w, l.rows, l.cols, l.h, o, "layer");
        ASSERT_TRUE(gpu) << gpu.error().message;
        EXPECT_EQ(gpu->dead_columns, 1);
        ASSERT_EQ(gpu->tensor.codes.size(), cpu->tensor.codes.size());
        int64_t same = 0;
        for (size_t i = 0; i < cpu->tensor.codes.size(); ++i) same += cpu->tensor.codes[i] == gpu->tensor.codes[i];
        ASSERT_EQ(gpu->tensor.grids.size(), cpu->tensor.grids.size());
        bool grids_same = true;
        for (size_t i = 0; i < cpu->tensor.grids.size(); ++i)
          grids_same = grids_same && cpu->tensor.grids[i].scale == gpu->tensor.grids[i].scale && cpu->tensor.grids[i].zero == gpu->tensor.grids[i].zero;
        EXPECT_TRUE(grids_same) << "the grids fixed up front are core's";
        if (on == FactorOn::Cpu) {
          EXPECT_EQ(same, static_cast<int64_t>(cpu->tensor.codes.size())) << "codes that differ from the CPU's";
          EXPECT_EQ(0, std::memcmp(cpu->dequantized.data(), gpu->dequantized.data(), cpu->dequantized.size() * sizeof(float)));
        } else {
          EXPECT_GE(static_cast<double>(same) / static_cast<double>(cpu->tensor.codes.size()), 0.999);
        }
        EXPECT_NEAR(gpu->loss, cpu->loss, 1e-3 * cpu->loss);
      }
    }
  });
}

// ggml's block types with grids fixed up front (act-order, static groups): the host fixes the blocks
// from the original weights as core's GgmlTarget does (gptq_ggml_fixed_blocks), the device sweeps in
// the column order with their grids and codes — with the CPU's factor the CPU's packed blocks and
// weights bit for bit, with the device's nearly all of the weights. A dead column rides along.
TEST(GptqOp, GgmlActOrderAndStaticGroupsAreTheCpus) {
  Layer legacy = make_layer(40, 320, 31), k = make_layer(24, 512, 37);
  for (Layer* l : {&legacy, &k})
    for (int64_t j = 0; j < l->cols; ++j)
      l->h[static_cast<size_t>(77 * l->cols + j)] = l->h[static_cast<size_t>(j * l->cols + 77)] = 0.0f;
  struct Case {
    const char* format;
    bool act_order, weighted;
  };
  FOR_EACH_DEVICE({
    for (const FactorOn on : {FactorOn::Cpu, FactorOn::Device}) {
      const GptqBackend backend = vulkan_gptq(device, on);
      for (const Case c : {Case{"q4_0", true, false}, Case{"q5_1", false, false}, Case{"q8_0", true, true}, Case{"q4_1", true, true},
                           Case{"q2_k", true, false}, Case{"q3_k", false, true}, Case{"q4_k", true, false}, Case{"q5_k", true, true},
                           Case{"q6_k", true, false}}) {
        SCOPED_TRACE(std::string(c.format) + (c.act_order ? " act-order" : " static groups") + (c.weighted ? " weighted" : "") +
                     (on == FactorOn::Cpu ? ", CPU factor" : ""));
        GptqOptions o;
        o.format = *Format::parse(c.format);
        o.act_order = c.act_order;
        o.static_groups = !c.act_order;
        o.weighted_grids = c.weighted;
        const Layer& l = traits(o.format.dtype).block_size == 256 ? k : legacy;
        auto cpu = gptq_quantize(l.w, l.rows, l.cols, l.h, o);
        ASSERT_TRUE(cpu) << cpu.error().message;
        auto gpu = backend(l.w, l.rows, l.cols, l.h, o, "layer");
        ASSERT_TRUE(gpu) << gpu.error().message;
        EXPECT_EQ(gpu->dead_columns, 1);
        ASSERT_EQ(gpu->ggml.size(), cpu->ggml.size());
        ASSERT_EQ(gpu->dequantized.size(), cpu->dequantized.size());
        if (on == FactorOn::Cpu) {
          EXPECT_TRUE(gpu->ggml == cpu->ggml) << "the packed blocks differ";
          EXPECT_EQ(0, std::memcmp(gpu->dequantized.data(), cpu->dequantized.data(), cpu->dequantized.size() * sizeof(float)));
        } else {
          int64_t same = 0;
          for (size_t i = 0; i < cpu->dequantized.size(); ++i) same += cpu->dequantized[i] == gpu->dequantized[i];
          EXPECT_GE(static_cast<double>(same) / static_cast<double>(cpu->dequantized.size()), 0.999);
        }
        EXPECT_NEAR(gpu->loss, cpu->loss, 1e-3 * cpu->loss);
      }
    }
  });
}

TEST(GptqOp, RefusesWhatTheShaderCannotDo) {
  FOR_EACH_DEVICE({
    const std::vector<float> w(64 * 256, 0.1f), u(256 * 256, 0.0f);
    auto per_row = gptq_int(device, {64, 256, Format::integer(4, 0, false), false}, w, u);  // a grid per row, not fixed up front
    ASSERT_FALSE(per_row);
    EXPECT_EQ(per_row.error().code, ErrorCode::Unsupported);
    auto unfixed = gptq_int(device, {64, 256, Format::integer(4, 0, false), false, true}, w, u);  // static grids not given
    ASSERT_FALSE(unfixed);
    EXPECT_EQ(unfixed.error().code, ErrorCode::InvalidArgument);
    const std::vector<uint32_t> perm(256, 0);
    const std::vector<uint8_t> short_blocks(10);
    const GptqStaticGrids too_few{{}, perm, short_blocks};
    auto blocks = gptq_int(device, {64, 256, *Format::parse("q4_0"), false, true}, w, u, &too_few);  // not 64 rows of blocks
    ASSERT_FALSE(blocks);
    EXPECT_EQ(blocks.error().code, ErrorCode::InvalidArgument);
    auto f16 = gptq_int(device, {64, 256, *Format::parse("f16"), false}, w, u);
    ASSERT_FALSE(f16);
    EXPECT_EQ(f16.error().code, ErrorCode::InvalidArgument);
    auto wrong = gptq_int(device, {64, 256, *Format::parse("int4g128a"), false}, std::span<const float>(w).first(10), u);
    EXPECT_FALSE(wrong);
  });
}

}  // namespace
}  // namespace lowbit::gpu
