#include "core/io/gguf_writer.h"

#include <cstring>
#include <set>

namespace lowbit {
namespace {

// Little-endian serialization into a growing buffer (the header is built whole, then written).
struct Buf {
  std::vector<uint8_t> b;
  void raw(const void* p, size_t n) {
    const size_t at = b.size();
    b.resize(at + n);
    if (n) std::memcpy(b.data() + at, p, n);
  }
  template <typename T>
  void put(T v) {
    raw(&v, sizeof(T));
  }
  void str(const std::string& s) {
    put<uint64_t>(s.size());
    raw(s.data(), s.size());
  }
};

void put_scalar(Buf& out, GgufType type, const GgufValue& v, size_t i, bool in_array) {
  auto integer = [&]() -> int64_t { return in_array ? v.ints[i] : (v.type == GgufType::U64 || v.type == GgufType::U32 || v.type == GgufType::U16 || v.type == GgufType::U8 || v.type == GgufType::BOOL ? static_cast<int64_t>(v.u) : v.i); };
  auto real = [&]() -> double { return in_array ? v.floats[i] : v.f; };
  switch (type) {
    case GgufType::U8: out.put<uint8_t>(static_cast<uint8_t>(integer())); break;
    case GgufType::I8: out.put<int8_t>(static_cast<int8_t>(integer())); break;
    case GgufType::U16: out.put<uint16_t>(static_cast<uint16_t>(integer())); break;
    case GgufType::I16: out.put<int16_t>(static_cast<int16_t>(integer())); break;
    case GgufType::U32: out.put<uint32_t>(static_cast<uint32_t>(integer())); break;
    case GgufType::I32: out.put<int32_t>(static_cast<int32_t>(integer())); break;
    case GgufType::U64: out.put<uint64_t>(static_cast<uint64_t>(integer())); break;
    case GgufType::I64: out.put<int64_t>(integer()); break;
    case GgufType::F32: out.put<float>(static_cast<float>(real())); break;
    case GgufType::F64: out.put<double>(real()); break;
    case GgufType::BOOL: out.put<uint8_t>(integer() != 0 ? 1 : 0); break;
    case GgufType::STRING: out.str(in_array ? v.strs[i] : v.s); break;
    case GgufType::ARRAY: break;  // nested arrays are refused by set()
  }
}

void put_value(Buf& out, const GgufValue& v) {
  out.put<uint32_t>(static_cast<uint32_t>(v.type));
  if (v.type != GgufType::ARRAY) {
    put_scalar(out, v.type, v, 0, false);
    return;
  }
  out.put<uint32_t>(static_cast<uint32_t>(v.elem_type));
  const size_t n = v.array_size();
  out.put<uint64_t>(n);
  for (size_t i = 0; i < n; ++i) put_scalar(out, v.elem_type, v, i, true);
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

void GgufMetadata::set(const std::string& key, GgufValue v) {
  for (auto& [k, old] : entries_)
    if (k == key) {
      old = std::move(v);
      return;
    }
  entries_.emplace_back(key, std::move(v));
}

const GgufValue* GgufMetadata::find(const std::string& key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return &v;
  return nullptr;
}

namespace {

GgufValue typed(GgufType type, GgufType elem = GgufType::U32) {
  GgufValue v;
  v.type = type;
  v.elem_type = elem;
  return v;
}

}  // namespace

void GgufMetadata::set_string(const std::string& key, std::string x) {
  GgufValue v = typed(GgufType::STRING);
  v.s = std::move(x);
  set(key, std::move(v));
}
void GgufMetadata::set_u32(const std::string& key, uint32_t x) {
  GgufValue v = typed(GgufType::U32);
  v.u = x;
  set(key, std::move(v));
}
void GgufMetadata::set_i32(const std::string& key, int32_t x) {
  GgufValue v = typed(GgufType::I32);
  v.i = x;
  set(key, std::move(v));
}
void GgufMetadata::set_f32(const std::string& key, float x) {
  GgufValue v = typed(GgufType::F32);
  v.f = x;
  set(key, std::move(v));
}
void GgufMetadata::set_bool(const std::string& key, bool x) {
  GgufValue v = typed(GgufType::BOOL);
  v.u = x ? 1 : 0;
  set(key, std::move(v));
}
void GgufMetadata::set_strings(const std::string& key, std::vector<std::string> x) {
  GgufValue v = typed(GgufType::ARRAY, GgufType::STRING);
  v.strs = std::move(x);
  set(key, std::move(v));
}
void GgufMetadata::set_i32s(const std::string& key, std::vector<int64_t> x) {
  GgufValue v = typed(GgufType::ARRAY, GgufType::I32);
  v.ints = std::move(x);
  set(key, std::move(v));
}
void GgufMetadata::set_f32s(const std::string& key, std::vector<double> x) {
  GgufValue v = typed(GgufType::ARRAY, GgufType::F32);
  v.floats = std::move(x);
  set(key, std::move(v));
}

namespace {

struct Header {
  std::vector<uint8_t> bytes;  // padded to the alignment
  std::vector<SlotFile::Slot> slots;
  uint64_t file_size = 0;
};

Expected<Header> build_header(const std::filesystem::path& path, const GgufMetadata& metadata, const std::vector<GgufTensorDecl>& tensors) {
  uint64_t alignment = 32;
  std::vector<SlotFile::Slot> slots;
  if (const GgufValue* a = metadata.find("general.alignment")) {
    const uint64_t al = a->type == GgufType::U32 ? a->u : 0;
    if (al == 0 || (al & (al - 1)) != 0)
      return make_error(ErrorCode::InvalidArgument, path.string() + ": general.alignment must be a power of two (u32)");
    alignment = al;
  }
  Buf h;
  h.raw("GGUF", 4);
  h.put<uint32_t>(3);
  h.put<uint64_t>(tensors.size());
  h.put<uint64_t>(metadata.entries().size());
  for (const auto& [key, v] : metadata.entries()) {
    if (v.type == GgufType::ARRAY && v.elem_type == GgufType::ARRAY)
      return make_error(ErrorCode::InvalidArgument, path.string() + ": metadata " + key + " is an array of arrays");
    h.str(key);
    put_value(h, v);
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    const int id = traits(t.dtype).ggml_id;
    if (id < 0) return make_error(ErrorCode::InvalidArgument, path.string() + ": tensor " + t.name + " has dtype " + dtype_name(t.dtype) + ", which GGUF cannot store");
    if (t.name.empty() || t.name.size() >= 64 || !names.insert(t.name).second)
      return make_error(ErrorCode::InvalidArgument, path.string() + ": tensor name '" + t.name + "' is empty, longer than 63 bytes or repeated");
    if (t.shape.empty() || t.shape.size() > 4)
      return make_error(ErrorCode::InvalidArgument, path.string() + ": tensor " + t.name + " must have 1 to 4 dimensions");
    uint64_t n = 1;
    for (int64_t d : t.shape) {
      if (d <= 0) return make_error(ErrorCode::InvalidArgument, path.string() + ": tensor " + t.name + " has a dimension ≤ 0");
      n *= static_cast<uint64_t>(d);
    }
    if (static_cast<uint64_t>(t.shape.back()) % traits(t.dtype).block_size != 0)
      return make_error(ErrorCode::InvalidArgument, path.string() + ": tensor " + t.name + ": rows of " + std::to_string(t.shape.back()) +
                                                        " values are not whole " + dtype_name(t.dtype) + " blocks of " +
                                                        std::to_string(traits(t.dtype).block_size) + " (give it another type)");
    h.str(t.name);
    h.put<uint32_t>(static_cast<uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) h.put<uint64_t>(static_cast<uint64_t>(*it));
    h.put<uint32_t>(static_cast<uint32_t>(id));
    h.put<uint64_t>(offset);
    const uint64_t bytes = dtype_bytes(t.dtype, n);
    slots.push_back({t.name, offset, bytes});
    // Padding after every tensor, the last included, as ggml's and gguf-py's writers do.
    offset = align_up(offset + bytes, alignment);
  }
  const uint64_t header = h.b.size();
  h.b.resize(align_up(header, alignment), 0);
  for (auto& s : slots) s.offset += h.b.size();
  const uint64_t file_size = h.b.size() + offset;
  return Header{std::move(h.b), std::move(slots), file_size};
}

}  // namespace

Expected<uint64_t> GgufWriter::size_of(const GgufMetadata& metadata, const std::vector<GgufTensorDecl>& tensors) {
  LB_TRY_ASSIGN(const Header h, build_header("(size estimate)", metadata, tensors));
  return h.file_size;
}

Expected<GgufWriter> GgufWriter::create(const std::filesystem::path& path, const GgufMetadata& metadata,
                                        std::vector<GgufTensorDecl> tensors) {
  LB_TRY_ASSIGN(Header h, build_header(path, metadata, tensors));
  LB_TRY_ASSIGN(SlotFile file, SlotFile::create(path, h.bytes, std::move(h.slots), h.file_size));
  return GgufWriter(std::move(file), h.file_size);
}

Expected<void> GgufWriter::write(const std::string& name, std::span<const uint8_t> bytes) { return file_.write(name, bytes); }

Expected<uint64_t> GgufWriter::finish() { return file_.finish(); }

}  // namespace lowbit
