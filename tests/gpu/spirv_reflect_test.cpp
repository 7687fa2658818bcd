// The embedded shaders and what the SPIR-V reader finds in them: every variant is present and valid,
// matmul's local size, bindings and push-constant size match what its op declares. Needs no device.
#include "gpu/pipeline/spirv_reflect.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gpu/shaders/shader_id.h"

namespace lowbit::gpu {
namespace {

TEST(Shaders, EveryVariantIsEmbedded) {
  for (uint32_t i = 0; i < kShaderCount; ++i) {
    const auto id = static_cast<ShaderId>(i);
    const auto words = shader_spirv(id);
    ASSERT_GT(words.size(), 5u) << shader_name(id);
    EXPECT_EQ(words[0], 0x07230203u) << shader_name(id);
    auto r = reflect_spirv(words);
    EXPECT_TRUE(r.has_value()) << shader_name(id) << ": " << r.error().message;
  }
  EXPECT_STREQ(shader_name(ShaderId::matmul_f16), "matmul_f16");
}

TEST(SpirvReflect, MatmulVariants) {
  for (ShaderId id : {ShaderId::matmul_f32, ShaderId::matmul_f16, ShaderId::matmul_bf16, ShaderId::matmul_q4_0,
                      ShaderId::matmul_q4_1, ShaderId::matmul_q5_0, ShaderId::matmul_q5_1, ShaderId::matmul_q8_0,
                      ShaderId::matmul_q2_k, ShaderId::matmul_q3_k, ShaderId::matmul_q4_k, ShaderId::matmul_q5_k,
                      ShaderId::matmul_q6_k, ShaderId::matmul_int}) {
    auto r = reflect_spirv(shader_spirv(id));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->local_size, (std::array<uint32_t, 3>{16, 16, 1})) << shader_name(id);
    EXPECT_EQ(r->local_size_spec_ids, (std::array<int, 3>{-1, -1, -1}));
    EXPECT_EQ(r->storage_buffers, (std::vector<uint32_t>{0, 1, 2})) << shader_name(id);
    EXPECT_TRUE(r->other_bindings.empty());
    EXPECT_TRUE(r->push_constant_size_known);
    EXPECT_EQ(r->push_constant_bytes, 32u) << shader_name(id);  // MatmulPush in gpu/ops/matmul_op.cpp
  }
}

TEST(SpirvReflect, RejectsWhatIsNotSpirv) {
  const std::vector<uint32_t> junk = {1, 2, 3, 4, 5, 6};
  auto r = reflect_spirv(junk);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::Format);
  auto words = shader_spirv(ShaderId::matmul_f32);
  auto truncated = reflect_spirv(words.first(6));  // the header and half of OpCapability
  EXPECT_FALSE(truncated.has_value());
}

}  // namespace
}  // namespace lowbit::gpu
