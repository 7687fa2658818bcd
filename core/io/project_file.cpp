#include "core/io/project_file.h"

#include "core/io/mapped_file.h"

namespace lowbit {

namespace {

namespace fs = std::filesystem;

// Inside `base`: relative (so the folder can move); elsewhere: absolute.
std::string path_out(const fs::path& p, const fs::path& base) {
  if (p.empty()) return {};
  const fs::path abs = fs::absolute(p).lexically_normal();
  const fs::path rel = abs.lexically_relative(fs::absolute(base).lexically_normal());
  if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return abs.string();
}

fs::path path_in(const std::string& s, const fs::path& base) {
  if (s.empty()) return {};
  const fs::path p(s);
  return p.is_absolute() ? p : (base / p).lexically_normal();
}

class Reader {
 public:
  explicit Reader(const std::string& source) : source_(source) {}
  Error bad(const std::string& key, const std::string& what) const {
    return {ErrorCode::Format, source_ + ": \"" + key + "\" " + what};
  }
  // Optional members of an object: absent or null reads as not there; a wrong type is an error.
  Expected<std::optional<std::string>> string(const nlohmann::json& j, const std::string& key, const std::string& where) const {
    if (!j.contains(key) || j[key].is_null()) return std::optional<std::string>{};
    if (!j[key].is_string()) return Unexpected{bad(where + key, "must be a string")};
    return std::optional<std::string>{j[key].get<std::string>()};
  }
  Expected<std::optional<double>> number(const nlohmann::json& j, const std::string& key, const std::string& where) const {
    if (!j.contains(key) || j[key].is_null()) return std::optional<double>{};
    if (!j[key].is_number()) return Unexpected{bad(where + key, "must be a number")};
    return std::optional<double>{j[key].get<double>()};
  }
  Expected<std::optional<int64_t>> integer(const nlohmann::json& j, const std::string& key, const std::string& where) const {
    if (!j.contains(key) || j[key].is_null()) return std::optional<int64_t>{};
    if (!j[key].is_number_integer() || j[key].get<int64_t>() < 0) return Unexpected{bad(where + key, "must be a non-negative integer")};
    return std::optional<int64_t>{j[key].get<int64_t>()};
  }

 private:
  std::string source_;
};

}  // namespace

nlohmann::json Project::to_json(const fs::path& base) const {
  nlohmann::json j = {{"format", "lowbit-project"}, {"version", 1}, {"model", path_out(model, base)}};
  j["calibration"] = {{"file", path_out(calibration_file, base)},
                      {"samples", calibration.samples},
                      {"ctx", calibration.ctx},
                      {"seed", calibration.seed}};
  j["analysis_dir"] = analysis_dir.empty() ? nlohmann::json(nullptr) : nlohmann::json(path_out(analysis_dir, base));
  if (plan) {
    nlohmann::json p = {{"formats", plan->formats}, {"method", plan->method}};
    if (plan->budget_bpw) p["budget_bpw"] = *plan->budget_bpw;
    if (plan->budget_bytes) p["budget_bytes"] = *plan->budget_bytes;
    j["plan"] = p;
  } else {
    j["plan"] = nullptr;
  }
  j["layouts"] = nlohmann::json::array();
  for (const ProjectLayout& l : layouts) j["layouts"].push_back({{"name", l.name}, {"layout", l.layout.to_json()}});
  if (comparison) {
    nlohmann::json rows = nlohmann::json::array();
    for (const CompareRow& r : comparison->rows) rows.push_back(compare_row_to_json(r));
    j["comparison"] = {{"text", path_out(comparison->text, base)}, {"ctx", comparison->ctx}, {"rows", rows}};
  } else {
    j["comparison"] = nullptr;
  }
  j["exports"] = nlohmann::json::array();
  for (const ProjectExport& e : exports)
    j["exports"].push_back({{"path", path_out(e.path, base)}, {"to", e.to}, {"layout", e.layout}, {"bytes", e.bytes},
                            {"bits_per_weight", e.bits_per_weight}, {"seconds", e.seconds}});
  j["notes"] = notes;
  return j;
}

Expected<Project> Project::from_json(const nlohmann::json& j, const fs::path& base, const std::string& source) {
  const Reader rd(source);
  if (!j.is_object() || !j.contains("format") || j["format"] != "lowbit-project")
    return make_error(ErrorCode::Format, source + ": not a lowbit project (\"format\": \"lowbit-project\" missing)");
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int64_t>() != 1)
    return make_error(ErrorCode::Format, source + ": unsupported project version (1 is read)");
  Project p;
  LB_TRY_ASSIGN(auto model, rd.string(j, "model", ""));
  if (!model || model->empty()) return Unexpected{rd.bad("model", "must name the checkpoint")};
  p.model = path_in(*model, base);

  if (j.contains("calibration") && !j["calibration"].is_null()) {
    const auto& c = j["calibration"];
    if (!c.is_object()) return Unexpected{rd.bad("calibration", "must be an object")};
    LB_TRY_ASSIGN(auto file, rd.string(c, "file", "calibration."));
    if (file) p.calibration_file = path_in(*file, base);
    LB_TRY_ASSIGN(auto samples, rd.integer(c, "samples", "calibration."));
    LB_TRY_ASSIGN(auto ctx, rd.integer(c, "ctx", "calibration."));
    LB_TRY_ASSIGN(auto seed, rd.integer(c, "seed", "calibration."));
    if (samples) p.calibration.samples = *samples;
    if (ctx) p.calibration.ctx = *ctx;
    if (seed) p.calibration.seed = static_cast<uint64_t>(*seed);
  }
  LB_TRY_ASSIGN(auto analysis, rd.string(j, "analysis_dir", ""));
  if (analysis) p.analysis_dir = path_in(*analysis, base);

