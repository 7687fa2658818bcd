// `lowbit analyze --views`: the analyses behind the studio's views (METHODS.md §7, DESIGN.md "The
// studio"), computed next to the calibration statistics of core/calib/analyze.h and saved in the same
// folder as views.json and views.safetensors (core/analysis/views_file.h documents both). The views:
//   hessian        weight Hessians at fp and at b bits, with spectra and off-diagonal mass
//                  (core/analysis/weight_hessian.h); the fp ones are the calibration folder's own;
//   scale-hessian  ∂²L/∂c_i∂c_j of the calibration loss over per-block scale multipliers, at each b
//                  (core/analysis/scale_loss.h);
//   landscape      the loss over (c_a, c_{a+1}) of two consecutive blocks, at each b; the pair is
//                  `landscape_block` when given, else the one with the largest |∂²L/∂c_k∂c_{k+1}| of
//                  the scale Hessian at the lowest b when that view runs, else blocks 0 and 1;
//   awq            AWQ's error against α and the clip ratio per group, at each b (awq_curves.h);
//   outliers       weight histograms and kurtosis, activation max |x| with CFP fences (outliers.h).
// "b bits" is the int family int{b}g{group}{a|s} with min-max RTN (default group 64, asymmetric).
// All files — calibration.json, stats.safetensors, views.json, views.safetensors — are written in a
// staging folder inside DIR and moved into DIR at the end: a cancelled or failed run leaves nothing
// new (and removes DIR when it created it). The model is only changed temporarily (restored).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/analysis/outliers.h"
#include "core/analysis/scale_loss.h"
#include "core/calib/analyze.h"
#include "core/quant/awq.h"

namespace lowbit {

enum class ViewKind { Hessian, ScaleHessian, Landscape, Awq, Outliers };
const char* view_kind_name(ViewKind v);  // "hessian", "scale-hessian", "landscape", "awq", "outliers"
std::optional<ViewKind> view_kind_from_name(const std::string& name);
// "hessian,awq" → the set; an InvalidArgument error names an unknown view.
Expected<std::set<ViewKind>> parse_view_list(const std::string& list);

struct ViewsOptions {
  std::set<ViewKind> views;
  std::vector<int> bits = {2, 3, 4};  // the b of "at b bits" (2..8), for every view but outliers
  int64_t group = 64;                 // the int family's group (0: one per row)
  bool symmetric = false;
  std::vector<int64_t> blocks;        // hessian view; empty: default_hessian_blocks
  double fd_step = 0.02;              // scale Hessian's finite-difference step h
  bool scale_fixed_codes = false;     // scale views: keep the codes, move only the scales (scaled_rtn.h)
  int landscape_points = 11;          // per axis
  double landscape_min = 0.8, landscape_max = 1.2;
  int64_t landscape_block = -1;       // first block of the pair; -1: chosen as above
  AwqOptions awq;
  OutlierOptions outliers;
  ScaleLossRunnerFactory scale_runner;  // where the scale views' forward passes run (empty: the CPU)
  Expected<void> validate() const;
  Format format(int b) const { return Format::integer(b, group, symmetric); }
  nlohmann::json to_json() const;
};

// Runs analyze_to_folder (with `calibration_hooks`: where its walk runs, and with it the walks of the
// Hessian and AWQ views; options.awq.backend evaluates the AWQ view's α grids, options.scale_runner
// runs the scale views) and the requested views; returns {"calibration": calibration.json, "views": a
// summary of views.json, "scale_views_backend": where the scale views ran, and "scale_views_note" why
// not on the runner asked for} (the CLI's --json output).
Expected<nlohmann::json> analyze_views_to_folder(ModelWeights& m, std::span<const int32_t> windows, const AnalyzeInfo& info,
                                                 const ViewsOptions& options, const std::filesystem::path& dir,
                                                 Progress* progress = nullptr, const CancelToken* cancel = nullptr,
                                                 const BlockHooks& calibration_hooks = {});

}  // namespace lowbit
