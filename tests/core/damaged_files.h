// Builders of small checkpoint files in memory (GGUF and safetensors) and the tools the reader
// tests use to damage them: a temporary folder that removes itself, byte patching at positions the
// builders record, truncation and seeded random mutation. Tests generate every damaged file at run
// time from these builders or from copies of ../shared files made inside the temporary folder.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace lowbit::test {

using Bytes = std::vector<uint8_t>;

// A fresh folder under the system temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("lowbit-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << p;
}
inline void write_file(const std::filesystem::path& p, const std::string& s) {
  write_file(p, Bytes(s.begin(), s.end()));
}
inline Bytes read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Copies the regular files of `src` (a ../shared folder) into `dst` as new, writable files.
inline void copy_folder(const std::filesystem::path& src, const std::filesystem::path& dst) {
  std::filesystem::create_directories(dst);
  for (const auto& e : std::filesystem::directory_iterator(src))
    if (e.is_regular_file()) write_file(dst / e.path().filename(), read_file(e.path()));
}

template <class T>
void patch(Bytes& b, size_t at, T v) {
  ASSERT_LE(at + sizeof(T), b.size());
  std::memcpy(b.data() + at, &v, sizeof(T));
}

// Little-endian appends, recording named positions ("marks") for later patching.
struct Writer {
  Bytes b;
  std::map<std::string, size_t> marks;
  void mark(const std::string& name) { marks[name] = b.size(); }
  template <class T>
  void put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
  }
  void str(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
  }
  void pad_to(size_t alignment) {
    while (b.size() % alignment) b.push_back(0);
  }
};

// Writes a GGUF file of metadata and tensors. Marks: "magic", "version", "n_tensors", "n_kv",
// "kv:<key>" (its key length), "kv:<key>.type", "kv:<key>.value" (value or array element type),
// "kv:<key>.count" (array length), "ti:<name>" (name length), "ti:<name>.n_dims", "ti:<name>.ne",
// "ti:<name>.type", "ti:<name>.offset", "data" (data section start), "data:<name>".
class GgufBuilder {
 public:
  enum Type : uint32_t { U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 };

  uint32_t version = 3;
  uint32_t alignment = 32;  // used for the layout; written only through general.alignment

  template <class T>
  void kv(const std::string& key, Type type, T value) {
    kvs_.push_back([=](Writer& w) {
      begin_kv(w, key, type);
      w.put<T>(value);
    });
  }
  void kv_string(const std::string& key, const std::string& value) {
    kvs_.push_back([=](Writer& w) {
      begin_kv(w, key, STRING);
      w.str(value);
    });
  }
  void kv_strings(const std::string& key, const std::vector<std::string>& values) {
    kvs_.push_back([=](Writer& w) {
      begin_kv(w, key, ARRAY);
      w.put<uint32_t>(STRING);
      w.mark("kv:" + key + ".count");
      w.put<uint64_t>(values.size());
      for (const auto& s : values) w.str(s);
    });
  }
  template <class T>
  void kv_array(const std::string& key, Type elem, const std::vector<T>& values) {
    kvs_.push_back([=](Writer& w) {
      begin_kv(w, key, ARRAY);
      w.put<uint32_t>(elem);
      w.mark("kv:" + key + ".count");
      w.put<uint64_t>(values.size());
      for (T v : values) w.put<T>(v);
    });
  }
  // Raw bytes after the key, for value encodings the helpers above cannot write.
  void kv_raw(const std::string& key, Type type, const Bytes& value) {
    kvs_.push_back([=](Writer& w) {
      begin_kv(w, key, type);
      w.b.insert(w.b.end(), value.begin(), value.end());
    });
  }

  // ne in ggml order (ne[0] innermost); `data` is the raw tensor bytes.
  void tensor(const std::string& name, uint32_t ggml_type, const std::vector<uint64_t>& ne, const Bytes& data) {
    tensors_.push_back({name, ggml_type, ne, data});
  }
  void tensor_f32(const std::string& name, const std::vector<uint64_t>& ne, const std::vector<float>& v) {
    Bytes data(v.size() * 4);
    std::memcpy(data.data(), v.data(), data.size());
    tensor(name, 0, ne, data);
  }

  // The file's bytes. It ends right after the last tensor's data, so every truncation damages it.
  Bytes build(std::map<std::string, size_t>* marks = nullptr) const {
    Writer w;
    w.mark("magic");
    w.b.insert(w.b.end(), {'G', 'G', 'U', 'F'});
    w.mark("version");
    w.put<uint32_t>(version);
    w.mark("n_tensors");
    w.put<uint64_t>(tensors_.size());
    w.mark("n_kv");
    w.put<uint64_t>(kvs_.size());
    for (const auto& f : kvs_) f(w);
    std::vector<uint64_t> offsets;
    uint64_t off = 0;
    for (const auto& t : tensors_) {
      off = (off + alignment - 1) / alignment * alignment;
      offsets.push_back(off);
      off += t.data.size();
    }
    for (size_t i = 0; i < tensors_.size(); ++i) {
      const auto& t = tensors_[i];
      w.mark("ti:" + t.name);
      w.str(t.name);
      w.mark("ti:" + t.name + ".n_dims");
      w.put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
      w.mark("ti:" + t.name + ".ne");
      for (auto n : t.ne) w.put<uint64_t>(n);
      w.mark("ti:" + t.name + ".type");
      w.put<uint32_t>(t.type);
      w.mark("ti:" + t.name + ".offset");
      w.put<uint64_t>(offsets[i]);
    }
    if (!tensors_.empty()) w.pad_to(alignment);
    w.mark("data");
    for (size_t i = 0; i < tensors_.size(); ++i) {
      while (w.b.size() < w.marks["data"] + offsets[i]) w.b.push_back(0);
      w.mark("data:" + tensors_[i].name);
      w.b.insert(w.b.end(), tensors_[i].data.begin(), tensors_[i].data.end());
    }
    if (marks) *marks = w.marks;
    return w.b;
  }

