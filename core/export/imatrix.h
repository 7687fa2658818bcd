// Importance matrix for llama.cpp (`llama-quantize --imatrix FILE`), from a saved calibration set:
// for every linear layer, per input channel, the mean of x² over the calibration tokens — what
// llama-imatrix accumulates (tools/imatrix/imatrix.cpp: Σ x² per channel over every token row
// of each matrix product, and a count of rows). With H = 2/n Σ x xᵀ that mean is H[c, c] / 2.
// Entries are named by the GGUF tensor that reads the input (blk.N.attn_q.weight, …; every layer of
// q/k/v, or of gate/up, gets its input's values), sorted by name as llama-imatrix writes them.
// Two formats, chosen by the file name:
//   *.dat  the legacy binary format (save_imatrix_legacy, read by load_imatrix_legacy): int32 entry
//          count; per entry int32 name length, the name, int32 ncall, int32 nval, nval float32
//          values = mean x² · ncall (quantize divides by ncall); then int32 chunk count and int32
//          length + the dataset file name. ncall is the number of chunks: ceil(tokens / ctx), i.e.
//          the calibration windows. All little-endian.
//   other  the GGUF format (save_imatrix, read by common_imatrix_load): general.type "imatrix",
//          imatrix.datasets, imatrix.chunk_count, imatrix.chunk_size (= ctx), and per entry F32
//          tensors `<name>.in_sum2` (Σ x², ne = [channels, 1]) and `<name>.counts` (tokens, ne = [1, 1]);
//          llama-quantize divides one by the other. (`<name>.in_sum`, Σ x, is optional and not
//          written: the calibration keeps mean |x|, not the mean of x.)
// Files are written under a temporary name and renamed at the end.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/calib/analyze.h"
#include "core/jobs/progress.h"
#include "core/model/config.h"
#include "core/model/tensor_names.h"

namespace lowbit {

// `gguf_names`: tensor_names(config, /*gguf_naming=*/true).
Expected<void> write_imatrix(const CalibrationSet& calib, const ModelConfig& config, const ModelTensorNames& gguf_names,
                             const std::filesystem::path& out, Progress* progress = nullptr,
                             const CancelToken* cancel = nullptr);

// A legacy .dat importance matrix as stored.
struct LegacyImatrixEntry {
  std::string name;
  int32_t ncall = 0;
  std::vector<float> values;  // mean x² · ncall
};
struct LegacyImatrix {
  std::vector<LegacyImatrixEntry> entries;
  int32_t chunks = -1;  // -1 when the optional trailer is absent
  std::string dataset;
};
// Reads a .dat file, checking every length against the file; errors name the file and the offset.
Expected<LegacyImatrix> read_imatrix_dat(const std::filesystem::path& path);

}  // namespace lowbit
