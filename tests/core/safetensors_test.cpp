// SafetensorsFile: the shards and reference logits of kjv-llama-8m; files built in memory (every
// dtype, metadata, empty tensors, tensors at odd offsets); and damaged files — each named kind of
// damage, a truncated real shard, every truncation of a small file and seeded random mutations —
// which must give an error naming the file and the problem, never a crash.
#include "core/io/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/tensor/half.h"
#include "damaged_files.h"
#include "test_support.h"

namespace lowbit {
namespace {

using nlohmann::json;
using test::Bytes;
using test::expect_failure;
using test::SafetensorsBuilder;
using test::TempDir;

const std::string kKjv = "models/kjv-llama-8m/";

Expected<std::shared_ptr<SafetensorsFile>> open_bytes(const TempDir& dir, const std::string& name, const Bytes& b) {
  test::write_file(dir / name, b);
  return SafetensorsFile::open(dir / name);
}

const TensorInfo* find_tensor(const SafetensorsFile& f, const std::string& name) {
  for (const auto& t : f.tensors())
    if (t.name == name) return &t;
  return nullptr;
}

Bytes u16_bytes(const std::vector<uint16_t>& v) {
  Bytes b(v.size() * 2);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// A small valid file: f32 [2, 3], bf16 [4], i64 [2]; it ends with the last tensor's data.
SafetensorsBuilder small_safetensors() {
  SafetensorsBuilder s;
  s.add_f32("w", {2, 3}, {1, 2, 3, 4, 5, 6});
  s.add("v", "BF16", {4}, u16_bytes({f32_to_bf16(1.0f), f32_to_bf16(-2.0f), f32_to_bf16(0.5f), f32_to_bf16(3.0f)}));
  Bytes ids(16);
  const int64_t id[2] = {7, -1};
  std::memcpy(ids.data(), id, 16);
  s.add("ids", "I64", {2}, ids);
  s.header["__metadata__"] = {{"format", "pt"}};
  return s;
}

TEST(SafetensorsShared, KjvShardAndReferenceLogits) {
  LOWBIT_REQUIRE_SHARED(kKjv + "model-00001-of-00002.safetensors");
  auto f = SafetensorsFile::open(test::shared_dir() / kKjv / "model-00001-of-00002.safetensors");
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_FALSE((*f)->tensors().empty());
  uint64_t prev_end = 0;
  for (const auto& t : (*f)->tensors()) {
    EXPECT_EQ(t.dtype, DType::BF16) << t.name;
    EXPECT_GE(t.file_offset, prev_end) << t.name << ": tensors are in file order";
    prev_end = t.file_offset + t.nbytes;
  }
  EXPECT_LE(prev_end, (*f)->file().size());
  const TensorInfo* e = find_tensor(**f, "model.embed_tokens.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->shape, (std::vector<int64_t>{4096, 256}));
  auto v = decode_to_f32(*e);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->size(), 4096u * 256u);

  auto ref = SafetensorsFile::open(test::shared_dir() / kKjv / "reference_logits.safetensors");
  ASSERT_TRUE(ref) << ref.error().message;
  const TensorInfo* logits = find_tensor(**ref, "logits");
  const TensorInfo* ids = find_tensor(**ref, "input_ids");
  ASSERT_TRUE(logits && ids);
  EXPECT_EQ(logits->dtype, DType::F32);
  EXPECT_EQ(logits->numel(), 64 * 4096);
  EXPECT_EQ(ids->numel(), 64);
}

TEST(SafetensorsBuilt, SmallFileReadsBack) {
  TempDir dir;
  auto f = open_bytes(dir, "small.safetensors", small_safetensors().build());
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_EQ((*f)->tensors().size(), 3u);
  EXPECT_EQ((*f)->tensors()[0].name, "w");  // file order, not the header's alphabetical order
  EXPECT_EQ((*f)->tensors()[2].name, "ids");
  EXPECT_EQ((*f)->metadata().at("format"), "pt");
  const TensorInfo* w = find_tensor(**f, "w");
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(*decode_to_f32(*w), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(*decode_to_f32(*find_tensor(**f, "v")), (std::vector<float>{1, -2, 0.5f, 3}));
  auto ids = decode_to_f32(*find_tensor(**f, "ids"));
  ASSERT_FALSE(ids);  // integers are not weights
  EXPECT_NE(ids.error().message.find("'ids'"), std::string::npos);
}

// Empty tensors own no bytes: they may share an offset with another tensor without overlapping it.
TEST(SafetensorsBuilt, EmptyTensorsDoNotOverlap) {
  SafetensorsBuilder s;
  s.add_f32("a", {2}, {1, 2});
  s.add("empty", "F32", {0, 4}, {});
  s.add_f32("b", {1}, {3});
  s.add("rows-of-nothing", "BF16", {4, 0}, {});
  s.header["inside"] = {{"dtype", "F16"}, {"shape", {0}}, {"data_offsets", {4, 4}}};
  TempDir dir;
  auto f = open_bytes(dir, "empty.safetensors", s.build());
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ((*f)->tensors().size(), 5u);
  const TensorInfo* e = find_tensor(**f, "empty");
  EXPECT_EQ(e->numel(), 0);
  EXPECT_EQ(e->rows(), 0);
  EXPECT_EQ(e->cols(), 4);
  EXPECT_EQ(find_tensor(**f, "rows-of-nothing")->rows(), 4);
  EXPECT_EQ(find_tensor(**f, "rows-of-nothing")->cols(), 0);
  EXPECT_TRUE(decode_to_f32(*find_tensor(**f, "empty")));
}

// Nothing in the format aligns tensor data: 16- and 64-bit tensors at odd offsets must decode.
TEST(SafetensorsBuilt, UnalignedTensorsDecode) {
  SafetensorsBuilder s;
  s.add("flag", "U8", {3}, {1, 2, 3});
  s.add("h", "F16", {9}, u16_bytes({0x3c00, 0xc000, 0x3800, 0, 0x3c00, 0x3c00, 0x3c00, 0x3c00, 0x4000}));
  s.add("b", "BF16", {2}, u16_bytes({f32_to_bf16(1.5f), f32_to_bf16(-4.0f)}));
  Bytes d(16);
  const double dv[2] = {0.25, -8.0};
  std::memcpy(d.data(), dv, 16);
  s.add("d", "F64", {2}, d);
  s.add_f32("f", {1}, {7.0f});
  TempDir dir;
  auto f = open_bytes(dir, "odd.safetensors", s.build());
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(*decode_to_f32(*find_tensor(**f, "h")), (std::vector<float>{1, -2, 0.5f, 0, 1, 1, 1, 1, 2}));
  EXPECT_EQ(*decode_to_f32(*find_tensor(**f, "b")), (std::vector<float>{1.5f, -4.0f}));
  EXPECT_EQ(*decode_to_f32(*find_tensor(**f, "d")), (std::vector<float>{0.25f, -8.0f}));
  EXPECT_EQ(*decode_to_f32(*find_tensor(**f, "f")), (std::vector<float>{7.0f}));
}

struct Damage {
  std::string name;
  Bytes bytes;
  std::string phrase;
};

// A file whose header is `header` (any text) over the data of the small file.
Bytes with_header(const std::string& header) { return test::make_safetensors(header, small_safetensors().data); }
Bytes with_entry(const std::string& name, const json& entry) {
  SafetensorsBuilder s = small_safetensors();
  s.header[name] = entry;
  return s.build();
}

TEST(SafetensorsDamaged, EachKindNamesFileAndProblem) {
  const Bytes valid = small_safetensors().build();
  Bytes past_end = valid;
  test::patch<uint64_t>(past_end, 0, valid.size());
  Bytes huge_len = valid;
  test::patch<uint64_t>(huge_len, 0, ~uint64_t{0});
  const json f32x2 = {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 8}}};
  const std::vector<Damage> cases = {
      {"short", Bytes{1, 2, 3}, "3 bytes, shorter than the 8-byte header length"},
      {"header-past-end", past_end, "runs past the end of the file"},
      {"header-huge", huge_len, "header length 18446744073709551615 runs past the end"},
      {"not-json", with_header("{\"w\": {\"dtype\": \"F32\", "), "header is not well-formed JSON"},
      {"binary-header", with_header(std::string("\x00\xff\x13", 3)), "header is not well-formed JSON"},
      {"not-object", with_header("[1, 2, 3]"), "header is not a JSON object"},
      {"entry-not-object", with_entry("x", 5), "tensor 'x' entry is not an object"},
      {"no-dtype", with_entry("x", {{"shape", {2}}, {"data_offsets", {0, 8}}}), "tensor 'x' has no string 'dtype'"},
      {"no-shape", with_entry("x", {{"dtype", "F32"}, {"data_offsets", {0, 8}}}), "tensor 'x' has no 'shape' array"},
      {"bad-offsets", with_entry("x", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, -8}}}),
       "tensor 'x' has no 'data_offsets' pair"},
      {"three-offsets", with_entry("x", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 4, 8}}}),
       "tensor 'x' has no 'data_offsets' pair"},
      {"unknown-dtype", with_entry("x", {{"dtype", "F8_E4M3"}, {"shape", {8}}, {"data_offsets", {0, 8}}}),
       "tensor 'x' has unknown dtype 'F8_E4M3'"},
      {"negative-dim", with_entry("x", {{"dtype", "F32"}, {"shape", {-2}}, {"data_offsets", {0, 8}}}),
       "shape entry that is not a non-negative integer"},
      {"shape-overflow",
       with_entry("x", {{"dtype", "F32"}, {"shape", {uint64_t{1} << 32, uint64_t{1} << 32}}, {"data_offsets", {0, 8}}}),
       "element count overflows"},
      {"dim-over-63-bits",
       with_entry("x", {{"dtype", "F32"}, {"shape", {uint64_t{1} << 63, 0}}, {"data_offsets", {0, 0}}}),
       "tensor 'x' has a dimension of 9223372036854775808, over 63 bits"},
      {"size-mismatch", with_entry("x", {{"dtype", "F32"}, {"shape", {3}}, {"data_offsets", {0, 8}}}),
       "tensor 'x' is [3] f32 = 12 bytes, but its data_offsets span 8 bytes"},
      {"reversed-offsets", with_entry("x", {{"dtype", "F32"}, {"shape", {0}}, {"data_offsets", {8, 0}}}),
       "end before they begin"},
      {"past-data", with_entry("x", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {48, 56}}}),
       "ending at 56, past the data area of 48 bytes (file truncated?)"},
      {"overlap", with_entry("x", f32x2), "have overlapping byte ranges"},
      {"overlap-inside", with_entry("x", {{"dtype", "F16"}, {"shape", {1}}, {"data_offsets", {30, 32}}}),
       "have overlapping byte ranges"},
      {"metadata-not-object", with_entry("__metadata__", "x"), "__metadata__ is not an object"},
      {"truncated", Bytes(valid.begin(), valid.end() - 3), "(file truncated?)"},
  };
  TempDir dir;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string file = "damaged-" + c.name + ".safetensors";
    expect_failure(open_bytes(dir, file, c.bytes), file, c.phrase);
  }
  auto u = open_bytes(dir, "fp8.safetensors",
                      with_entry("x", {{"dtype", "F8_E4M3"}, {"shape", {8}}, {"data_offsets", {0, 8}}}));
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, ErrorCode::Unsupported);
}

