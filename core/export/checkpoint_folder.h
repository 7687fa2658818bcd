// FolderExport: what the exports that write a Hugging Face checkpoint folder (GPTQ, onebit) share.
// The source must be a safetensors checkpoint with config.json beside it; the output is assembled in
// a temporary sibling folder that takes the target's place only when complete, so an error or a
// cancel leaves nothing behind. An existing target is replaced only when it is empty or an earlier
// export of the same kind, never when it is (or holds) the source.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/model/model.h"
#include "core/util/expected.h"

namespace lowbit {

class FolderExport {
 public:
  // `kind` names the export in errors ("GPTQ", "onebit"); `is_ours` tells whether a config.json found
  // in an existing target folder is one this export wrote (the folder may then be replaced).
  static Expected<FolderExport> begin(const Model& source, const std::filesystem::path& out_dir, const std::string& kind,
                                      const std::function<bool(const nlohmann::json&)>& is_ours);

  FolderExport(FolderExport&& other) noexcept;
  FolderExport& operator=(FolderExport&&) = delete;
  FolderExport(const FolderExport&) = delete;
  FolderExport& operator=(const FolderExport&) = delete;
  // Removes the temporary folder unless finish() moved it into place.
  ~FolderExport();

  // The source's config.json, in its own key order.
  Expected<nlohmann::ordered_json> source_config() const;
  // Where the output files are written until finish().
  const std::filesystem::path& temp() const { return temp_; }
  // Writes `text` to the file `name` of the temporary folder.
  Expected<void> write_text(const std::string& name, const std::string& text) const;
  // Copies the source's tokenizer and generation files, moves the folder into place and returns the
  // bytes of its files.
  Expected<uint64_t> finish();

 private:
  FolderExport() = default;
  std::string kind_;
  std::filesystem::path source_dir_;  // the source's folder ("." for a file in the working folder)
  std::filesystem::path target_;      // canonical output folder
  std::filesystem::path temp_;        // empty once moved into place (or moved from)
};

}  // namespace lowbit