  if (j.contains("plan") && !j["plan"].is_null()) {
    const auto& pl = j["plan"];
    if (!pl.is_object()) return Unexpected{rd.bad("plan", "must be an object")};
    ProjectPlan plan;
    LB_TRY_ASSIGN(plan.budget_bpw, rd.number(pl, "budget_bpw", "plan."));
    LB_TRY_ASSIGN(auto bytes, rd.integer(pl, "budget_bytes", "plan."));
    if (bytes) plan.budget_bytes = static_cast<uint64_t>(*bytes);
    LB_TRY_ASSIGN(auto method, rd.string(pl, "method", "plan."));
    if (method) {
      if (!quant_method_from_name(*method)) return Unexpected{rd.bad("plan.method", "names no method: '" + *method + "'")};
      plan.method = *method;
    }
    if (pl.contains("formats")) {
      if (!pl["formats"].is_array()) return Unexpected{rd.bad("plan.formats", "must be an array of format names")};
      for (const auto& f : pl["formats"]) {
        if (!f.is_string() || !Format::parse(f.get<std::string>()))
          return Unexpected{rd.bad("plan.formats", "holds an unknown format: " + f.dump())};
        plan.formats.push_back(f.get<std::string>());
      }
    }
    p.plan = std::move(plan);
  }

  if (j.contains("layouts") && !j["layouts"].is_null()) {
    if (!j["layouts"].is_array()) return Unexpected{rd.bad("layouts", "must be an array")};
    for (const auto& l : j["layouts"]) {
      if (!l.is_object()) return Unexpected{rd.bad("layouts", "must hold objects {\"name\", \"layout\"}")};
      LB_TRY_ASSIGN(auto name, rd.string(l, "name", "layouts[]."));
      if (!name) return Unexpected{rd.bad("layouts[].name", "is missing")};
      if (!l.contains("layout")) return Unexpected{rd.bad("layouts[].layout", "is missing in '" + *name + "'")};
      LB_TRY_ASSIGN(Layout layout, Layout::from_json(l["layout"], source + ": layout '" + *name + "'"));
      p.layouts.push_back({*name, std::move(layout)});
    }
  }

  if (j.contains("comparison") && !j["comparison"].is_null()) {
    const auto& c = j["comparison"];
    if (!c.is_object()) return Unexpected{rd.bad("comparison", "must be an object")};
    ProjectComparison cmp;
    LB_TRY_ASSIGN(auto text, rd.string(c, "text", "comparison."));
    if (text) cmp.text = path_in(*text, base);
    LB_TRY_ASSIGN(auto ctx, rd.integer(c, "ctx", "comparison."));
    cmp.ctx = ctx.value_or(0);
    if (c.contains("rows")) {
      if (!c["rows"].is_array()) return Unexpected{rd.bad("comparison.rows", "must be an array")};
      for (const auto& r : c["rows"]) {
        LB_TRY_ASSIGN(CompareRow row, compare_row_from_json(r, source));
        cmp.rows.push_back(std::move(row));
      }
    }
    p.comparison = std::move(cmp);
  }

  if (j.contains("exports") && !j["exports"].is_null()) {
    if (!j["exports"].is_array()) return Unexpected{rd.bad("exports", "must be an array")};
    for (const auto& e : j["exports"]) {
      if (!e.is_object()) return Unexpected{rd.bad("exports", "must hold objects")};
      ProjectExport x;
      LB_TRY_ASSIGN(auto path, rd.string(e, "path", "exports[]."));
      if (!path) return Unexpected{rd.bad("exports[].path", "is missing")};
      x.path = path_in(*path, base);
      LB_TRY_ASSIGN(auto to, rd.string(e, "to", "exports[]."));
      x.to = to.value_or("gguf");
      LB_TRY_ASSIGN(auto layout, rd.string(e, "layout", "exports[]."));
      x.layout = layout.value_or("");
      LB_TRY_ASSIGN(auto bytes, rd.integer(e, "bytes", "exports[]."));
      x.bytes = static_cast<uint64_t>(bytes.value_or(0));
      LB_TRY_ASSIGN(auto bpw, rd.number(e, "bits_per_weight", "exports[]."));
      x.bits_per_weight = bpw.value_or(0);
      LB_TRY_ASSIGN(auto seconds, rd.number(e, "seconds", "exports[]."));
      x.seconds = seconds.value_or(0);
      p.exports.push_back(std::move(x));
    }
  }

  if (j.contains("notes") && !j["notes"].is_null()) {
    if (!j["notes"].is_array()) return Unexpected{rd.bad("notes", "must be an array of strings")};
    for (const auto& n : j["notes"]) {
      if (!n.is_string()) return Unexpected{rd.bad("notes", "must be an array of strings")};
      p.notes.push_back(n.get<std::string>());
    }
  }
  return p;
}

Expected<Project> read_project(const fs::path& path) {
  LB_TRY_ASSIGN(const std::string text, read_text_file(path));
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error(ErrorCode::Format, path.string() + ": not valid JSON");
  // Every field is checked before it is read; a type the checks missed is still an error naming the
  // file, never an exception out of the reader.
  try {
    return Project::from_json(j, fs::absolute(path).parent_path(), path.string());
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::Format, path.string() + ": malformed project: " + e.what());
  }
}

Expected<void> write_project(const Project& project, const fs::path& path) {
  return write_text_file_atomic(path, project.to_json(fs::absolute(path).parent_path()).dump(2) + "\n");
}

}  // namespace lowbit
