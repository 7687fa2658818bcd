// Project file (`*.lowbit`, DESIGN.md "The studio"): the user's work on one model, as JSON, so that
// reopening restores it and `lowbit report` can write the PDF report from it. Analyses are not stored
// inline: the project names the analysis folder (`lowbit analyze --out`), whose files are the cache.
//
// {"format": "lowbit-project", "version": 1,
//  "model": "/path/to/checkpoint",
//  "calibration": {"file": "...", "samples": 16, "ctx": 256, "seed": 0},
//  "analysis_dir": "..." | null,
//  "plan": {"budget_bpw": 3.5 | "budget_bytes": N, "formats": ["q2_k", ...], "method": "rtn"} | null,
//  "layouts": [{"name": "plan 1", "layout": {a "lowbit-layout" object}}, ...],
//  "comparison": {"text": "...", "ctx": 256, "rows": [rows as `lowbit compare --json` prints them]} | null,
//  "exports": [{"path": "...", "to": "gguf", "layout": "plan 1", "bytes": N, "bits_per_weight": x, "seconds": s}],
//  "notes": ["warnings and remarks kept for the report", ...]}
// Relative paths are resolved against the project file's folder, and written relative to it when
// they lie inside it, so a project folder can be moved. Unknown keys are ignored; missing optional
// parts read as empty; malformed parts are errors naming the file and the key.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/eval/compare.h"
#include "core/plan/layout.h"

namespace lowbit {

struct ProjectLayout {
  std::string name;
  Layout layout;
};

struct ProjectExport {
  std::filesystem::path path;
  std::string to;      // "gguf" | "gptq"
  std::string layout;  // the ProjectLayout it came from
  uint64_t bytes = 0;
  double bits_per_weight = 0;
  double seconds = 0;
};

struct ProjectPlan {
  std::optional<double> budget_bpw;
  std::optional<uint64_t> budget_bytes;
  std::vector<std::string> formats;
  std::string method = "rtn";
};

struct ProjectComparison {
  std::filesystem::path text;
  int64_t ctx = 0;
  std::vector<CompareRow> rows;
};

struct Project {
  std::filesystem::path model;
  std::filesystem::path calibration_file;
  CalibOptions calibration;
  std::filesystem::path analysis_dir;  // empty: none
  std::optional<ProjectPlan> plan;
  std::vector<ProjectLayout> layouts;
  std::optional<ProjectComparison> comparison;
  std::vector<ProjectExport> exports;
  std::vector<std::string> notes;

  // `base`: the project file's folder (for relative paths).
  nlohmann::json to_json(const std::filesystem::path& base) const;
  static Expected<Project> from_json(const nlohmann::json& j, const std::filesystem::path& base, const std::string& source);
};

Expected<Project> read_project(const std::filesystem::path& path);
// Written to a temporary file in the same folder and renamed.
Expected<void> write_project(const Project& project, const std::filesystem::path& path);

}  // namespace lowbit