 private:
  struct Tensor {
    std::string name;
    uint32_t type;
    std::vector<uint64_t> ne;
    Bytes data;
  };
  static void begin_kv(Writer& w, const std::string& key, Type type) {
    w.mark("kv:" + key);
    w.str(key);
    w.mark("kv:" + key + ".type");
    w.put<uint32_t>(type);
    w.mark("kv:" + key + ".value");
  }
  std::vector<std::function<void(Writer&)>> kvs_;
  std::vector<Tensor> tensors_;
};

// A small valid GGUF: a few metadata kinds, an f32 matrix [rows 3, cols 4], an f32 vector and a
// q8_0 matrix of one block per row.
inline GgufBuilder small_gguf() {
  GgufBuilder g;
  g.kv_string("general.architecture", "llama");
  g.kv<uint32_t>("llama.context_length", GgufBuilder::U32, 128);
  g.kv<float>("llama.attention.layer_norm_rms_epsilon", GgufBuilder::F32, 1e-5f);
  g.kv_strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
  g.kv_array<int32_t>("tokenizer.ggml.token_type", GgufBuilder::I32, {2, 3, 3, 1});
  std::vector<float> m(12), v(4);
  for (int i = 0; i < 12; ++i) m[static_cast<size_t>(i)] = 0.5f * static_cast<float>(i) - 2.0f;
  for (int i = 0; i < 4; ++i) v[static_cast<size_t>(i)] = 1.0f + static_cast<float>(i);
  g.tensor_f32("blk.0.attn_q.weight", {4, 3}, m);
  g.tensor_f32("output_norm.weight", {4}, v);
  Bytes q8(2 * 34);
  for (size_t b = 0; b < 2; ++b) {
    const uint16_t d = 0x3c00;  // fp16 1.0
    std::memcpy(q8.data() + b * 34, &d, 2);
    for (size_t i = 0; i < 32; ++i) q8[b * 34 + 2 + i] = static_cast<uint8_t>(static_cast<int8_t>(i) - 16);
  }
  g.tensor("blk.0.ffn_down.weight", 8, {32, 2}, q8);
  return g;
}

// Writes a safetensors file: the 8-byte header length, the JSON header, then `data`.
inline Bytes make_safetensors(const std::string& header, const Bytes& data) {
  Writer w;
  w.put<uint64_t>(header.size());
  w.b.insert(w.b.end(), header.begin(), header.end());
  w.b.insert(w.b.end(), data.begin(), data.end());
  return w.b;
}

// Tensors appended one after another, with a header written by nlohmann::json.
struct SafetensorsBuilder {
  nlohmann::json header = nlohmann::json::object();
  Bytes data;
  void add(const std::string& name, const std::string& dtype, const std::vector<uint64_t>& shape, const Bytes& bytes) {
    header[name] = {{"dtype", dtype}, {"shape", shape}, {"data_offsets", {data.size(), data.size() + bytes.size()}}};
    data.insert(data.end(), bytes.begin(), bytes.end());
  }
  void add_f32(const std::string& name, const std::vector<uint64_t>& shape, const std::vector<float>& v) {
    Bytes b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    add(name, "F32", shape, b);
  }
  Bytes build() const { return make_safetensors(header.dump(), data); }
};

// Seeded damage of a valid file: flips, overwrites with extreme values, truncations and cut-outs.
// Calls `check` with every damaged copy.
inline void mutate_many(const Bytes& valid, uint32_t seed, int count, const std::function<void(const Bytes&)>& check) {
  std::mt19937 rng(seed);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const uint64_t extremes[] = {0, 1, 0xff, 0xffffffffull, 0x7fffffffffffffffull, 0xffffffffffffffffull,
                               uint64_t{1} << 60, 31, 33, 4096};
  for (int k = 0; k < count; ++k) {
    Bytes b = valid;
    switch (k % 5) {
      case 0:  // a few random bit flips
        for (size_t i = 0, n = 1 + pick(4); i < n; ++i) b[pick(b.size())] ^= static_cast<uint8_t>(1u << pick(8));
        break;
      case 1:  // random bytes
        for (size_t i = 0, n = 1 + pick(8); i < n; ++i) b[pick(b.size())] = static_cast<uint8_t>(pick(256));
        break;
      case 2: {  // an extreme 8-byte value at a random position
        const size_t at = pick(b.size() - 8);
        const uint64_t v = extremes[pick(std::size(extremes))];
        std::memcpy(b.data() + at, &v, 8);
        break;
      }
      case 3:  // truncation
        b.resize(pick(b.size()));
        break;
      default: {  // a cut-out: bytes removed from the middle
        const size_t at = pick(b.size());
        const size_t n = std::min(b.size() - at, 1 + pick(16));
        b.erase(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + n));
        break;
      }
    }
    check(b);
  }
}

// Asserts that `result` failed with a message naming `file` and containing `phrase`.
template <class R>
void expect_failure(const R& result, const std::string& file, const std::string& phrase) {
  ASSERT_FALSE(result) << "expected an error mentioning '" << phrase << "' for " << file;
  const std::string& m = result.error().message;
  EXPECT_NE(m.find(file), std::string::npos) << "message does not name " << file << ": " << m;
  EXPECT_NE(m.find(phrase), std::string::npos) << "message lacks '" << phrase << "': " << m;
}

}  // namespace lowbit::test
