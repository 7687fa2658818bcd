#include "core/export/imatrix.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>

#include "core/io/gguf_writer.h"
#include "core/io/mapped_file.h"

namespace lowbit {
namespace fs = std::filesystem;
namespace {

// The GGUF tensors that read a block's input (fused ones once; gpt2 has no gate).
std::vector<std::string> readers(const BlockTensorNames& n, LinearInput input) {
  std::vector<std::string> r;
  auto add = [&](const std::string& s) {
    if (!s.empty()) r.push_back(s);
  };
  switch (input) {
    case LinearInput::kQkv:
      if (!n.qkv.empty())
        add(n.qkv);
      else
        for (const auto* s : {&n.q, &n.k, &n.v}) add(*s);
      break;
    case LinearInput::kO:
      add(n.o);
      break;
    case LinearInput::kGateUp:
      if (!n.gate_up.empty())
        add(n.gate_up);
      else
        for (const auto* s : {&n.gate, &n.up}) add(*s);
      break;
    case LinearInput::kDown:
      add(n.down);
      break;
  }
  return r;
}

Expected<int64_t> info_int(const nlohmann::json& info, const char* key, const std::string& where) {
  auto it = info.find(key);
  if (it == info.end() || !it->is_number_integer() || it->get<int64_t>() <= 0)
    return make_error(ErrorCode::Format, where + ": '" + key + "' is missing or not a positive count");
  return it->get<int64_t>();
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

template <class T>
void put(std::string& b, T v) {
  b.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

}  // namespace

Expected<void> write_imatrix(const CalibrationSet& calib, const ModelConfig& config, const ModelTensorNames& gguf_names,
                             const fs::path& out, Progress* progress, const CancelToken* cancel) {
  const std::string where = "calibration set";
  if (calib.blocks() != config.n_layers || static_cast<int64_t>(gguf_names.blocks.size()) != config.n_layers)
    return make_error(ErrorCode::InvalidArgument, "imatrix: the calibration set has " + std::to_string(calib.blocks()) +
                                                      " blocks, the model " + std::to_string(config.n_layers));
  LB_TRY_ASSIGN(const int64_t tokens, info_int(calib.info(), "tokens", where));
  LB_TRY_ASSIGN(const int64_t ctx, info_int(calib.info(), "ctx", where));
  const std::string dataset = calib.info().contains("text") && calib.info()["text"].is_string()
                                  ? calib.info()["text"].get<std::string>()
                                  : std::string();
  // llama-imatrix's ncall: chunks of ctx tokens, rounded up ("to avoid accidental zeros").
  const int32_t ncall = static_cast<int32_t>((tokens + ctx - 1) / ctx);

  // name → mean x² per input channel (= H[c, c] / 2), sorted by name as llama-imatrix stores them.
  std::map<std::string, std::vector<float>> mean_sq;
  for (int64_t b = 0; b < config.n_layers; ++b) {
    if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "imatrix export cancelled");
    for (LinearInput input : kLinearInputs) {
      const int64_t c = linear_input_channels(config, input);
      if (calib.channels(b, input) != c)
        return make_error(ErrorCode::InvalidArgument,
                          "imatrix: block " + std::to_string(b) + " input " + linear_input_name(input) + " has " +
                              std::to_string(calib.channels(b, input)) + " channels in the calibration set, " +
                              std::to_string(c) + " in the model (a calibration of another model?)");
      LB_TRY_ASSIGN(const std::vector<float> h, calib.hessian(b, input));
      std::vector<float> d(static_cast<size_t>(c));
      for (int64_t i = 0; i < c; ++i) d[static_cast<size_t>(i)] = h[static_cast<size_t>(i * c + i)] / 2;
      for (const auto& name : readers(gguf_names.blocks[static_cast<size_t>(b)], input)) mean_sq[name] = d;
    }
    if (progress)
      progress->report(0.8 * static_cast<double>(b + 1) / static_cast<double>(config.n_layers),
                       "imatrix block " + std::to_string(b));
  }

  if (ends_with(out.filename().string(), ".dat")) {
    std::string bytes;
    put<int32_t>(bytes, static_cast<int32_t>(mean_sq.size()));
    for (const auto& [name, v] : mean_sq) {
      put<int32_t>(bytes, static_cast<int32_t>(name.size()));
      bytes += name;
      put<int32_t>(bytes, ncall);
      put<int32_t>(bytes, static_cast<int32_t>(v.size()));
      // As save_imatrix_legacy: (Σ x² / count) · ncall, in float.
      for (float m : v) put<float>(bytes, m * static_cast<float>(ncall));
    }
    put<int32_t>(bytes, ncall);  // chunks the matrix was computed with
    put<int32_t>(bytes, static_cast<int32_t>(dataset.size()));
    bytes += dataset;
    fs::path temp = out;
    temp += ".partial";
    {
      std::ofstream f(temp, std::ios::binary | std::ios::trunc);
      f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      f.close();
      if (!f) {
        std::error_code ec;
        fs::remove(temp, ec);
        return make_error(ErrorCode::Io, temp.string() + ": cannot be written");
      }
    }
    std::error_code ec;
    fs::rename(temp, out, ec);
    if (ec) {
      fs::remove(temp, ec);
      return make_error(ErrorCode::Io, out.string() + ": cannot be moved into place");
    }
  } else {
    GgufMetadata meta;
    meta.set_string("general.type", "imatrix");
    meta.set_strings("imatrix.datasets",
                     dataset.empty() ? std::vector<std::string>{} : std::vector<std::string>{dataset});
    meta.set_u32("imatrix.chunk_count", static_cast<uint32_t>(ncall));
    meta.set_u32("imatrix.chunk_size", static_cast<uint32_t>(ctx));
    std::vector<GgufTensorDecl> decls;
    for (const auto& [name, v] : mean_sq) {
      decls.push_back({name + ".in_sum2", DType::F32, {1, static_cast<int64_t>(v.size())}});
      decls.push_back({name + ".counts", DType::F32, {1, 1}});
    }
    LB_TRY_ASSIGN(GgufWriter w, GgufWriter::create(out, meta, std::move(decls)));
    const float count = static_cast<float>(tokens);
    for (const auto& [name, v] : mean_sq) {
      std::vector<float> sum2(v.size());
      for (size_t i = 0; i < v.size(); ++i) sum2[i] = v[i] * count;
      LB_TRY_VOID(
          w.write(name + ".in_sum2", {reinterpret_cast<const uint8_t*>(sum2.data()), sum2.size() * sizeof(float)}));
      LB_TRY_VOID(w.write(name + ".counts", {reinterpret_cast<const uint8_t*>(&count), sizeof(float)}));
    }
    if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "imatrix export cancelled");
    LB_TRY_VOID(w.finish());
  }
  if (progress) progress->report(1.0, "imatrix written");
  return {};
}

Expected<LegacyImatrix> read_imatrix_dat(const fs::path& path) {
  LB_TRY_ASSIGN(auto file, MappedFile::open(path));
  const uint8_t* p = file->data();
  const uint64_t size = file->size();
  uint64_t at = 0;
  auto fail = [&](const std::string& what) {
    return make_error(ErrorCode::Format, path.string() + ": at offset " + std::to_string(at) + ": " + what);
  };
  auto read_i32 = [&](int32_t& v) {
    if (size - at < 4) return false;
    std::memcpy(&v, p + at, 4);
    at += 4;
    return true;
  };
  LegacyImatrix m;
  int32_t n = 0;
  if (!read_i32(n) || n < 1) return fail("expected a positive int32 entry count");
  for (int32_t e = 0; e < n; ++e) {
    LegacyImatrixEntry entry;
    int32_t len = 0;
    if (!read_i32(len) || len < 1 || static_cast<uint64_t>(len) > size - at)
      return fail("entry " + std::to_string(e) + ": name length out of range");
    entry.name.assign(reinterpret_cast<const char*>(p + at), static_cast<size_t>(len));
    at += static_cast<uint64_t>(len);
    int32_t nval = 0;
    if (!read_i32(entry.ncall) || !read_i32(nval) || nval < 1 || static_cast<uint64_t>(nval) > (size - at) / 4)
      return fail("entry '" + entry.name + "': ncall or value count missing or out of range");
    entry.values.resize(static_cast<size_t>(nval));
    std::memcpy(entry.values.data(), p + at, static_cast<size_t>(nval) * 4);
    at += static_cast<uint64_t>(nval) * 4;
    m.entries.push_back(std::move(entry));
  }
  // The trailer (chunk count, dataset name) is optional, as llama.cpp's reader treats it.
  if (at == size) return m;
  int32_t len = 0;
  if (!read_i32(m.chunks)) return fail("truncated chunk count");
  if (at == size) return m;
  if (!read_i32(len) || len < 0 || static_cast<uint64_t>(len) > size - at)
    return fail("dataset name length out of range");
  m.dataset.assign(reinterpret_cast<const char*>(p + at), static_cast<size_t>(len));
  at += static_cast<uint64_t>(len);
  if (at != size) return fail("unexpected bytes after the dataset name");
  return m;
}

}  // namespace lowbit
