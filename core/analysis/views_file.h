// The files of `lowbit analyze --views` (core/analysis/views.h writes them next to the calibration
// folder's calibration.json and stats.safetensors) and their reader, for the studio and the report.
//
// views.json — format "lowbit-views", version 1:
//   model, architecture, blocks, samples, ctx, seed, tokens   what was measured;
//   options        the ViewsOptions of the run; seconds   wall time per view;
//   hessian        {levels: ["fp", "b2", …], format: "int{b}g64a" pattern, blocks: [...], layers: [{block,
//                  input, level, channels, tokens, trace, offdiag_mass, mean_abs_corr, eig_min, eig_max,
//                  effective_rank}]}  (core/analysis/weight_hessian.h defines the numbers);
//   scale_hessian  [{bits, format, codes, step, base_loss, evaluations, seconds, matrix: [[…]]}] one per
//                  bits; codes: "rerounded" (default) or "fixed" (core/analysis/scaled_rtn.h);
//   landscape      [{bits, format, codes, blocks: [a, a + 1], values, base_loss, seconds, loss: [[…]]}]
//                  loss[i][j] at c_a = values[i], c_{a+1} = values[j];
//   awq            [{bits, format, seconds, groups: [{block, group, applied, note, alphas, alpha_error, alpha,
//                  error_rtn, clip_ratios, clip_error, clip_search_error, clip_search_mean_ratio}]}];
//   outliers       {bins, weights: [{tensor, block, part, rows, cols, range, counts, mean, std, max_abs,
//                  kurtosis}], inputs: [{block, input, channels, q1, q3, iqr, coarse_threshold, threshold,
//                  outliers: [channel, …] largest first, top: [[channel, max_abs], …]}]}.
// A view that was not run is absent (or an empty list).
// views.safetensors — F32 arrays, metadata format "lowbit-views": per Hessian (block b, input i,
// level l) `hessian.blk.b.i.l` [c, c], `hessian.blk.b.i.l.diag` [c], `hessian.blk.b.i.l.eigenvalues`
// [c] (descending); per input with the outlier view `outliers.blk.b.i.max_abs` [c].
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/awq_curves.h"
#include "core/analysis/outliers.h"
#include "core/analysis/scale_loss.h"
#include "core/analysis/weight_hessian.h"
#include "core/io/safetensors.h"

namespace lowbit {

struct HessianView {
  std::vector<std::string> levels;
  std::string format;  // the family of the b-bit levels, e.g. "int{b}g64a"
  std::vector<int64_t> blocks;
  std::vector<HessianSummary> layers;
};

struct OutlierView {
  int bins = 0;
  std::vector<WeightHistogram> weights;
  std::vector<InputOutliers> inputs;
};

struct ViewsData {
  std::string model, architecture;
  int64_t blocks = 0, samples = 0, ctx = 0, tokens = 0;
  uint64_t seed = 0;
  nlohmann::json options = nlohmann::json::object();
  std::map<std::string, double> seconds;  // per view, and "total"
  std::optional<HessianView> hessian;
  std::vector<ScaleHessianResult> scale_hessian;
  std::vector<LandscapeResult> landscape;
  std::vector<AwqCurvesResult> awq;
  std::optional<OutlierView> outliers;
};

std::string hessian_array_name(int64_t block, LinearInput input, const std::string& level);  // + ".diag", ".eigenvalues"
std::string max_abs_array_name(int64_t block, LinearInput input);

nlohmann::json views_to_json(const ViewsData& data);
// `where` names the file in errors.
Expected<ViewsData> views_from_json(const nlohmann::json& j, const std::string& where);

// A folder with views.json and views.safetensors, the arrays memory-mapped and decoded on request.
class ViewsFile {
 public:
  static Expected<ViewsFile> open(const std::filesystem::path& dir);
  const ViewsData& data() const { return data_; }
  Expected<std::vector<float>> hessian(int64_t block, LinearInput input, const std::string& level) const;  // [c, c]
  Expected<std::vector<float>> hessian_diag(int64_t block, LinearInput input, const std::string& level) const;
  Expected<std::vector<float>> hessian_eigenvalues(int64_t block, LinearInput input, const std::string& level) const;
  Expected<std::vector<float>> max_abs(int64_t block, LinearInput input) const;
  Expected<std::vector<float>> array(const std::string& name) const;

 private:
  std::filesystem::path dir_;
  ViewsData data_;
  std::shared_ptr<SafetensorsFile> arrays_;
  std::map<std::string, const TensorInfo*> by_name_;
};

}  // namespace lowbit
