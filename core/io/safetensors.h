// SafetensorsFile: a memory-mapped .safetensors file. open() validates the whole header before any
// tensor is handed out — the 8-byte length lies within the file, the JSON is well-formed, every
// dtype is known, every shape × dtype size equals its byte range, ranges lie inside the data area
// and do not overlap — and never reads tensor data, so opening a multi-GB shard costs only its header.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/io/mapped_file.h"
#include "core/tensor/tensor_info.h"

namespace lowbit {

class SafetensorsFile {
 public:
  static Expected<std::shared_ptr<SafetensorsFile>> open(const std::filesystem::path& path);

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const MappedFile& file() const { return *file_; }

 private:
  std::shared_ptr<MappedFile> file_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace lowbit
