// SafetensorsWriter: writes a .safetensors file whose tensors are declared up front (name, dtype,
// shape) and whose data then arrives tensor by tensor, in any order (core/io/slot_file.h), so a
// producer never holds more than one tensor (calibration statistics block by block; GPTQ checkpoint export). The
// header follows the format exactly: an 8-byte little-endian length, JSON padded with spaces to a
// multiple of 8, data offsets relative to the data area, tensors packed in order. The file is
// written under a temporary name and renamed by finish(): a cancelled or failed job leaves nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/io/slot_file.h"
#include "core/tensor/dtype.h"
#include "core/util/expected.h"

namespace lowbit {

struct SafetensorsDecl {
  std::string name;
  DType dtype = DType::F32;  // F32, F16, BF16, F64, I8, I16, I32, I64, U8, BOOL
  std::vector<int64_t> shape;
};

// The safetensors spelling of a plain dtype ("F32", "BF16", ...); nullptr for ggml block types.
const char* safetensors_dtype_name(DType type);

class SafetensorsWriter {
 public:
  // Validates the declarations (known dtypes, unique names, non-negative shapes), writes the header.
  static Expected<SafetensorsWriter> create(const std::filesystem::path& path, std::vector<SafetensorsDecl> tensors,
                                            const std::map<std::string, std::string>& metadata = {});
  // Continues the .partial file an interrupted writer of the same declarations left (SlotFile::reopen);
  // the tensors named in `filled` are in it already.
  static Expected<SafetensorsWriter> reopen(const std::filesystem::path& path, const std::vector<SafetensorsDecl>& tensors,
                                            const std::map<std::string, std::string>& metadata, const std::vector<std::string>& filled);
  Expected<void> flush() { return file_.flush(); }
  void keep_partial() { file_.keep_partial(); }
  // The data of a declared tensor not yet written (any order); its size must be the declared shape ×
  // dtype size.
  Expected<void> write(const std::string& name, std::span<const uint8_t> bytes);
  Expected<void> write(const std::string& name, std::span<const float> values) {
    return write(name, {reinterpret_cast<const uint8_t*>(values.data()), values.size_bytes()});
  }
  // All tensors written: flushes, closes and renames the file into place.
  Expected<void> finish();
  // The size a file of these declarations would have, without writing it.
  static Expected<uint64_t> size_of(const std::vector<SafetensorsDecl>& tensors, const std::map<std::string, std::string>& metadata = {});

 private:
  explicit SafetensorsWriter(SlotFile file) : file_(std::move(file)) {}
  SlotFile file_;  // removes the temporary file unless finish() succeeded
};

}  // namespace lowbit
