#include "core/io/slot_file.h"

#include <algorithm>

namespace lowbit {

namespace {

Expected<void> check_slots(const std::filesystem::path& path, size_t header_size, const std::vector<SlotFile::Slot>& slots,
                           uint64_t file_size, std::map<std::string, size_t>& index) {
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i].offset < header_size || slots[i].offset + slots[i].size > file_size)
      return make_error(ErrorCode::InvalidArgument, path.string() + ": tensor " + slots[i].name + " lies outside the file's data");
    if (!index.emplace(slots[i].name, i).second)
      return make_error(ErrorCode::InvalidArgument, path.string() + ": tensor name '" + slots[i].name + "' is repeated");
  }
  return {};
}

}  // namespace

Expected<SlotFile> SlotFile::reopen(const std::filesystem::path& path, std::span<const uint8_t> header, std::vector<Slot> slots,
                                    uint64_t file_size, const std::vector<std::string>& filled) {
  SlotFile f;
  f.path_ = path;
  f.temp_ = path;
  f.temp_ += ".partial";
  f.file_size_ = file_size;
  f.keep_ = true;  // a failure here leaves the file as it was found
  LB_TRY_VOID(check_slots(path, header.size(), slots, file_size, f.index_));
  std::error_code ec;
  const auto size = std::filesystem::file_size(f.temp_, ec);
  if (ec) return make_error(ErrorCode::Io, f.temp_.string() + ": the interrupted run's file is missing: " + ec.message());
  std::vector<uint8_t> head(header.size());
  {
    std::ifstream in(f.temp_, std::ios::binary);
    in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
    if (!in || !std::equal(head.begin(), head.end(), header.begin()) || size > file_size)
      return make_error(ErrorCode::Format, f.temp_.string() + ": not the file this run declares (another run left it)");
  }
  f.slots_ = std::move(slots);
  f.written_.assign(f.slots_.size(), false);
  for (const std::string& name : filled) {
    auto it = f.index_.find(name);
    if (it == f.index_.end()) return make_error(ErrorCode::InvalidArgument, f.temp_.string() + ": tensor " + name + " was not declared");
    if (f.slots_[it->second].offset + f.slots_[it->second].size > size)
      return make_error(ErrorCode::Format, f.temp_.string() + ": tensor " + name + " is not in the file (it was cut short)");
    if (!f.written_[it->second]) ++f.written_count_;
    f.written_[it->second] = true;
  }
  f.out_.open(f.temp_, std::ios::binary | std::ios::in | std::ios::out);
  if (!f.out_) return make_error(ErrorCode::Io, f.temp_.string() + ": cannot be opened for writing");
  f.keep_ = false;
  return f;
}

Expected<SlotFile> SlotFile::create(const std::filesystem::path& path, std::span<const uint8_t> header, std::vector<Slot> slots,
                                    uint64_t file_size) {
  SlotFile f;
  f.path_ = path;
  f.temp_ = path;
  f.temp_ += ".partial";
  f.file_size_ = file_size;
  LB_TRY_VOID(check_slots(path, header.size(), slots, file_size, f.index_));
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
    if (!keep_) std::filesystem::remove(temp_, ec);
  }
}

Expected<void> SlotFile::flush() {
  out_.flush();
  if (!out_) return make_error(ErrorCode::Io, temp_.string() + ": flushing failed (disk full?)");
  return {};
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
