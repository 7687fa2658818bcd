#include "core/io/safetensors_writer.h"

#include <nlohmann/json.hpp>
#include <set>

namespace lowbit {

const char* safetensors_dtype_name(DType type) {
  switch (type) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F64: return "F64";
    case DType::I8: return "I8";
    case DType::I16: return "I16";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::U8: return "U8";
    case DType::BOOL: return "BOOL";
    default: return nullptr;
  }
}

Expected<SafetensorsWriter> SafetensorsWriter::create(const std::filesystem::path& path, std::vector<SafetensorsDecl> tensors,
                                                      const std::map<std::string, std::string>& metadata) {
  SafetensorsWriter w;
  w.path_ = path;
  w.temp_ = path;
  w.temp_ += ".partial";
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    const char* dt = safetensors_dtype_name(t.dtype);
    if (!dt) return make_error(ErrorCode::InvalidArgument, path.string() + ": tensor " + t.name + " has dtype " +
                                                               dtype_name(t.dtype) + ", which safetensors cannot store");
    if (t.name.empty() || t.name == "__metadata__" || !names.insert(t.name).second)
      return make_error(ErrorCode::InvalidArgument, path.string() + ": tensor name '" + t.name + "' is empty, reserved or repeated");
    uint64_t n = 1;
    for (int64_t d : t.shape) {
      if (d < 0) return make_error(ErrorCode::InvalidArgument, path.string() + ": tensor " + t.name + " has a negative dimension");
      n *= static_cast<uint64_t>(d);
    }
    const uint64_t bytes = dtype_bytes(t.dtype, n);
    header[t.name] = {{"dtype", dt}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    w.sizes_.push_back(bytes);
    offset += bytes;
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  w.tensors_ = std::move(tensors);
  w.out_.open(w.temp_, std::ios::binary | std::ios::trunc);
  if (!w.out_) return make_error(ErrorCode::Io, w.temp_.string() + ": cannot be created for writing");
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(json.size()) >> (8 * i));
  w.out_.write(reinterpret_cast<const char*>(len), 8);
  w.out_.write(json.data(), static_cast<std::streamsize>(json.size()));
  if (!w.out_) return make_error(ErrorCode::Io, w.temp_.string() + ": writing the header failed");
  return w;
}

SafetensorsWriter::SafetensorsWriter(SafetensorsWriter&&) noexcept = default;
SafetensorsWriter& SafetensorsWriter::operator=(SafetensorsWriter&&) noexcept = default;

SafetensorsWriter::~SafetensorsWriter() {
  if (!done_ && !temp_.empty()) {
    if (out_.is_open()) out_.close();
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
  }
}

Expected<void> SafetensorsWriter::write(const std::string& name, std::span<const uint8_t> bytes) {
  if (next_ >= tensors_.size())
    return make_error(ErrorCode::InvalidArgument, path_.string() + ": tensor " + name + " was not declared (all are written)");
  if (tensors_[next_].name != name)
    return make_error(ErrorCode::InvalidArgument,
                      path_.string() + ": tensor " + name + " written out of order; expected " + tensors_[next_].name);
  if (bytes.size() != sizes_[next_])
    return make_error(ErrorCode::InvalidArgument, path_.string() + ": tensor " + name + " has " + std::to_string(bytes.size()) +
                                                      " bytes; its declaration needs " + std::to_string(sizes_[next_]));
  out_.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out_) return make_error(ErrorCode::Io, temp_.string() + ": writing tensor " + name + " failed (disk full?)");
  ++next_;
  return {};
}

Expected<void> SafetensorsWriter::finish() {
  if (next_ != tensors_.size())
    return make_error(ErrorCode::InvalidArgument, path_.string() + ": " + std::to_string(tensors_.size() - next_) +
                                                      " declared tensors were not written (next: " + tensors_[next_].name + ")");
  out_.flush();
  out_.close();
  if (!out_) return make_error(ErrorCode::Io, temp_.string() + ": closing failed (disk full?)");
  std::error_code ec;
  std::filesystem::rename(temp_, path_, ec);
  if (ec) return make_error(ErrorCode::Io, path_.string() + ": cannot be moved into place: " + ec.message());
  done_ = true;
  return {};
}

}  // namespace lowbit