TEST(SafetensorsDamaged, TruncatedRealShard) {
  LOWBIT_REQUIRE_SHARED(kKjv + "model-00002-of-00002.safetensors");
  TempDir dir;
  const Bytes b = test::read_file(test::shared_dir() / kKjv / "model-00002-of-00002.safetensors");
  expect_failure(open_bytes(dir, "cut-shard.safetensors", Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(b.size() / 2))),
                 "cut-shard.safetensors", "(file truncated?)");
  expect_failure(open_bytes(dir, "cut-header.safetensors", Bytes(b.begin(), b.begin() + 100)),
                 "cut-header.safetensors", "runs past the end of the file");
}

TEST(SafetensorsDamaged, EveryTruncationFails) {
  const Bytes valid = small_safetensors().build();
  TempDir dir;
  for (size_t n = 0; n < valid.size(); ++n) {
    auto f = open_bytes(dir, "cut.safetensors", Bytes(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(n)));
    ASSERT_FALSE(f) << "a prefix of " << n << " of " << valid.size() << " bytes opened";
    ASSERT_NE(f.error().message.find("cut.safetensors"), std::string::npos) << f.error().message;
  }
}

TEST(SafetensorsDamaged, RandomMutationsNeverCrash) {
  const Bytes valid = small_safetensors().build();
  TempDir dir;
  int failed = 0;
  test::mutate_many(valid, 1234567u, 400, [&](const Bytes& b) {
    auto f = open_bytes(dir, "mutant.safetensors", b);
    if (!f) {
      ++failed;
      EXPECT_NE(f.error().message.find("mutant.safetensors"), std::string::npos) << f.error().message;
      return;
    }
    for (const auto& t : (*f)->tensors()) {
      EXPECT_LE(t.file_offset + t.nbytes, b.size()) << t.name;
      EXPECT_EQ(t.nbytes, dtype_bytes(t.dtype, static_cast<uint64_t>(t.numel())));
      for (auto d : t.shape) EXPECT_GE(d, 0) << t.name;
      EXPECT_EQ(t.rows() * t.cols(), t.numel()) << t.name;
      std::vector<float> out(static_cast<size_t>(t.numel()));
      (void)decode_to_f32(t, out.data());
    }
  });
  EXPECT_GT(failed, 0);
}

}  // namespace
}  // namespace lowbit
