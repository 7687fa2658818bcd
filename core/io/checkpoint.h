// Checkpoint: a set of named tensors, memory-mapped, never copied whole. Opens a Hugging Face
// folder (config.json + model.safetensors or shards listed in model.safetensors.index.json, and
// tokenizer.json), a single .safetensors file (config.json beside it is used if present) or a .gguf
// file. Tensors keep the checkpoint's own names; shapes are row-major (see TensorInfo). A GPTQ
// checkpoint (config.json's quantization_config.quant_method "gptq") lists each quantized layer's
// `<module>.weight` in place of its packed tensors, dequantized on read (core/io/gptq_format.h), so
// loading and evaluation work on it unchanged; a onebit checkpoint (quant_method "lowbit-onebit")
// likewise lists each 1-bit layer's dense weight (core/io/onebit_format.h).
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/io/gguf.h"
#include "core/io/safetensors.h"

namespace lowbit {

class Checkpoint {
 public:
  enum class Kind { HfFolder, Safetensors, Gguf };

  static Expected<std::shared_ptr<Checkpoint>> open(const std::filesystem::path& path);

  Kind kind() const { return kind_; }
  const char* kind_name() const;
  const std::filesystem::path& path() const { return path_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find(std::string_view name) const;
  // The tensor `name` as fp32 (widened or dequantized); an error names the checkpoint and tensor.
  Expected<std::vector<float>> read_f32(std::string_view name) const;

  // config.json for Hugging Face checkpoints (null json when there is none).
  const nlohmann::json& config() const { return config_; }
  // The GGUF file for GGUF checkpoints (nullptr otherwise).
  const GgufFile* gguf() const { return gguf_.get(); }
  // tokenizer.json beside the weights (empty path when there is none).
  const std::filesystem::path& tokenizer_json() const { return tokenizer_json_; }
  // Bytes of all weight files on disk.
  uint64_t file_bytes() const { return file_bytes_; }
  uint64_t parameter_count() const;

 private:
  Kind kind_ = Kind::HfFolder;
  std::filesystem::path path_;
  std::vector<std::shared_ptr<SafetensorsFile>> shards_;
  std::shared_ptr<GgufFile> gguf_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> index_;
  nlohmann::json config_;
  std::filesystem::path tokenizer_json_;
  uint64_t file_bytes_ = 0;

  Expected<void> add_tensors(const std::vector<TensorInfo>& ts);
  Expected<void> resolve_gptq(const std::filesystem::path& config_path);
  Expected<void> resolve_onebit(const std::filesystem::path& config_path);
};

}  // namespace lowbit
