#include "core/io/slot_file.h"

namespace lowbit {

Expected<SlotFile> SlotFile::create(const std::filesystem::path& path, std::span<const uint8_t> header, std::vector<Slot> slots,
                                    uint64_t file_size) {
  SlotFile f;
  f.path_ = path;
  f.temp_ = path;
  f.temp_ += ".partial";
  f.file_size_ = file_size;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i].offset < header.size() || slots[i].offset + slots[i].size > file_size)
      return make_error(ErrorCode::InvalidArgument, path.string() + ": tensor " + slots[i].name + " lies outside the file's data");
    if (!f.index_.emplace(slots[i].name, i).second)
      return make_error(ErrorCode::InvalidArgument, path.string() + ": tensor name '" + slots[i].name + "' is repeated");
  }
  f.slots_ = std::move(slots);
  f.written_.assign(f.slots_.size(), false);
  f.out_.open(f.temp_, std::ios::binary | std::ios::trunc);
  if (!f.out_) return make_error(ErrorCode::Io, f.temp_.string() + ": cannot be created for writing");
  f.out_.write(reinterpret_cast<const char*>(header.data()), static_cast<std::streamsize>(header.size()));
  if (!f.out_) return make_error(ErrorCode::Io, f.temp_.string() + ": writing the header failed (disk full?)");
  return f;
}

SlotFile::SlotFile(SlotFile&&) noexcept = default;
SlotFile& SlotFile::operator=(SlotFile&&) noexcept = default;

SlotFile::~SlotFile() {
  if (!done_ && !temp_.empty()) {
    if (out_.is_open()) out_.close();
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
  }
}

Expected<void> SlotFile::write(const std::string& name, std::span<const uint8_t> bytes) {
  auto it = index_.find(name);
  if (it == index_.end()) return make_error(ErrorCode::InvalidArgument, path_.string() + ": tensor " + name + " was not declared");
  const size_t i = it->second;
  if (written_[i]) return make_error(ErrorCode::InvalidArgument, path_.string() + ": tensor " + name + " was already written");
  if (bytes.size() != slots_[i].size)
    return make_error(ErrorCode::InvalidArgument, path_.string() + ": tensor " + name + " has " + std::to_string(bytes.size()) +
                                                      " bytes; its declaration needs " + std::to_string(slots_[i].size));
  out_.seekp(static_cast<std::streamoff>(slots_[i].offset));
  out_.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out_) return make_error(ErrorCode::Io, temp_.string() + ": writing tensor " + name + " failed (disk full?)");
  written_[i] = true;
  ++written_count_;
  return {};
}

Expected<uint64_t> SlotFile::finish() {
  if (written_count_ != slots_.size()) {
    size_t first = 0;
    while (first < slots_.size() && written_[first]) ++first;
    return make_error(ErrorCode::InvalidArgument, path_.string() + ": " + std::to_string(slots_.size() - written_count_) +
                                                      " declared tensors were not written (the first: " + slots_[first].name + ")");
  }
  // The trailing padding: the file ends where the declarations say, whichever slot was written last.
  out_.seekp(0, std::ios::end);
  const auto end = static_cast<uint64_t>(out_.tellp());
  if (end < file_size_) {
    const std::vector<char> zeros(static_cast<size_t>(file_size_ - end), 0);
    out_.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
  out_.flush();
  if (!out_) return make_error(ErrorCode::Io, temp_.string() + ": flushing failed (disk full?)");
  out_.close();
  std::error_code ec;
  std::filesystem::rename(temp_, path_, ec);
  if (ec) return make_error(ErrorCode::Io, path_.string() + ": cannot rename " + temp_.filename().string() + " into place: " + ec.message());
  done_ = true;
  return std::filesystem::file_size(path_);
}

}  // namespace lowbit
