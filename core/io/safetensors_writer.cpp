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

namespace {

struct Layout {
  std::vector<uint8_t> header;  // length and JSON
  std::vector<SlotFile::Slot> slots;
  uint64_t file_size = 0;
};

Expected<Layout> layout(const std::filesystem::path& path, const std::vector<SafetensorsDecl>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  std::vector<SlotFile::Slot> slots;
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
    slots.push_back({t.name, offset, bytes});
    offset += bytes;
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  std::vector<uint8_t> head(8 + json.size());
  for (int i = 0; i < 8; ++i) head[static_cast<size_t>(i)] = static_cast<uint8_t>(static_cast<uint64_t>(json.size()) >> (8 * i));
  std::copy(json.begin(), json.end(), head.begin() + 8);
  for (auto& s : slots) s.offset += head.size();
  const uint64_t file_size = head.size() + offset;
  return Layout{std::move(head), std::move(slots), file_size};
}

}  // namespace

Expected<SafetensorsWriter> SafetensorsWriter::create(const std::filesystem::path& path, std::vector<SafetensorsDecl> tensors,
                                                      const std::map<std::string, std::string>& metadata) {
  LB_TRY_ASSIGN(Layout l, layout(path, tensors, metadata));
  LB_TRY_ASSIGN(SlotFile file, SlotFile::create(path, l.header, std::move(l.slots), l.file_size));
  return SafetensorsWriter(std::move(file));
}

Expected<SafetensorsWriter> SafetensorsWriter::reopen(const std::filesystem::path& path, const std::vector<SafetensorsDecl>& tensors,
                                                      const std::map<std::string, std::string>& metadata,
                                                      const std::vector<std::string>& filled) {
  LB_TRY_ASSIGN(Layout l, layout(path, tensors, metadata));
  LB_TRY_ASSIGN(SlotFile file, SlotFile::reopen(path, l.header, std::move(l.slots), l.file_size, filled));
  return SafetensorsWriter(std::move(file));
}

Expected<uint64_t> SafetensorsWriter::size_of(const std::vector<SafetensorsDecl>& tensors, const std::map<std::string, std::string>& metadata) {
  LB_TRY_ASSIGN(const Layout l, layout("(size estimate)", tensors, metadata));
  return l.file_size;
}

Expected<void> SafetensorsWriter::write(const std::string& name, std::span<const uint8_t> bytes) { return file_.write(name, bytes); }

Expected<void> SafetensorsWriter::finish() {
  LB_TRY_VOID(file_.finish());
  return {};
}

}  // namespace lowbit
