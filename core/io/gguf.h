// GgufFile: a memory-mapped GGUF (v2 or v3) file — its metadata key/values of every value type,
// its tensor infos (shape reversed from ggml's ne[] to row-major, outermost first), alignment and
// data offset. Every count, string length, array length, dimension and offset read from the file
// is bounds-checked against the file before use; a damaged file gives an Error naming the file,
// the offset and what was wrong, never a crash. Arrays of arrays, which the GGUF specification
// allows but no writer produces and llama.cpp's reader rejects, are refused as Unsupported (GgufValue
// holds one level of elements). Tensor data must lie in the file, aligned and without overlaps.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/io/mapped_file.h"
#include "core/tensor/tensor_info.h"

namespace lowbit {

// GGUF metadata value types, with the numeric ids of the GGUF specification.
enum class GgufType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9,
  U64 = 10, I64 = 11, F64 = 12,
};

struct GgufValue {
  GgufType type = GgufType::U32;
  GgufType elem_type = GgufType::U32;  // for ARRAY
  // Scalars: integers in i/u, floats in f, bool in u, strings in s. Arrays keep their elements in
  // the vector matching their element type (strings in strs, integers in ints, floats in floats).
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
  std::string s;
  std::vector<std::string> strs;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  size_t array_size() const;
};

class GgufFile {
 public:
  static Expected<std::shared_ptr<GgufFile>> open(const std::filesystem::path& path);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  const std::string& path() const { return file_->path(); }

  // Keys in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;     // any integer type (and bool)
  std::optional<double> get_float(std::string_view key) const;    // any float or integer type
  const std::vector<TensorInfo>& tensors() const { return tensors_; }

 private:
  std::shared_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<TensorInfo> tensors_;
};

}  // namespace lowbit
