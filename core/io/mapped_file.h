// MappedFile: a read-only memory map of a whole file (RAII). Checkpoint readers hand out pointers
// into it, so tensors are never copied on open and the OS pages data in only when it is read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "core/util/expected.h"

namespace lowbit {

class MappedFile {
 public:
  static Expected<std::shared_ptr<MappedFile>> open(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  std::string path_;
};

// Tells the OS this process is done with bytes [p, p + n) of a mapping (the whole pages inside it):
// they leave its resident set but stay in the page cache, and reading them again maps them back.
void drop_mapped_pages(const uint8_t* p, uint64_t n);

// Reads a whole (small) text file, e.g. config.json or an evaluation text.
Expected<std::string> read_text_file(const std::filesystem::path& path);
// Writes `text` to path.partial and renames it into place: readers never see a half-written file,
// and a failed write leaves nothing behind.
Expected<void> write_text_file_atomic(const std::filesystem::path& path, const std::string& text);

}  // namespace lowbit
