#include "core/io/gguf.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <unordered_set>

namespace lowbit {
namespace {

constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS
constexpr uint64_t kHeaderBytes = 4 + 4 + 8 + 8;
// The smallest encodings of one key/value pair (empty key, type, a one-byte value) and of one
// tensor info (empty name, n_dims, one dimension, type, offset): counts in the header are bounded
// by what the rest of the file could hold before anything is allocated for them.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;
// A damaged array count inside a multi-GB file would otherwise be bounded only by the file size,
// and decoding that many u8 elements into int64 costs 8 bytes each. Real metadata arrays (token
// lists, merges, scores) hold a few hundred thousand elements.
constexpr uint64_t kMaxArrayElements = uint64_t{1} << 26;
// Vectors grow from at most this many reserved elements, so memory follows bytes actually read.
constexpr uint64_t kMaxReserve = uint64_t{1} << 16;
constexpr const char* kKnownTypes = "f32, f16, bf16, f64, i8, i16, i32, i64, q4_0, q4_1, q5_0, q5_1, q8_0, q2_k to q6_k";

bool is_valid_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::F64); }

const char* type_name(GgufType t) {
  switch (t) {
    case GgufType::U8: return "u8";
    case GgufType::I8: return "i8";
    case GgufType::U16: return "u16";
    case GgufType::I16: return "i16";
    case GgufType::U32: return "u32";
    case GgufType::I32: return "i32";
    case GgufType::F32: return "f32";
    case GgufType::BOOL: return "bool";
    case GgufType::STRING: return "string";
    case GgufType::ARRAY: return "array";
    case GgufType::U64: return "u64";
    case GgufType::I64: return "i64";
    case GgufType::F64: return "f64";
  }
  return "?";
}

// Bytes of one value of a fixed-size type; 0 for STRING and ARRAY.
uint64_t fixed_size(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    case GgufType::STRING: case GgufType::ARRAY: return 0;
  }
  return 0;
}

bool is_float(GgufType t) { return t == GgufType::F32 || t == GgufType::F64; }
bool is_signed(GgufType t) {
  return t == GgufType::I8 || t == GgufType::I16 || t == GgufType::I32 || t == GgufType::I64;
}

template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // GGUF is little-endian, as is every supported host
  return v;
}

// Decodes one fixed-size integer or bool value; unsigned values are kept bit-for-bit.
int64_t load_int(const uint8_t* p, GgufType t) {
  switch (t) {
    case GgufType::U8: return load<uint8_t>(p);
    case GgufType::I8: return load<int8_t>(p);
    case GgufType::BOOL: return load<uint8_t>(p) != 0;
    case GgufType::U16: return load<uint16_t>(p);
    case GgufType::I16: return load<int16_t>(p);
    case GgufType::U32: return load<uint32_t>(p);
    case GgufType::I32: return load<int32_t>(p);
    case GgufType::U64: return static_cast<int64_t>(load<uint64_t>(p));
    case GgufType::I64: return load<int64_t>(p);
    default: return 0;
  }
}

double load_float(const uint8_t* p, GgufType t) {
  return t == GgufType::F32 ? static_cast<double>(load<float>(p)) : load<double>(p);
}

// Shows up to 4 bytes as text where printable, as \xNN otherwise.
std::string printable(const uint8_t* p, size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (p[i] >= 0x20 && p[i] < 0x7f) {
      s += static_cast<char>(p[i]);
    } else {
      s += "\\x";
      s += hex[p[i] >> 4];
      s += hex[p[i] & 15];
    }
  }
  return s;
}

// A bounds-checked cursor over the mapped file. Every failure names the file, the byte offset,
// the item being read (`where`) and what was expected versus found.
class Reader {
 public:
  explicit Reader(const MappedFile& f) : data_(f.data()), size_(f.size()), path_(f.path()) {}

  uint64_t pos() const { return pos_; }
  uint64_t left() const { return size_ - pos_; }
  const uint8_t* here() const { return data_ + pos_; }
  void skip(uint64_t n) { pos_ += n; }
  void set_where(std::string w) { where_ = std::move(w); }

  Unexpected fail(uint64_t at, const std::string& what, ErrorCode code = ErrorCode::Format) const {
    std::string m = path_ + ": byte " + std::to_string(at) + ": ";
    if (!where_.empty()) m += where_ + ": ";
    return make_error(code, m + what);
  }

  template <class T>
  Expected<T> read(const char* what) {
    if (left() < sizeof(T))
      return fail(pos_, std::string("file ends inside ") + what + ": expected " + std::to_string(sizeof(T)) +
                            " bytes, found " + std::to_string(left()) + " (file truncated?)");
    const T v = load<T>(here());
    pos_ += sizeof(T);
    return v;
  }

