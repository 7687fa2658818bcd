// GgufWriter: writes a GGUF v3 file whose metadata and tensors are declared up front (so the header,
// with every tensor's offset, goes out first) and whose tensor data then arrives tensor by tensor, in
// any order (core/io/slot_file.h): an exporter holds one tensor at a time. Layout as the GGUF specification and
// llama.cpp's gguf writer: magic, version 3, tensor and key/value counts, key/values, tensor infos
// (ggml's ne[] is the row-major shape reversed; offsets relative to the data section), padding to
// the alignment (general.alignment, default 32) before the data and after every tensor. The file
// is written under a temporary name and renamed by finish(): a cancelled or failed export, or a
// full disk, leaves nothing behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/io/gguf.h"
#include "core/io/slot_file.h"
#include "core/tensor/dtype.h"
#include "core/util/expected.h"

namespace lowbit {

struct GgufTensorDecl {
  std::string name;
  DType dtype = DType::F32;    // a type ggml knows (f32, f16, bf16, the block types, i8 … i64)
  std::vector<int64_t> shape;  // row-major, outermost first
};

// Metadata values, built in the order they should appear in the file.
class GgufMetadata {
 public:
  void set_string(const std::string& key, std::string v);
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_strings(const std::string& key, std::vector<std::string> v);
  void set_i32s(const std::string& key, std::vector<int64_t> v);
  void set_f32s(const std::string& key, std::vector<double> v);
  // Any value as a reader found it (copying keys from another GGUF).
  void set(const std::string& key, GgufValue v);
  const std::vector<std::pair<std::string, GgufValue>>& entries() const { return entries_; }
  const GgufValue* find(const std::string& key) const;

 private:
  std::vector<std::pair<std::string, GgufValue>> entries_;
};

class GgufWriter {
 public:
  // Validates the declarations (ggml types, unique names, rows whole blocks), writes the header.
  static Expected<GgufWriter> create(const std::filesystem::path& path, const GgufMetadata& metadata,
                                     std::vector<GgufTensorDecl> tensors);
  // The data of a declared tensor not yet written: exactly its bytes (dtype_bytes of its elements).
  Expected<void> write(const std::string& name, std::span<const uint8_t> bytes);
  // All tensors written: flushes, closes and renames into place. Returns the file's size.
  Expected<uint64_t> finish();

  // Bytes the file will have (header, padding and data), known after create().
  uint64_t file_size() const { return file_size_; }
  // The size a file of these declarations would have, without writing it.
  static Expected<uint64_t> size_of(const GgufMetadata& metadata, const std::vector<GgufTensorDecl>& tensors);

 private:
  GgufWriter(SlotFile file, uint64_t file_size) : file_(std::move(file)), file_size_(file_size) {}
  SlotFile file_;  // removes the temporary file unless finish() succeeded
  uint64_t file_size_ = 0;
};

}  // namespace lowbit
