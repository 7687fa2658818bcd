// A resume folder: what an interrupted job left for its next run, beside the job's output
// (`OUT.resume/`). run.json holds the job's fingerprint (what it reads and how: model files, options,
// a hash of the calibration tokens) and the folder's format version; a folder of another run or
// another version is an error naming it, never silently mixed in. Without `resume` a stale folder is
// cleared and a fresh run.json written. The job's own files go beside run.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "core/util/expected.h"

namespace lowbit {

// Returns true when `dir` holds an earlier run of this fingerprint to resume from. With
// `other_runs_start_fresh` (the studio, which resumes on its own) a folder of another run, another
// version or a damaged run.json is cleared for a fresh run instead of being an error.
Expected<bool> open_resume_folder(const std::filesystem::path& dir, const std::string& fingerprint, bool resume, int version,
                                  bool other_runs_start_fresh = false);

// What a resume folder's fingerprint says of a model: its path and each of its files' name, size and
// modification time (a changed checkpoint is another run).
std::string model_files_id(const std::string& model);

// A 64-bit FNV-1a hash of token ids, for fingerprints.
uint64_t token_hash(std::span<const int32_t> tokens);
// token_hash as 16 hex digits.
std::string token_hash_hex(std::span<const int32_t> tokens);

}  // namespace lowbit
