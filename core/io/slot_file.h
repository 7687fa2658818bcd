// SlotFile: the file a header-first writer (GGUF, safetensors) fills. The header is written at
// creation; every tensor then has a slot — a byte range declared up front — and slots are filled in
// any order, each exactly once, so a streaming exporter can write a block's tensors as soon as they
// exist and the model-wide ones (embeddings, head) at the end, with the same bytes as a writer that
// went in file order. Gaps between slots (alignment padding) read as zeros. Everything goes to
// `path`.partial, renamed by finish(); a file that was not finished is removed, unless keep_partial()
// was called: a resumable job keeps it, and its next run reopen()s it and fills the remaining slots.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/util/expected.h"

namespace lowbit {

class SlotFile {
 public:
  struct Slot {
    std::string name;
    uint64_t offset = 0;  // absolute, in the file
    uint64_t size = 0;
  };
  // Creates `path`.partial holding `header`; the file's final size is `file_size` (≥ every slot's end).
  static Expected<SlotFile> create(const std::filesystem::path& path, std::span<const uint8_t> header, std::vector<Slot> slots,
                                   uint64_t file_size);
  // Continues `path`.partial, left by an interrupted writer of the same declarations: its header must
  // be `header` byte for byte and its size `file_size`; the slots named in `filled` count as written.
  static Expected<SlotFile> reopen(const std::filesystem::path& path, std::span<const uint8_t> header, std::vector<Slot> slots,
                                   uint64_t file_size, const std::vector<std::string>& filled);
  SlotFile(SlotFile&&) noexcept;
  SlotFile& operator=(SlotFile&&) noexcept;
  ~SlotFile();

  // Fills slot `name` with exactly its size in bytes.
  Expected<void> write(const std::string& name, std::span<const uint8_t> bytes);
  // Hands what was written to the system: a process killed after this leaves it in the .partial file.
  Expected<void> flush();
  // Keeps the .partial file if the writer ends unfinished (for reopen()).
  void keep_partial() { keep_ = true; }
  // Every slot filled: flushes, closes and renames into place. Returns the file's size.
  Expected<uint64_t> finish();
  size_t slots() const { return slots_.size(); }
  size_t written() const { return written_count_; }

 private:
  SlotFile() = default;
  std::filesystem::path path_, temp_;
  std::vector<Slot> slots_;
  std::map<std::string, size_t> index_;
  std::vector<bool> written_;
  size_t written_count_ = 0;
  uint64_t file_size_ = 0;
  std::ofstream out_;
  bool done_ = false;
  bool keep_ = false;
};

}  // namespace lowbit
