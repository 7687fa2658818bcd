#include "core/analysis/views.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#include "core/analysis/awq_curves.h"
#include "core/analysis/scale_loss.h"
#include "core/analysis/scaled_rtn.h"
#include "core/analysis/views_file.h"
#include "core/analysis/weight_hessian.h"
#include "core/io/safetensors_writer.h"
#include "core/jobs/progress.h"
#include "core/quant/quantize_model.h"

namespace lowbit {

namespace fs = std::filesystem;
using nlohmann::json;

const char* view_kind_name(ViewKind v) {
  switch (v) {
    case ViewKind::Hessian: return "hessian";
    case ViewKind::ScaleHessian: return "scale-hessian";
    case ViewKind::Landscape: return "landscape";
    case ViewKind::Awq: return "awq";
    case ViewKind::Outliers: return "outliers";
  }
  return "?";
}

std::optional<ViewKind> view_kind_from_name(const std::string& name) {
  for (ViewKind v : {ViewKind::Hessian, ViewKind::ScaleHessian, ViewKind::Landscape, ViewKind::Awq, ViewKind::Outliers})
    if (name == view_kind_name(v)) return v;
  return std::nullopt;
}

Expected<std::set<ViewKind>> parse_view_list(const std::string& list) {
  std::set<ViewKind> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t end = std::min(list.find(',', start), list.size());
    const std::string name = list.substr(start, end - start);
    auto v = view_kind_from_name(name);
    if (!v)
      return make_error(ErrorCode::InvalidArgument, "unknown view '" + name +
                                                        "' (views: hessian, scale-hessian, landscape, awq, outliers)");
    out.insert(*v);
    start = end + 1;
  }
  return out;
}

Expected<void> ViewsOptions::validate() const {
  auto bad = [](const std::string& m) { return make_error(ErrorCode::InvalidArgument, m); };
  if (views.empty()) return bad("no view requested");
  if (bits.empty()) return bad("--view-bits needs at least one bit width");
  for (int b : bits)
    if (b < 2 || b > 8) return bad("--view-bits: " + std::to_string(b) + " is not between 2 and 8");
  if (group < 0) return bad("the views' group size must be >= 0");
  for (int64_t b : blocks)
    if (b < 0) return bad("--blocks: " + std::to_string(b) + " is not a block index");
  if (!(fd_step > 0 && fd_step < 0.5)) return bad("the finite-difference step must be in (0, 0.5)");
  if (landscape_points < 2 || landscape_points > 101) return bad("the landscape needs 2 to 101 points per axis");
  if (!(landscape_min > 0 && landscape_min < landscape_max)) return bad("the landscape range must satisfy 0 < min < max");
  if (landscape_block < -1) return bad("the landscape block must be >= 0 (or -1: chosen)");
  LB_TRY_VOID(awq.validate());
  return outliers.validate();
}

json ViewsOptions::to_json() const {
  json v = json::array();
  for (ViewKind k : views) v.push_back(view_kind_name(k));
  return {{"views", v},
          {"bits", bits},
          {"group", group},
          {"symmetric", symmetric},
          {"blocks", blocks},
          {"fd_step", fd_step},
          {"scale_codes", scale_fixed_codes ? "fixed" : "rerounded"},
          {"landscape_points", landscape_points},
          {"landscape_min", landscape_min},
          {"landscape_max", landscape_max},
          {"landscape_block", landscape_block},
          {"awq_alpha_grid", awq.alpha_grid},
          {"awq_clip_min", awq.clip_min},
          {"awq_clip_steps", awq.clip_steps},
          {"histogram_bins", outliers.bins},
          {"top_k", outliers.top_k},
          {"cfp_lambda1", outliers.cfp.lambda1},
          {"cfp_lambda2", outliers.cfp.lambda2}};
}

namespace {

using Clock = std::chrono::steady_clock;

// A progress sink for one stage: its fraction maps to [begin, end) of the parent, its text gets a prefix.
Progress staged(Progress* parent, double begin, double end, const std::string& prefix) {
  if (!parent) return Progress();
  return Progress([parent, begin, end, prefix](const ProgressUpdate& u) {
    parent->report(begin + (end - begin) * u.fraction, prefix + u.stage);
  });
}

// The staging folder inside DIR; removed (with DIR, when this run created it and left it empty)
// unless the run completes.
struct Staging {
  fs::path dir, stage;
  bool created_dir = false, done = false;
  ~Staging() {
    if (done) return;
    std::error_code ec;
    fs::remove_all(stage, ec);
    if (created_dir && fs::is_empty(dir, ec)) fs::remove(dir, ec);
  }
};

Expected<void> write_json(const fs::path& path, const json& j) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << j.dump(1) << "\n";
  if (!out) return make_error(ErrorCode::Io, path.string() + ": cannot be written");
  return {};
}

