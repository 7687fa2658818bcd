#include "core/analysis/views_file.h"

#include <fstream>
#include <stdexcept>

namespace lowbit {

using nlohmann::json;

std::string hessian_array_name(int64_t block, LinearInput input, const std::string& level) {
  return "hessian.blk." + std::to_string(block) + "." + linear_input_name(input) + "." + level;
}

std::string max_abs_array_name(int64_t block, LinearInput input) {
  return "outliers.blk." + std::to_string(block) + "." + linear_input_name(input) + ".max_abs";
}

namespace {

json hessian_to_json(const HessianView& h) {
  json layers = json::array();
  for (const HessianSummary& s : h.layers)
    layers.push_back({{"block", s.block},
                      {"input", linear_input_name(s.input)},
                      {"level", s.level},
                      {"channels", s.channels},
                      {"tokens", s.tokens},
                      {"trace", s.trace},
                      {"offdiag_mass", s.offdiag_mass},
                      {"mean_abs_corr", s.mean_abs_corr},
                      {"eig_min", s.eig_min},
                      {"eig_max", s.eig_max},
                      {"effective_rank", s.effective_rank}});
  return {{"levels", h.levels}, {"format", h.format}, {"blocks", h.blocks}, {"layers", layers}};
}

json awq_to_json(const AwqCurvesResult& a) {
  json groups = json::array();
  for (const AwqGroupCurve& g : a.groups)
    groups.push_back({{"block", g.block},
                      {"group", g.group},
                      {"applied", g.applied},
                      {"note", g.note},
                      {"alphas", g.alphas},
                      {"alpha_error", g.alpha_error},
                      {"alpha", g.alpha},
                      {"error_rtn", g.error_rtn},
                      {"clip_ratios", g.clip_ratios},
                      {"clip_error", g.clip_error},
                      {"clip_search_error", g.clip_search_error},
                      {"clip_search_mean_ratio", g.clip_search_mean_ratio}});
  return {{"bits", a.bits}, {"format", a.format}, {"seconds", a.seconds}, {"groups", groups}};
}

json outliers_to_json(const OutlierView& o) {
  json weights = json::array(), inputs = json::array();
  for (const WeightHistogram& w : o.weights)
    weights.push_back({{"tensor", w.tensor},
                       {"block", w.block},
                       {"part", w.part},
                       {"rows", w.rows},
                       {"cols", w.cols},
                       {"range", w.range},
                       {"counts", w.counts},
                       {"mean", w.mean},
                       {"std", w.std},
                       {"max_abs", w.max_abs},
                       {"kurtosis", w.kurtosis}});
  for (const InputOutliers& in : o.inputs) {
    json top = json::array();
    for (const auto& [c, v] : in.top) top.push_back({c, v});
    inputs.push_back({{"block", in.block},
                      {"input", linear_input_name(in.input)},
                      {"channels", in.channels},
                      {"q1", in.cfp.q1},
                      {"q3", in.cfp.q3},
                      {"iqr", in.cfp.iqr},
                      {"coarse_threshold", in.cfp.coarse_threshold},
                      {"threshold", in.cfp.threshold},
                      {"outliers", in.cfp.outliers},
                      {"top", top}});
  }
  return {{"bins", o.bins}, {"weights", weights}, {"inputs", inputs}};
}

// Throws (caught in views_from_json, like nlohmann's own type errors) on an unknown name.
LinearInput input_named(const json& j) {
  const auto i = linear_input_from_name(j.get<std::string>());
  if (!i) throw std::invalid_argument("unknown linear input '" + j.get<std::string>() + "'");
  return *i;
}

}  // namespace

json views_to_json(const ViewsData& d) {
  json j = {{"format", "lowbit-views"},
            {"version", 1},
            {"model", d.model},
            {"architecture", d.architecture},
            {"blocks", d.blocks},
            {"samples", d.samples},
            {"ctx", d.ctx},
            {"seed", d.seed},
            {"tokens", d.tokens},
            {"arrays", "views.safetensors"},
            {"options", d.options},
            {"seconds", d.seconds}};
  if (d.hessian) j["hessian"] = hessian_to_json(*d.hessian);
  if (!d.scale_hessian.empty()) {
    j["scale_hessian"] = json::array();
    for (const ScaleHessianResult& s : d.scale_hessian)
      j["scale_hessian"].push_back({{"bits", s.bits},
                                    {"format", s.format},
                                    {"codes", s.fixed_codes ? "fixed" : "rerounded"},
                                    {"step", s.step},
                                    {"base_loss", s.base_loss},
                                    {"evaluations", s.evaluations},
                                    {"seconds", s.seconds},
                                    {"matrix", s.matrix}});
  }
  if (!d.landscape.empty()) {
    j["landscape"] = json::array();
    for (const LandscapeResult& l : d.landscape)
      j["landscape"].push_back({{"bits", l.bits},
                                {"format", l.format},
                                {"codes", l.fixed_codes ? "fixed" : "rerounded"},
                                {"blocks", {l.block_a, l.block_b}},
                                {"values", l.values},
                                {"base_loss", l.base_loss},
                                {"seconds", l.seconds},
                                {"loss", l.loss}});
  }
  if (!d.awq.empty()) {
    j["awq"] = json::array();
    for (const AwqCurvesResult& a : d.awq) j["awq"].push_back(awq_to_json(a));
  }
  if (d.outliers) j["outliers"] = outliers_to_json(*d.outliers);
  return j;
}

Expected<ViewsData> views_from_json(const json& j, const std::string& where) {
  if (!j.is_object() || j.value("format", "") != "lowbit-views" || j.value("version", 0) != 1)
    return make_error(ErrorCode::Format, where + ": not a lowbit-views version 1 file");
  ViewsData d;
  try {
    d.model = j.at("model").get<std::string>();
    d.architecture = j.at("architecture").get<std::string>();
    d.blocks = j.at("blocks").get<int64_t>();
    d.samples = j.at("samples").get<int64_t>();
    d.ctx = j.at("ctx").get<int64_t>();
    d.seed = j.at("seed").get<uint64_t>();
    d.tokens = j.at("tokens").get<int64_t>();
    d.options = j.at("options");
    d.seconds = j.at("seconds").get<std::map<std::string, double>>();
    if (j.contains("hessian")) {
      const json& h = j["hessian"];
      HessianView v;
      v.levels = h.at("levels").get<std::vector<std::string>>();
      v.format = h.at("format").get<std::string>();
      v.blocks = h.at("blocks").get<std::vector<int64_t>>();
      for (const json& l : h.at("layers")) {
        HessianSummary s;
        s.block = l.at("block").get<int64_t>();
        s.input = input_named(l.at("input"));
        s.level = l.at("level").get<std::string>();
        s.channels = l.at("channels").get<int64_t>();
        s.tokens = l.at("tokens").get<int64_t>();
        s.trace = l.at("trace").get<double>();
        s.offdiag_mass = l.at("offdiag_mass").get<double>();
        s.mean_abs_corr = l.at("mean_abs_corr").get<double>();
        s.eig_min = l.at("eig_min").get<double>();
        s.eig_max = l.at("eig_max").get<double>();
        s.effective_rank = l.at("effective_rank").get<double>();
        v.layers.push_back(std::move(s));
      }
      d.hessian = std::move(v);
    }
    for (const json& s : j.value("scale_hessian", json::array())) {
      ScaleHessianResult r;
      r.bits = s.at("bits").get<int>();
      r.format = s.at("format").get<std::string>();
      r.fixed_codes = s.at("codes").get<std::string>() == "fixed";
      r.step = s.at("step").get<double>();
      r.base_loss = s.at("base_loss").get<double>();
      r.evaluations = s.at("evaluations").get<int64_t>();
      r.seconds = s.at("seconds").get<double>();
      r.matrix = s.at("matrix").get<std::vector<std::vector<double>>>();
      d.scale_hessian.push_back(std::move(r));
    }
    for (const json& l : j.value("landscape", json::array())) {
      LandscapeResult r;
      r.bits = l.at("bits").get<int>();
      r.format = l.at("format").get<std::string>();
      r.fixed_codes = l.at("codes").get<std::string>() == "fixed";
      const auto blocks = l.at("blocks").get<std::vector<int64_t>>();
      if (blocks.size() != 2) return make_error(ErrorCode::Format, where + ": a landscape names " + std::to_string(blocks.size()) + " blocks, not 2");
      r.block_a = blocks[0];
      r.block_b = blocks[1];
      r.values = l.at("values").get<std::vector<double>>();
      r.base_loss = l.at("base_loss").get<double>();
      r.seconds = l.at("seconds").get<double>();
      r.loss = l.at("loss").get<std::vector<std::vector<double>>>();
      d.landscape.push_back(std::move(r));
    }
    for (const json& a : j.value("awq", json::array())) {
      AwqCurvesResult r;
      r.bits = a.at("bits").get<int>();
      r.format = a.at("format").get<std::string>();
      r.seconds = a.at("seconds").get<double>();
      for (const json& g : a.at("groups")) {
        AwqGroupCurve c;
        c.block = g.at("block").get<int64_t>();
        c.group = g.at("group").get<std::string>();
        c.applied = g.at("applied").get<bool>();
        c.note = g.at("note").get<std::string>();
        c.alphas = g.at("alphas").get<std::vector<double>>();
        c.alpha_error = g.at("alpha_error").get<std::vector<double>>();
        c.alpha = g.at("alpha").get<double>();
        c.error_rtn = g.at("error_rtn").get<double>();
        c.clip_ratios = g.at("clip_ratios").get<std::vector<double>>();
        c.clip_error = g.at("clip_error").get<std::vector<double>>();
        c.clip_search_error = g.at("clip_search_error").get<double>();
        c.clip_search_mean_ratio = g.at("clip_search_mean_ratio").get<double>();
        r.groups.push_back(std::move(c));
      }
      d.awq.push_back(std::move(r));
    }
    if (j.contains("outliers")) {
      const json& o = j["outliers"];
      OutlierView v;
      v.bins = o.at("bins").get<int>();
      for (const json& w : o.at("weights")) {
        WeightHistogram h;
        h.tensor = w.at("tensor").get<std::string>();
        h.block = w.at("block").get<int64_t>();
        h.part = w.at("part").get<std::string>();
        h.rows = w.at("rows").get<int64_t>();
        h.cols = w.at("cols").get<int64_t>();
        h.range = w.at("range").get<double>();
        h.counts = w.at("counts").get<std::vector<int64_t>>();
        h.mean = w.at("mean").get<double>();
        h.std = w.at("std").get<double>();
        h.max_abs = w.at("max_abs").get<double>();
        h.kurtosis = w.at("kurtosis").get<double>();
        v.weights.push_back(std::move(h));
      }
      for (const json& in : o.at("inputs")) {
        InputOutliers r;
        r.block = in.at("block").get<int64_t>();
        r.input = input_named(in.at("input"));
        r.channels = in.at("channels").get<int64_t>();
        r.cfp.q1 = in.at("q1").get<double>();
        r.cfp.q3 = in.at("q3").get<double>();
        r.cfp.iqr = in.at("iqr").get<double>();
        r.cfp.coarse_threshold = in.at("coarse_threshold").get<double>();
        r.cfp.threshold = in.at("threshold").get<double>();
        r.cfp.outliers = in.at("outliers").get<std::vector<int64_t>>();
        r.outlier_count = static_cast<int64_t>(r.cfp.outliers.size());
        for (const json& t : in.at("top")) r.top.emplace_back(t.at(0).get<int64_t>(), t.at(1).get<float>());
        v.inputs.push_back(std::move(r));
      }
      d.outliers = std::move(v);
    }
  } catch (const std::exception& e) {  // nlohmann's type errors and input_named
    return make_error(ErrorCode::Format, where + ": " + e.what());
  }
  return d;
}

Expected<ViewsFile> ViewsFile::open(const std::filesystem::path& dir) {
  ViewsFile f;
  f.dir_ = dir;
  const auto path = dir / "views.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::Io, path.string() + ": no such file (not a folder written by lowbit analyze --views?)");
  const json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) return make_error(ErrorCode::Format, path.string() + ": not valid JSON");
  LB_TRY_ASSIGN(f.data_, views_from_json(j, path.string()));
  LB_TRY_ASSIGN(f.arrays_, SafetensorsFile::open(dir / "views.safetensors"));
  for (const auto& t : f.arrays_->tensors()) {
    if (t.dtype != DType::F32)
      return make_error(ErrorCode::Format, (dir / "views.safetensors").string() + ": " + t.name + " is not F32");
    f.by_name_[t.name] = &t;
  }
  // Every Hessian the JSON lists has its three arrays, of its channel count.
  if (f.data_.hessian)
    for (const HessianSummary& s : f.data_.hessian->layers) {
      const std::string base = hessian_array_name(s.block, s.input, s.level);
      const std::vector<std::vector<int64_t>> shapes = {{s.channels, s.channels}, {s.channels}, {s.channels}};
      const char* suffixes[] = {"", ".diag", ".eigenvalues"};
      for (int k = 0; k < 3; ++k) {
        auto it = f.by_name_.find(base + suffixes[k]);
        if (it == f.by_name_.end() || it->second->shape != shapes[static_cast<size_t>(k)])
          return make_error(ErrorCode::Format, (dir / "views.safetensors").string() + ": " + base + suffixes[k] +
                                                   " is missing or not of " + std::to_string(s.channels) + " channels");
      }
    }
  return f;
}

Expected<std::vector<float>> ViewsFile::array(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end())
    return make_error(ErrorCode::InvalidArgument, (dir_ / "views.safetensors").string() + ": no array " + name);
  return decode_to_f32(*it->second);
}

Expected<std::vector<float>> ViewsFile::hessian(int64_t block, LinearInput input, const std::string& level) const {
  return array(hessian_array_name(block, input, level));
}
Expected<std::vector<float>> ViewsFile::hessian_diag(int64_t block, LinearInput input, const std::string& level) const {
  return array(hessian_array_name(block, input, level) + ".diag");
}
Expected<std::vector<float>> ViewsFile::hessian_eigenvalues(int64_t block, LinearInput input, const std::string& level) const {
  return array(hessian_array_name(block, input, level) + ".eigenvalues");
}
Expected<std::vector<float>> ViewsFile::max_abs(int64_t block, LinearInput input) const {
  return array(max_abs_array_name(block, input));
}

}  // namespace lowbit