  Expected<std::string> string(const char* what) {
    const uint64_t at = pos_;
    LB_TRY_ASSIGN(const uint64_t len, read<uint64_t>(what));
    if (len > left())
      return fail(at, std::string(what) + " claims " + std::to_string(len) + " bytes, but only " +
                          std::to_string(left()) + " bytes are left in the file");
    std::string s(reinterpret_cast<const char*>(here()), len);
    pos_ += len;
    return s;
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& path_;
  std::string where_;
};

Expected<void> read_scalar(Reader& r, GgufType type, GgufValue& v) {
  if (type == GgufType::STRING) {
    LB_TRY_ASSIGN(v.s, r.string("string value"));
    return {};
  }
  const uint64_t n = fixed_size(type);
  if (r.left() < n)
    return r.fail(r.pos(), std::string("file ends inside a ") + type_name(type) + " value: expected " +
                               std::to_string(n) + " bytes, found " + std::to_string(r.left()));
  if (is_float(type)) {
    v.f = load_float(r.here(), type);
  } else if (is_signed(type)) {
    v.i = load_int(r.here(), type);
  } else {
    v.u = static_cast<uint64_t>(load_int(r.here(), type));
  }
  r.skip(n);
  return {};
}

Expected<void> read_array(Reader& r, GgufValue& v) {
  const uint64_t at = r.pos();
  LB_TRY_ASSIGN(const uint32_t elem, r.read<uint32_t>("array element type"));
  if (!is_valid_type(elem))
    return r.fail(at, "unknown array element type " + std::to_string(elem) + " (expected 0 to 12)");
  v.elem_type = static_cast<GgufType>(elem);
  if (v.elem_type == GgufType::ARRAY)  // no reader of the ecosystem, llama.cpp's included, takes them
    return r.fail(at, "arrays of arrays are not supported", ErrorCode::Unsupported);
  const uint64_t count_at = r.pos();
  LB_TRY_ASSIGN(const uint64_t n, r.read<uint64_t>("array length"));
  const uint64_t min_bytes = v.elem_type == GgufType::STRING ? 8 : fixed_size(v.elem_type);
  if (n > r.left() / min_bytes)
    return r.fail(count_at, "array claims " + std::to_string(n) + " " + type_name(v.elem_type) +
                                " elements (at least " + std::to_string(min_bytes) + " bytes each), but only " +
                                std::to_string(r.left()) + " bytes are left in the file");
  if (n > kMaxArrayElements)
    return r.fail(count_at, "array of " + std::to_string(n) + " elements is over this reader's limit of " +
                                std::to_string(kMaxArrayElements));
  const auto reserve = static_cast<size_t>(std::min(n, kMaxReserve));
  if (v.elem_type == GgufType::STRING) {
    v.strs.reserve(reserve);
    for (uint64_t k = 0; k < n; ++k) {
      LB_TRY_ASSIGN(auto s, r.string("array string"));
      v.strs.push_back(std::move(s));
    }
  } else if (is_float(v.elem_type)) {
    v.floats.reserve(reserve);
    for (uint64_t k = 0; k < n; ++k, r.skip(min_bytes)) v.floats.push_back(load_float(r.here(), v.elem_type));
  } else {
    v.ints.reserve(reserve);
    for (uint64_t k = 0; k < n; ++k, r.skip(min_bytes)) v.ints.push_back(load_int(r.here(), v.elem_type));
  }
  return {};
}

// Checks the version field: v2 and v3 share one layout (v3 only allowed big-endian files).
Expected<uint32_t> check_version(Reader& r) {
  LB_TRY_ASSIGN(const uint32_t version, r.read<uint32_t>("version"));
  if (version == 2 || version == 3) return version;
  if (version == 1)
    return r.fail(4, "unsupported GGUF version 1 (an obsolete layout with 32-bit counts; convert the model again "
                     "with a recent llama.cpp)", ErrorCode::Unsupported);
  const uint32_t swapped = __builtin_bswap32(version);
  if (swapped == 2 || swapped == 3)
    return r.fail(4, "unsupported GGUF version " + std::to_string(version) + ": this is a big-endian GGUF file "
                     "(version " + std::to_string(swapped) + " byte-swapped); only little-endian files are supported",
                  ErrorCode::Unsupported);
  return r.fail(4, "unsupported GGUF version " + std::to_string(version) + " (expected 2 or 3)",
                ErrorCode::Unsupported);
}

// A tensor info as read, before its data range is known to lie in the file.
struct PendingTensor {
  TensorInfo info;
  uint64_t rel_offset = 0;
  uint64_t info_at = 0;  // where its tensor info starts, for messages
};

}  // namespace

size_t GgufValue::array_size() const {
  if (type != GgufType::ARRAY) return 0;
  if (elem_type == GgufType::STRING) return strs.size();
  if (is_float(elem_type)) return floats.size();
  return ints.size();
}

