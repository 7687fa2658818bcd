// SafetensorsWriter: what it writes reads back through SafetensorsFile (whose validation is strict),
// byte for byte; misuse gives errors naming the tensor; an unfinished writer leaves no file.
#include "core/io/safetensors_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "core/io/safetensors.h"

namespace lowbit {
namespace {

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("lowbit_stw_" + std::to_string(::getpid()) + "_" + name);
}

TEST(SafetensorsWriter, RoundTripsThroughTheReader) {
  const auto path = temp_file("ok.safetensors");
  const std::vector<float> a = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -1e-3f};
  const std::vector<uint8_t> b = {1, 2, 3};
  const std::vector<uint16_t> c = {0x3c00, 0xc000};  // f16 1, -2
  auto w = SafetensorsWriter::create(path, {{"a", DType::F32, {2, 3}}, {"b", DType::U8, {3}}, {"c", DType::F16, {2}}},
                                     {{"note", "test"}});
  ASSERT_TRUE(w.has_value()) << w.error().message;
  ASSERT_TRUE(w->write("a", std::span<const float>(a)).has_value());
  ASSERT_TRUE(w->write("b", std::span<const uint8_t>(b)).has_value());
  ASSERT_TRUE(w->write("c", std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(c.data()), 4)).has_value());
  ASSERT_TRUE(w->finish().has_value());
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".partial"));

  auto f = SafetensorsFile::open(path);
  ASSERT_TRUE(f.has_value()) << f.error().message;
  ASSERT_EQ(f.value()->tensors().size(), 3u);
  EXPECT_EQ(f.value()->metadata().at("note"), "test");
  for (const auto& t : f.value()->tensors()) {
    if (t.name == "a") {
      EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
      EXPECT_EQ(std::memcmp(t.data, a.data(), 24), 0);
    } else if (t.name == "b") {
      EXPECT_EQ(std::memcmp(t.data, b.data(), 3), 0);
    } else {
      auto v = decode_to_f32(t);
      ASSERT_TRUE(v.has_value());
      EXPECT_EQ((*v)[0], 1.0f);
      EXPECT_EQ((*v)[1], -2.0f);
    }
  }
  // The header is padded to a multiple of 8 bytes, as the format asks.
  std::ifstream in(path, std::ios::binary);
  uint64_t len = 0;
  in.read(reinterpret_cast<char*>(&len), 8);
  EXPECT_EQ(len % 8, 0u);
  std::filesystem::remove(path);
}

TEST(SafetensorsWriter, MisuseIsAnErrorThatNamesTheTensor) {
  const auto path = temp_file("bad.safetensors");
  EXPECT_FALSE(SafetensorsWriter::create(path, {{"x", DType::Q4_K, {256}}}).has_value());
  EXPECT_FALSE(SafetensorsWriter::create(path, {{"x", DType::F32, {1}}, {"x", DType::F32, {1}}}).has_value());
  auto w = SafetensorsWriter::create(path, {{"first", DType::F32, {2}}, {"second", DType::F32, {1}}});
  ASSERT_TRUE(w.has_value());
  const std::vector<float> one = {1.0f}, two = {1.0f, 2.0f};
  auto e = w->write("third", std::span<const float>(one));
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message.find("third was not declared"), std::string::npos) << e.error().message;
  e = w->write("first", std::span<const float>(one));
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message.find("first"), std::string::npos);
  ASSERT_TRUE(w->write("first", std::span<const float>(two)).has_value());
  e = w->write("first", std::span<const float>(two));
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message.find("first was already written"), std::string::npos) << e.error().message;
  auto f = w->finish();
  ASSERT_FALSE(f.has_value());
  EXPECT_NE(f.error().message.find("second"), std::string::npos) << f.error().message;
}

TEST(SafetensorsWriter, TensorsWrittenInAnyOrderMakeTheSameFile) {
  const std::vector<float> a = {1, 2, 3}, b = {4, 5};
  const std::vector<SafetensorsDecl> decls = {{"a", DType::F32, {3}}, {"b", DType::F32, {2}}};
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const auto in_order = temp_file("in_order.safetensors"), reversed = temp_file("reversed.safetensors");
  {
    auto w = SafetensorsWriter::create(in_order, decls);
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE(w->write("a", std::span<const float>(a)).has_value());
    ASSERT_TRUE(w->write("b", std::span<const float>(b)).has_value());
    ASSERT_TRUE(w->finish().has_value());
  }
  {
    auto w = SafetensorsWriter::create(reversed, decls);
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE(w->write("b", std::span<const float>(b)).has_value());
    ASSERT_TRUE(w->write("a", std::span<const float>(a)).has_value());
    ASSERT_TRUE(w->finish().has_value());
  }
  const std::string x = read(in_order);
  EXPECT_EQ(x, read(reversed));
  auto size = SafetensorsWriter::size_of(decls);
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ(*size, x.size());
}

TEST(SafetensorsWriter, AnUnfinishedWriterLeavesNothing) {
  const auto path = temp_file("cancelled.safetensors");
  {
    auto w = SafetensorsWriter::create(path, {{"t", DType::F32, {4}}});
    ASSERT_TRUE(w.has_value());
    EXPECT_TRUE(std::filesystem::exists(path.string() + ".partial"));
  }
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".partial"));
  EXPECT_FALSE(std::filesystem::exists(path));
}

// A kept .partial file is continued by reopen() with the same declarations: the tensors written before
// stay, the rest are filled, and the file is the uninterrupted one. Other declarations are refused.
TEST(SafetensorsWriter, AKeptPartialFileIsReopenedAndFinished) {
  const std::vector<float> a = {1, 2, 3}, b = {4, 5};
  const std::vector<SafetensorsDecl> decls = {{"a", DType::F32, {3}}, {"b", DType::F32, {2}}};
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const auto whole = temp_file("whole.safetensors"), resumed = temp_file("resumed.safetensors");
  {
    auto w = SafetensorsWriter::create(whole, decls);
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE(w->write("a", std::span<const float>(a)).has_value());
    ASSERT_TRUE(w->write("b", std::span<const float>(b)).has_value());
    ASSERT_TRUE(w->finish().has_value());
  }
  {
    auto w = SafetensorsWriter::create(resumed, decls);
    ASSERT_TRUE(w.has_value());
    w->keep_partial();
    ASSERT_TRUE(w->write("a", std::span<const float>(a)).has_value());
    ASSERT_TRUE(w->flush().has_value());
  }
  ASSERT_TRUE(std::filesystem::exists(resumed.string() + ".partial"));
  auto other = SafetensorsWriter::reopen(resumed, {{"a", DType::F32, {4}}, {"b", DType::F32, {2}}}, {}, {"a"});
  ASSERT_FALSE(other.has_value());
  EXPECT_NE(other.error().message.find("not the file this run declares"), std::string::npos) << other.error().message;
  ASSERT_TRUE(std::filesystem::exists(resumed.string() + ".partial")) << "a refused reopen leaves the file as it was";
  {
    auto w = SafetensorsWriter::reopen(resumed, decls, {}, {"a"});
    ASSERT_TRUE(w.has_value()) << w.error().message;
    EXPECT_FALSE(w->write("a", std::span<const float>(a)).has_value()) << "a filled tensor is not written twice";
    ASSERT_TRUE(w->write("b", std::span<const float>(b)).has_value());
    ASSERT_TRUE(w->finish().has_value());
  }
  EXPECT_EQ(read(whole), read(resumed));
  std::filesystem::remove(whole);
  std::filesystem::remove(resumed);
}

}  // namespace
}  // namespace lowbit