Expected<void> write_array(SafetensorsWriter& w, const std::string& name, const float* data, int64_t n) {
  return w.write(name, std::span<const float>(data, static_cast<size_t>(n)));
}

Expected<void> write_hessian(SafetensorsWriter& w, const HessianArrays& a) {
  const HessianSummary& s = a.summary;
  const std::string base = hessian_array_name(s.block, s.input, s.level);
  LB_TRY_VOID(write_array(w, base, a.h.data(), a.h.size()));
  LB_TRY_VOID(write_array(w, base + ".diag", a.diag.data(), a.diag.size()));
  return write_array(w, base + ".eigenvalues", a.eigenvalues.data(), a.eigenvalues.size());
}

MatrixRM to_matrix(const std::vector<float>& v, int64_t c) {
  return ConstMatrixRMMap(v.data(), c, c);
}

// Work units of each stage for the progress bar, in block forward passes of all windows.
struct Plan {
  double calibration, hessian_walk, scale_hessian, landscape, awq, outliers;
};

json summary_of(const ViewsData& d) {
  json s = {{"files", {"views.json", "views.safetensors"}}, {"seconds", d.seconds}};
  if (d.hessian) {
    json levels = json::array();
    for (const std::string& l : d.hessian->levels) {
      double mass = 0, corr = 0;
      int64_t n = 0;
      for (const HessianSummary& h : d.hessian->layers)
        if (h.level == l) mass += h.offdiag_mass, corr += h.mean_abs_corr, ++n;
      levels.push_back({{"level", l},
                        {"layers", n},
                        {"mean_offdiag_mass", n ? mass / static_cast<double>(n) : 0.0},
                        {"mean_abs_corr", n ? corr / static_cast<double>(n) : 0.0}});
    }
    s["hessian"] = levels;
  }
  if (!d.scale_hessian.empty()) {
    s["scale_hessian"] = json::array();
    for (const ScaleHessianResult& r : d.scale_hessian) {
      std::vector<double> diag;
      for (size_t i = 0; i < r.matrix.size(); ++i) diag.push_back(r.matrix[i][i]);
      s["scale_hessian"].push_back({{"format", r.format}, {"base_loss", r.base_loss}, {"diagonal", diag}});
    }
  }
  if (!d.landscape.empty()) {
    s["landscape"] = json::array();
    for (const LandscapeResult& r : d.landscape) {
      double best = INFINITY, ca = 0, cb = 0, worst = -INFINITY;
      for (size_t i = 0; i < r.values.size(); ++i)
        for (size_t j = 0; j < r.values.size(); ++j) {
          if (r.loss[i][j] < best) best = r.loss[i][j], ca = r.values[i], cb = r.values[j];
          worst = std::max(worst, r.loss[i][j]);
        }
      s["landscape"].push_back({{"format", r.format},
                                {"blocks", {r.block_a, r.block_b}},
                                {"base_loss", r.base_loss},
                                {"min_loss", best},
                                {"min_at", {ca, cb}},
                                {"max_loss", worst}});
    }
  }
  if (!d.awq.empty()) {
    s["awq"] = json::array();
    for (const AwqCurvesResult& r : d.awq) {
      double alpha = 0;
      int64_t applied = 0;
      for (const AwqGroupCurve& g : r.groups)
        if (g.applied) alpha += g.alpha, ++applied;
      s["awq"].push_back({{"format", r.format},
                          {"groups", r.groups.size()},
                          {"applied", applied},
                          {"mean_alpha", applied ? alpha / static_cast<double>(applied) : 0.0}});
    }
  }
  if (d.outliers) {
    double kmax = 0;
    std::string kname;
    int64_t channels = 0;
    for (const WeightHistogram& w : d.outliers->weights)
      if (w.kurtosis > kmax) kmax = w.kurtosis, kname = w.tensor;
    for (const InputOutliers& in : d.outliers->inputs) channels += in.outlier_count;
    s["outliers"] = {{"layers", d.outliers->weights.size()},
                     {"max_kurtosis", kmax},
                     {"max_kurtosis_tensor", kname},
                     {"outlier_channels", channels}};
  }
  return s;
}

}  // namespace