Expected<std::shared_ptr<GgufFile>> GgufFile::open(const std::filesystem::path& path) {
  LB_TRY_ASSIGN(auto file, MappedFile::open(path));
  auto out = std::make_shared<GgufFile>();
  out->file_ = file;
  Reader r(*file);

  if (file->size() < kHeaderBytes) {
    if (file->size() >= 4 && std::memcmp(file->data(), "GGUF", 4) != 0)
      return r.fail(0, "not a GGUF file: expected magic 'GGUF', found '" + printable(file->data(), 4) + "'");
    return r.fail(0, "file is " + std::to_string(file->size()) + " bytes, shorter than the " +
                         std::to_string(kHeaderBytes) + "-byte GGUF header");
  }
  if (std::memcmp(file->data(), "GGUF", 4) != 0)
    return r.fail(0, "not a GGUF file: expected magic 'GGUF', found '" + printable(file->data(), 4) + "'");
  r.skip(4);
  LB_TRY_ASSIGN(out->version_, check_version(r));
  LB_TRY_ASSIGN(const uint64_t n_tensors, r.read<uint64_t>("tensor count"));
  LB_TRY_ASSIGN(const uint64_t n_kv, r.read<uint64_t>("metadata key/value count"));
  if (n_tensors > r.left() / kMinTensorInfoBytes)
    return r.fail(8, "tensor count " + std::to_string(n_tensors) + " is absurd: the " + std::to_string(r.left()) +
                         " bytes after the header could hold at most " +
                         std::to_string(r.left() / kMinTensorInfoBytes) + " tensor infos");
  if (n_kv > (r.left() - n_tensors * kMinTensorInfoBytes) / kMinKvBytes)
    return r.fail(16, "metadata key/value count " + std::to_string(n_kv) + " is absurd: the " +
                          std::to_string(r.left()) + " bytes after the header could not hold that many pairs and " +
                          std::to_string(n_tensors) + " tensor infos");

  // Metadata.
  out->metadata_.reserve(static_cast<size_t>(n_kv));
  for (uint64_t k = 0; k < n_kv; ++k) {
    const uint64_t at = r.pos();
    r.set_where("metadata key " + std::to_string(k));
    LB_TRY_ASSIGN(std::string key, r.string("key string"));
    r.set_where("metadata key " + std::to_string(k) + " '" + key + "'");
    if (out->index_.count(key)) return r.fail(at, "duplicate key (it appears earlier in the file)");
    const uint64_t type_at = r.pos();
    LB_TRY_ASSIGN(const uint32_t type, r.read<uint32_t>("value type"));
    if (!is_valid_type(type))
      return r.fail(type_at, "unknown value type " + std::to_string(type) + " (expected 0 to 12)");
    GgufValue v;
    v.type = static_cast<GgufType>(type);
    if (v.type == GgufType::ARRAY) {
      LB_TRY_VOID(read_array(r, v));
    } else {
      LB_TRY_VOID(read_scalar(r, v.type, v));
    }
    if (key == "general.alignment") {
      if (v.type != GgufType::U32)
        return r.fail(type_at, std::string("general.alignment must be a u32, found a ") + type_name(v.type));
      if (v.u == 0 || !std::has_single_bit(v.u))
        return r.fail(type_at, "general.alignment must be a nonzero power of two, found " + std::to_string(v.u));
      out->alignment_ = v.u;
    }
    out->index_.emplace(key, out->metadata_.size());
    out->metadata_.emplace_back(std::move(key), std::move(v));
  }

  // Tensor infos: shapes, types and offsets; the data ranges are checked once the data start is known.
  std::vector<PendingTensor> pending;
  pending.reserve(static_cast<size_t>(n_tensors));
  std::unordered_set<std::string> names;
  for (uint64_t k = 0; k < n_tensors; ++k) {
    PendingTensor pt;
    pt.info_at = r.pos();
    r.set_where("tensor info " + std::to_string(k));
    LB_TRY_ASSIGN(pt.info.name, r.string("tensor name"));
    r.set_where("tensor info " + std::to_string(k) + " '" + pt.info.name + "'");
    if (!names.insert(pt.info.name).second)
      return r.fail(pt.info_at, "duplicate tensor name (it appears earlier in the file)");
    const uint64_t dims_at = r.pos();
    LB_TRY_ASSIGN(const uint32_t n_dims, r.read<uint32_t>("n_dims"));
    if (n_dims == 0 || n_dims > kMaxDims)
      return r.fail(dims_at, "n_dims is " + std::to_string(n_dims) + ", expected 1 to " + std::to_string(kMaxDims));
    uint64_t numel = 1;
    std::vector<int64_t> ne(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t ne_at = r.pos();
      LB_TRY_ASSIGN(const uint64_t n, r.read<uint64_t>("dimension"));
      if (n == 0 || n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return r.fail(ne_at, "dimension ne[" + std::to_string(d) + "] is " + std::to_string(n) +
                                 ", expected a positive 63-bit count");
      if (numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / n)
        return r.fail(ne_at, "element count overflows 63 bits at dimension ne[" + std::to_string(d) + "] = " +
                                 std::to_string(n));
      numel *= n;
      ne[d] = static_cast<int64_t>(n);
    }
    pt.info.shape.assign(ne.rbegin(), ne.rend());  // ggml's ne[0] is the innermost dimension
    const uint64_t type_at = r.pos();
    LB_TRY_ASSIGN(const uint32_t ggml_type, r.read<uint32_t>("tensor type"));
    const auto dtype = dtype_from_ggml(ggml_type);
    if (!dtype)
      return r.fail(type_at, "unsupported ggml type id " + std::to_string(ggml_type) + " (this reader takes " +
                                 kKnownTypes + ")", ErrorCode::Unsupported);
    pt.info.dtype = *dtype;
    const auto& tr = traits(*dtype);
    if (static_cast<uint64_t>(ne[0]) % tr.block_size != 0)
      return r.fail(type_at, std::string("rows of ") + std::to_string(ne[0]) + " elements are not a multiple of the " +
                                 std::to_string(tr.block_size) + "-element blocks of type " + tr.name);
    if (numel / tr.block_size > file->size() / tr.block_bytes)
      return r.fail(type_at, pt.info.shape_string() + " " + tr.name + " needs more bytes than the whole file has (" +
                                 std::to_string(file->size()) + ")");
    pt.info.nbytes = dtype_bytes(*dtype, numel);
    LB_TRY_ASSIGN(pt.rel_offset, r.read<uint64_t>("tensor data offset"));
    pt.info.file = file->path();
    pending.push_back(std::move(pt));
  }
  r.set_where("");

  // The data section starts at the end of the tensor infos, rounded up to the alignment.
  const uint64_t header_end = r.pos();
  out->data_offset_ = (header_end + out->alignment_ - 1) / out->alignment_ * out->alignment_;
  const uint64_t data_size = out->data_offset_ <= file->size() ? file->size() - out->data_offset_ : 0;
  for (auto& pt : pending) {
    TensorInfo& t = pt.info;
    const std::string what = "tensor '" + t.name + "' (" + t.shape_string() + " " + dtype_name(t.dtype) + ", " +
                             std::to_string(t.nbytes) + " bytes)";
    if (pt.rel_offset % out->alignment_ != 0)
      return r.fail(pt.info_at, what + " has data offset " + std::to_string(pt.rel_offset) +
                                    ", expected a multiple of the alignment " + std::to_string(out->alignment_));
    if (pt.rel_offset > data_size || t.nbytes > data_size - pt.rel_offset)
      return r.fail(pt.info_at, what + " at data offset " + std::to_string(pt.rel_offset) +
                                    " runs past the end of the file: the data section starts at byte " +
                                    std::to_string(out->data_offset_) + " and holds " + std::to_string(data_size) +
                                    " bytes (file truncated?)");
    t.file_offset = out->data_offset_ + pt.rel_offset;
    t.data = file->data() + t.file_offset;
  }
  std::vector<const PendingTensor*> by_offset;
  by_offset.reserve(pending.size());
  for (const auto& pt : pending) by_offset.push_back(&pt);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const PendingTensor* a, const PendingTensor* b) { return a->rel_offset < b->rel_offset; });
  for (size_t k = 1; k < by_offset.size(); ++k) {
    const PendingTensor& a = *by_offset[k - 1];
    const PendingTensor& b = *by_offset[k];
    if (b.rel_offset < a.rel_offset + a.info.nbytes)
      return r.fail(b.info_at, "tensors '" + a.info.name + "' and '" + b.info.name + "' have overlapping data (offsets " +
                                   std::to_string(a.rel_offset) + " + " + std::to_string(a.info.nbytes) + " bytes and " +
                                   std::to_string(b.rel_offset) + ")");
  }
  out->tensors_.reserve(pending.size());
  for (auto& pt : pending) out->tensors_.push_back(std::move(pt.info));
  return out;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &metadata_[it->second].second;
}

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v || v->type != GgufType::STRING) return std::nullopt;
  return v->s;
}

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v || v->type == GgufType::STRING || v->type == GgufType::ARRAY || is_float(v->type)) return std::nullopt;
  if (is_signed(v->type)) return v->i;
  if (v->u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(v->u);
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v || v->type == GgufType::STRING || v->type == GgufType::ARRAY) return std::nullopt;
  if (is_float(v->type)) return v->f;
  if (is_signed(v->type)) return static_cast<double>(v->i);
  return static_cast<double>(v->u);
}

}  // namespace lowbit
