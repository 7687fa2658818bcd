#include "core/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

namespace lowbit {
namespace {

Unexpected bad(const std::string& path, const std::string& what) {
  return make_error(ErrorCode::Format, path + ": not a valid safetensors file: " + what);
}

}  // namespace

Expected<std::shared_ptr<SafetensorsFile>> SafetensorsFile::open(const std::filesystem::path& path) {
  LB_TRY_ASSIGN(auto file, MappedFile::open(path));
  const std::string& p = file->path();
  if (file->size() < 8) return bad(p, "file is " + std::to_string(file->size()) + " bytes, shorter than the 8-byte header length");
  uint64_t header_len = 0;
  std::memcpy(&header_len, file->data(), 8);  // little-endian on every supported host
  if (header_len > file->size() - 8)
    return bad(p, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                      std::to_string(file->size()) + " bytes)");
  if (header_len > 100'000'000) return bad(p, "header length " + std::to_string(header_len) + " is absurd (over 100 MB)");

  const char* hbegin = reinterpret_cast<const char*>(file->data() + 8);
  nlohmann::json header;
  try {  // the parser's exception carries the position; it never leaves this function
    header = nlohmann::json::parse(hbegin, hbegin + header_len);
  } catch (const nlohmann::json::exception& e) {
    const auto* pe = dynamic_cast<const nlohmann::json::parse_error*>(&e);
    return bad(p, "header is not well-formed JSON" +
                      (pe ? " (byte " + std::to_string(8 + pe->byte - (pe->byte > 0)) + " of the file)" : std::string()) +
                      ": " + e.what());
  }
  if (!header.is_object()) return bad(p, "header is not a JSON object");

  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = file->size() - data_start;
  auto out = std::make_shared<SafetensorsFile>();
  struct Range { uint64_t begin, end; size_t index; };
  std::vector<Range> ranges;

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) return bad(p, "__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m)
        if (m.value().is_string()) out->metadata_[m.key()] = m.value().get<std::string>();
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!v.is_object()) return bad(p, where + " entry is not an object");
    auto dt = v.find("dtype");
    auto sh = v.find("shape");
    auto off = v.find("data_offsets");
    if (dt == v.end() || !dt->is_string()) return bad(p, where + " has no string 'dtype'");
    if (sh == v.end() || !sh->is_array()) return bad(p, where + " has no 'shape' array");
    if (off == v.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
      return bad(p, where + " has no 'data_offsets' pair of unsigned integers");
    const auto dtype = dtype_from_safetensors(dt->get<std::string>());
    if (!dtype)  // F8_E4M3, U16, ... are valid safetensors dtypes that no reader here handles yet
      return make_error(ErrorCode::Unsupported, p + ": " + where + " has unknown dtype '" + dt->get<std::string>() +
                                                    "' (expected F32, F16, BF16, F64, I8, I16, I32, I64, U8 or BOOL)");

    TensorInfo t;
    t.name = name;
    t.dtype = *dtype;
    t.file = p;
    uint64_t numel = 1;
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned()) return bad(p, where + " has a shape entry that is not a non-negative integer");
      const uint64_t dim = d.get<uint64_t>();
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return bad(p, where + " has a dimension of " + std::to_string(dim) + ", over 63 bits");
      if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / 16 / dim)
        return bad(p, where + " has a shape whose element count overflows");
      numel *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    const uint64_t begin = (*off)[0].get<uint64_t>();
    const uint64_t end = (*off)[1].get<uint64_t>();
    if (end < begin) return bad(p, where + " has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] that end before they begin");
    if (end > data_size)
      return bad(p, where + " has data_offsets ending at " + std::to_string(end) + ", past the data area of " +
                        std::to_string(data_size) + " bytes (file truncated?)");
    const uint64_t expect = dtype_bytes(t.dtype, numel);
    if (end - begin != expect)
      return bad(p, where + " is " + t.shape_string() + " " + dtype_name(t.dtype) + " = " + std::to_string(expect) +
                        " bytes, but its data_offsets span " + std::to_string(end - begin) + " bytes");
    t.data = file->data() + data_start + begin;
    t.nbytes = expect;
    t.file_offset = data_start + begin;
    ranges.push_back({begin, end, out->tensors_.size()});
    out->tensors_.push_back(std::move(t));
  }

  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  // Empty tensors (a dimension of 0) own no bytes and may sit anywhere, even inside another's range.
  const Range* last = nullptr;
  for (const auto& r : ranges) {
    if (r.begin == r.end) continue;
    if (last && r.begin < last->end)
      return bad(p, "tensors '" + out->tensors_[last->index].name + "' and '" + out->tensors_[r.index].name +
                        "' have overlapping byte ranges ([" + std::to_string(last->begin) + ", " +
                        std::to_string(last->end) + ") and [" + std::to_string(r.begin) + ", " + std::to_string(r.end) + "))");
    last = &r;
  }
  // Keep the tensors in file order: readers that stream a checkpoint then read it front to back.
  std::vector<TensorInfo> ordered;
  ordered.reserve(ranges.size());
  for (const auto& r : ranges) ordered.push_back(std::move(out->tensors_[r.index]));
  out->tensors_ = std::move(ordered);
  out->file_ = std::move(file);
  return out;
}

}  // namespace lowbit
