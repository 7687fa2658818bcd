// Model: what opening a checkpoint gives the CLI and the studio — the checkpoint (memory-mapped),
// its architecture description and its tokenizer (tokenizer.json beside the weights, or the GGUF's
// own). Weights are loaded separately (load_model) because opening must stay cheap: `lowbit info` on a
// multi-GB checkpoint reads headers only.
#pragma once

#include <filesystem>
#include <memory>

#include "core/calib/calibration.h"
#include "core/io/checkpoint.h"
#include "core/model/config.h"
#include "core/tokenizer/tokenizer.h"

namespace lowbit {

struct Model {
  std::shared_ptr<Checkpoint> checkpoint;
  ModelConfig config;
  std::shared_ptr<Tokenizer> tokenizer;  // null when the checkpoint has none
};

// Opens the checkpoint and reads its config; the tokenizer is opened when `with_tokenizer`, and a
// missing or broken one is then an error naming the file.
Expected<Model> open_model(const std::filesystem::path& path, bool with_tokenizer);

// Tokenizes `text` for evaluation with `tokenizer`: add_bos prepends BOS where the tokenizer adds one.
Expected<std::vector<int32_t>> tokenize_text(const Tokenizer& tokenizer, const std::string& text, bool add_bos,
                                             const std::string& source_name);

// The text file at `path` read and tokenized without BOS (evaluation and calibration text); errors
// name the file.
Expected<std::vector<int32_t>> tokenize_file(const Tokenizer& tokenizer, const std::string& path);

// The calibration windows of `options` drawn from the text file `path` (errors name the file).
Expected<std::vector<int32_t>> calibration_windows(const Tokenizer& tokenizer, const std::string& path,
                                                   const CalibOptions& options);

}  // namespace lowbit