Expected<json> analyze_views_to_folder(ModelWeights& m, std::span<const int32_t> windows, const AnalyzeInfo& info,
                                       const ViewsOptions& options, const fs::path& dir, Progress* progress,
                                       const CancelToken* cancel, const BlockHooks& calibration_hooks) {
  LB_TRY_VOID(options.validate());
  LB_TRY_VOID(info.calib.validate());
  ViewsOptions o = options;
  std::sort(o.bits.begin(), o.bits.end());
  o.bits.erase(std::unique(o.bits.begin(), o.bits.end()), o.bits.end());
  const auto wants = [&](ViewKind v) { return o.views.count(v) > 0; };
  const int64_t n = static_cast<int64_t>(m.blocks.size());
  const int64_t ctx = info.calib.ctx;

  std::vector<int64_t> hblocks = o.blocks.empty() ? default_hessian_blocks(m.config) : o.blocks;
  std::sort(hblocks.begin(), hblocks.end());
  hblocks.erase(std::unique(hblocks.begin(), hblocks.end()), hblocks.end());
  for (int64_t b : hblocks)
    if (b >= n) return make_error(ErrorCode::InvalidArgument, "--blocks: block " + std::to_string(b) + " of a model with " + std::to_string(n));
  if (wants(ViewKind::Landscape)) {
    if (n < 2) return make_error(ErrorCode::InvalidArgument, "the landscape view needs two blocks; the model has " + std::to_string(n));
    if (o.landscape_block + 1 >= n)
      return make_error(ErrorCode::InvalidArgument, "landscape block " + std::to_string(o.landscape_block) +
                                                        ": no next block in a model with " + std::to_string(n));
  }
  const bool quantized_views = wants(ViewKind::Hessian) || wants(ViewKind::ScaleHessian) ||
                               wants(ViewKind::Landscape) || wants(ViewKind::Awq);
  if (quantized_views)
    for (int b : o.bits)
      for (int64_t k = 0; k < n; ++k)
        LB_TRY_VOID(check_scaled_rtn(m.blocks[static_cast<size_t>(k)], o.format(b), "block " + std::to_string(k)));

  // Progress: work units per stage (a block's forward over all windows = 1; the head ≈ 1).
  const double nb = static_cast<double>(n), nbits = static_cast<double>(o.bits.size());
  const double pts = static_cast<double>(o.landscape_points);
  const Plan plan{nb + 1,
                  wants(ViewKind::Hessian) ? nbits * (nb + 1) : 0,
                  wants(ViewKind::ScaleHessian) ? nbits * 2 * nb * nb * (nb / 3 + 1) : 0,
                  wants(ViewKind::Landscape) ? nbits * pts * pts * (nb / 2 + 1) : 0,
                  wants(ViewKind::Awq) ? nbits * 3 * nb : 0,
                  wants(ViewKind::Outliers) ? 0.1 * nb : 0};
  const double total = plan.calibration + plan.hessian_walk + plan.scale_hessian + plan.landscape + plan.awq + plan.outliers;
  double done_units = 0;
  auto stage = [&](double units, const std::string& prefix) {
    Progress p = staged(progress, done_units / total, (done_units + units) / total, prefix);
    done_units += units;
    return p;
  };

  Staging staging;
  staging.dir = dir;
  std::error_code ec;
  staging.created_dir = !fs::exists(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::Io, dir.string() + ": cannot create the folder: " + ec.message());
  staging.stage = dir / ".lowbit-analyze.partial";
  fs::remove_all(staging.stage, ec);
  fs::create_directories(staging.stage, ec);
  if (ec) return make_error(ErrorCode::Io, staging.stage.string() + ": cannot create the folder: " + ec.message());
  const auto t0 = Clock::now();

  // 1. The calibration folder (and with it the fp Hessians and max |x| of every input).
  Progress p_cal = stage(plan.calibration, "calibration: ");
  LB_TRY_ASSIGN(json calib, analyze_to_folder(m, windows, info, staging.stage, &p_cal, cancel, calibration_hooks));
  ViewsData d;
  d.model = info.model;
  d.architecture = calib.value("architecture", "");
  d.blocks = n;
  d.samples = info.calib.samples;
  d.ctx = ctx;
  d.seed = info.calib.seed;
  d.tokens = calib.value("tokens", int64_t{0});
  d.options = o.to_json();
  d.seconds["calibration"] = seconds_since(t0);

  // 2. views.safetensors, declared in the order the arrays are produced.
  std::vector<std::string> levels = {"fp"};
  for (int b : o.bits) levels.push_back(hessian_level_name(b));
  std::vector<SafetensorsDecl> decls;
  if (wants(ViewKind::Hessian))
    for (const std::string& l : levels)
      for (int64_t b : hblocks)
        for (LinearInput i : kLinearInputs) {
          const int64_t c = linear_input_channels(m.config, i);
          const std::string base = hessian_array_name(b, i, l);
          decls.push_back({base, DType::F32, {c, c}});
          decls.push_back({base + ".diag", DType::F32, {c}});
          decls.push_back({base + ".eigenvalues", DType::F32, {c}});
        }
  if (wants(ViewKind::Outliers))
    for (int64_t b = 0; b < n; ++b)
      for (LinearInput i : kLinearInputs) decls.push_back({max_abs_array_name(b, i), DType::F32, {linear_input_channels(m.config, i)}});
  LB_TRY_ASSIGN(SafetensorsWriter writer, SafetensorsWriter::create(staging.stage / "views.safetensors", std::move(decls),
                                                                    {{"format", "lowbit-views"}}));
  LB_TRY_ASSIGN(const CalibrationSet calib_set, CalibrationSet::open(staging.stage));

  // The later walks run where the calibration's did (its walker alone: they hold the model whole).
  BlockHooks walk;
  walk.walker = calibration_hooks.walker;
  walk.walker_note = calibration_hooks.walker_note;

  // 3. Weight Hessians: fp from the calibration folder, then one walk per b.
  if (wants(ViewKind::Hessian)) {
    const auto th = Clock::now();
    HessianView hv;
    hv.levels = levels;
    hv.format = "int{b}g" + std::to_string(o.group) + (o.symmetric ? "s" : "a");
    hv.blocks = hblocks;
    for (int64_t b : hblocks)
      for (LinearInput i : kLinearInputs) {
        LB_TRY_ASSIGN(const std::vector<float> h, calib_set.hessian(b, i));
        const HessianArrays a = analyze_hessian(to_matrix(h, calib_set.channels(b, i)), d.tokens, b, i, "fp");
        LB_TRY_VOID(write_hessian(writer, a));
        hv.layers.push_back(a.summary);
      }
    for (int bits : o.bits) {
      const Format f = o.format(bits);
      const std::string level = hessian_level_name(bits);
      Progress p = stage(plan.hessian_walk / nbits, "hessian " + f.name() + ": ");
      auto sink = [&](int64_t b, BlockStats& stats) -> Expected<void> {
        if (!std::binary_search(hblocks.begin(), hblocks.end(), b)) return {};
        for (LinearInput i : kLinearInputs) {
          const InputStats& st = stats.at(i);
          const HessianArrays a = analyze_hessian(st.hessian(), st.tokens(), b, i, level);
          LB_TRY_VOID(write_hessian(writer, a));
          hv.layers.push_back(a.summary);
        }
        return {};
      };
      LB_TRY_VOID(collect_quantized_prefix_stats(m, windows, ctx, &f, sink, &p, cancel, walk));
    }
    d.hessian = std::move(hv);
    d.seconds["hessian"] = seconds_since(th);
  }

  // 4. Outliers: weight histograms of every linear layer, fences over every input's max |x|.
  if (wants(ViewKind::Outliers)) {
    const auto tout = Clock::now();
    Progress p = stage(plan.outliers, "outliers: ");
    OutlierView ov;
    ov.bins = o.outliers.bins;
    for (const LinearRef& r : block_linears(m)) {
      WeightHistogram h = weight_histogram(linear_of(m, r).w, o.outliers.bins);
      h.tensor = r.tensor;
      h.block = r.block;
      h.part = slot_name(r.slot);
      ov.weights.push_back(std::move(h));
    }
    for (int64_t b = 0; b < n; ++b) {
      if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "analysis cancelled");
      for (LinearInput i : kLinearInputs) {
        LB_TRY_ASSIGN(const std::vector<float> mx, calib_set.max_abs(b, i));
        LB_TRY_VOID(write_array(writer, max_abs_array_name(b, i), mx.data(), static_cast<int64_t>(mx.size())));
        const VectorF v = Eigen::Map<const VectorF>(mx.data(), static_cast<int64_t>(mx.size()));
        ov.inputs.push_back(input_outliers(b, i, v, o.outliers));
      }
      p.report(static_cast<double>(b + 1) / nb, "block " + std::to_string(b + 1) + "/" + std::to_string(n));
    }
    d.outliers = std::move(ov);
    d.seconds["outliers"] = seconds_since(tout);
  }

  // 5. Scale Hessian and landscape, one quantized model per b (lowest b first: it picks the pair).
  std::string scale_backend, scale_note;
  if (wants(ViewKind::ScaleHessian) || wants(ViewKind::Landscape)) {
    double t_sh = 0, t_ls = 0;
    int64_t pair = o.landscape_block;
    std::vector<double> values;
    for (int k = 0; k < o.landscape_points; ++k) {
      double v = k == o.landscape_points - 1 ? o.landscape_max
                                              : o.landscape_min + (o.landscape_max - o.landscape_min) * k / (o.landscape_points - 1);
      if (std::fabs(v - 1.0) < 1e-9) v = 1.0;  // the unperturbed model exactly
      values.push_back(v);
    }
    for (int bits : o.bits) {
      const Format f = o.format(bits);
      auto tb = Clock::now();
      LB_TRY_ASSIGN(auto model, ScaleLossModel::build(m, windows, ctx, f, o.scale_fixed_codes, cancel, o.scale_runner, &scale_note));
      scale_backend = model->runner_name();
      const double t_build = seconds_since(tb);
      if (wants(ViewKind::ScaleHessian)) {
        const auto ts = Clock::now();
        Progress p = stage(plan.scale_hessian / nbits, "");
        LB_TRY_ASSIGN(ScaleHessianResult r, model->scale_hessian(o.fd_step, &p, cancel));
        if (pair < 0 && n >= 2) {
          double best = -1;
          for (int64_t k = 0; k + 1 < n; ++k) {
            const double v = std::fabs(r.matrix[static_cast<size_t>(k)][static_cast<size_t>(k + 1)]);
            if (v > best) best = v, pair = k;
          }
        }
        d.scale_hessian.push_back(std::move(r));
        t_sh += seconds_since(ts) + t_build;
      }
      if (wants(ViewKind::Landscape)) {
        if (pair < 0) pair = 0;
        const auto tl = Clock::now();
        Progress p = stage(plan.landscape / nbits, "");
        LB_TRY_ASSIGN(LandscapeResult r, model->landscape(pair, values, &p, cancel));
        d.landscape.push_back(std::move(r));
        t_ls += seconds_since(tl) + (wants(ViewKind::ScaleHessian) ? 0.0 : t_build);
      }
    }
    if (wants(ViewKind::ScaleHessian)) d.seconds["scale-hessian"] = t_sh;
    if (wants(ViewKind::Landscape)) d.seconds["landscape"] = t_ls;
  }

  // 6. AWQ curves, one AWQ run per b.
  if (wants(ViewKind::Awq)) {
    const auto ta = Clock::now();
    for (int bits : o.bits) {
      const Format f = o.format(bits);
      Progress p = stage(plan.awq / nbits, "awq " + f.name() + ": ");
      LB_TRY_ASSIGN(AwqCurvesResult r, awq_curves(m, windows, ctx, f, o.awq, &p, cancel, calibration_hooks.walker));
      d.awq.push_back(std::move(r));
    }
    d.seconds["awq"] = seconds_since(ta);
  }
  if (cancel && cancel->cancelled()) return make_error(ErrorCode::Cancelled, "analysis cancelled");

  // 7. Files: views.safetensors, views.json, then everything moves from the staging folder into DIR.
  LB_TRY_VOID(writer.finish());
  d.seconds["total"] = seconds_since(t0);
  LB_TRY_VOID(write_json(staging.stage / "views.json", views_to_json(d)));
  for (const char* name : {"stats.safetensors", "views.safetensors", "views.json", "calibration.json"}) {
    fs::rename(staging.stage / name, dir / name, ec);
    if (ec) return make_error(ErrorCode::Io, (dir / name).string() + ": cannot be moved into place: " + ec.message());
  }
  staging.done = true;
  fs::remove_all(staging.stage, ec);
  if (progress) progress->report(1.0, "views written");
  json out{{"calibration", calib}, {"views", summary_of(d)}};
  if (!scale_backend.empty()) out["scale_views_backend"] = scale_backend;
  if (!scale_note.empty()) out["scale_views_note"] = scale_note;
  return out;
}

}  // namespace lowbit
