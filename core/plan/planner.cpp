#include "core/plan/planner.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/export/gguf_export.h"

namespace lowbit {
namespace {

// Each item's choice minimizing cost + λ·bytes (ties: fewer bytes).
std::vector<size_t> relaxed(const std::vector<std::vector<KnapsackChoice>>& items, double lambda, uint64_t& bytes) {
  std::vector<size_t> pick(items.size());
  bytes = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    double best = std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < items[i].size(); ++c) {
      const double v = items[i][c].cost + lambda * static_cast<double>(items[i][c].bytes);
      if (v < best || (v == best && items[i][c].bytes < items[i][pick[i]].bytes)) {
        best = v;
        pick[i] = c;
      }
    }
    bytes += items[i][pick[i]].bytes;
  }
  return pick;
}

}  // namespace

Expected<std::vector<size_t>> solve_knapsack(const std::vector<std::vector<KnapsackChoice>>& items, uint64_t budget, double* lambda_out) {
  uint64_t min_bytes = 0;
  std::vector<size_t> smallest(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].empty()) return make_error(ErrorCode::InvalidArgument, "planner: an item has no choices");
    for (size_t c = 1; c < items[i].size(); ++c)
      if (items[i][c].bytes < items[i][smallest[i]].bytes ||
          (items[i][c].bytes == items[i][smallest[i]].bytes && items[i][c].cost < items[i][smallest[i]].cost))
        smallest[i] = c;
    min_bytes += items[i][smallest[i]].bytes;
  }
  if (min_bytes > budget)
    return make_error(ErrorCode::InvalidArgument, "the budget of " + std::to_string(budget) + " bytes is below the smallest layout the menu allows (" +
                                                      std::to_string(min_bytes) + " bytes)");
  // Bisection on λ (bytes fall as λ grows): the smallest λ whose relaxed solution fits.
  uint64_t bytes = 0;
  std::vector<size_t> pick = relaxed(items, 0.0, bytes);
  double lambda = 0;
  if (bytes > budget) {
    double lo = 0, hi = 1e-12;
    std::vector<size_t> p;
    while (true) {
      p = relaxed(items, hi, bytes);
      if (bytes <= budget || hi > 1e30) break;
      hi *= 4;
    }
    for (int it = 0; it < 200; ++it) {
      const double mid = 0.5 * (lo + hi);
      uint64_t b = 0;
      auto q = relaxed(items, mid, b);
      if (b <= budget) hi = mid;
      else lo = mid;
    }
    pick = relaxed(items, hi, bytes);
    if (bytes > budget) pick = smallest, bytes = min_bytes;
    lambda = hi;
  }
  // Repair: the best cost decrease per extra byte that still fits, until none does.
  while (true) {
    double best_ratio = 0;
    size_t bi = 0, bc = 0;
    bool found = false;
    for (size_t i = 0; i < items.size(); ++i) {
      const KnapsackChoice& cur = items[i][pick[i]];
      for (size_t c = 0; c < items[i].size(); ++c) {
        const KnapsackChoice& alt = items[i][c];
        const double gain = cur.cost - alt.cost;
        if (gain <= 0) continue;
        if (alt.bytes > cur.bytes && bytes - cur.bytes + alt.bytes > budget) continue;
        const double extra = alt.bytes > cur.bytes ? static_cast<double>(alt.bytes - cur.bytes) : 0.0;
        const double ratio = extra > 0 ? gain / extra : std::numeric_limits<double>::infinity();
        if (!found || ratio > best_ratio) {
          found = true;
          best_ratio = ratio;
          bi = i;
          bc = c;
        }
      }
    }
    if (!found) break;
    bytes = bytes - items[bi][pick[bi]].bytes + items[bi][bc].bytes;
    pick[bi] = bc;
  }
  if (lambda_out) *lambda_out = lambda;
  return pick;
}

Expected<void> PlanOptions::validate() const {
  if (formats.empty()) return make_error(ErrorCode::InvalidArgument, "plan: the format menu is empty");
  if (budget_bpw.has_value() == budget_bytes.has_value())
    return make_error(ErrorCode::InvalidArgument, "plan: give exactly one of --budget-bpw and --budget-size");
  if (budget_bpw && !(*budget_bpw > 0 && *budget_bpw <= 32)) return make_error(ErrorCode::InvalidArgument, "plan: --budget-bpw must be in (0, 32]");
  if (budget_bytes && *budget_bytes == 0) return make_error(ErrorCode::InvalidArgument, "plan: --budget-size must be positive");
  return {};
}

double PlanResult::predicted_ppl(double nll_ref) const {
  return std::isnan(total_dnll) ? std::numeric_limits<double>::quiet_NaN() : std::exp(nll_ref + total_dnll);
}

Expected<PlanResult> plan_layout(const Model& source, const ModelWeights& m, const SensitivityTable& sens, const PlanOptions& o) {
  LB_TRY_VOID(o.validate());
  PlanResult res;
  // Every quantizable tensor with its shape and block.
  struct Tensor {
    std::string name;
    int64_t block;
    int64_t rows, cols;
  };
  std::vector<Tensor> tensors;
  for (const LinearRef& r : block_linears(m))
    if (tensors.empty() || tensors.back().name != r.tensor) {
      const auto shape = *quantizable_shape(m, r.tensor);
      tensors.push_back({r.tensor, r.block, shape.first, shape.second});
    }
  // The Hessian kind has no cost for the embeddings and head: they stay as stored.
  if (o.embeddings && sens.kind == SensitivityKind::Hessian)
    res.warnings.push_back("Hessian sensitivities cover the block linears only; embeddings and head stay as stored");
  if (o.embeddings && sens.kind == SensitivityKind::Kld) {
    tensors.push_back({m.names.tok_embd, -1, m.tok_embd.rows(), m.tok_embd.cols()});
    if (!m.names.lm_head.empty()) tensors.push_back({m.names.lm_head, -1, m.lm_head.rows(), m.lm_head.cols()});
  }
  // The fixed part of the file (header, norms, anything not chosen): the size with every chosen
  // tensor in the cheapest format, minus those tensors' bytes.
  bool all_gguf = true;
  for (const Format& f : o.formats) all_gguf = all_gguf && (f.kind == Format::Kind::Ggml || f.kind == Format::Kind::Float);
  std::map<std::string, Format> probe;
  const Format gguf_probe = Format::ggml(DType::Q8_0);
  uint64_t chosen_probe_bytes = 0;
  for (const Tensor& t : tensors) {
    probe[t.name] = gguf_probe.fits(t.cols) ? gguf_probe : Format::float_type(DType::F16);
    chosen_probe_bytes += probe[t.name].bytes(t.rows, t.cols);
  }
  LB_TRY_ASSIGN(const uint64_t probe_size, gguf_file_size(source, m, probe));
  const uint64_t fixed = probe_size - chosen_probe_bytes;
  int64_t params = 0;
  for (const auto& t : source.checkpoint->tensors()) params += t.numel();
  // A GGUF source holds the same parameters; an HF one may hold extras (biases included): count
  // what the export writes instead when they differ is not needed — both are the model's weights.
  res.parameters = params;
  res.budget_bytes = o.budget_bytes ? *o.budget_bytes : static_cast<uint64_t>(std::floor(*o.budget_bpw * static_cast<double>(params) / 8.0));
  if (res.budget_bytes <= fixed)
    return make_error(ErrorCode::InvalidArgument, "the budget of " + std::to_string(res.budget_bytes) + " bytes does not even hold what is not planned (" +
                                                      std::to_string(fixed) + " bytes: header and norms" +
                                                      (o.embeddings && sens.kind == SensitivityKind::Kld ? "" : ", embeddings and head as stored") + ")");

  // Knapsack items: tensors, or blocks of tensors.
  struct Group {
    std::vector<size_t> members;
  };
  std::vector<Group> groups;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (o.block_level && tensors[i].block >= 0 && !groups.empty() && tensors[groups.back().members.front()].block == tensors[i].block)
      groups.back().members.push_back(i);
    else
      groups.push_back({{i}});
  }
  std::vector<std::vector<KnapsackChoice>> items;
  std::vector<std::vector<size_t>> item_formats;  // choice → index into o.formats
  for (const Group& g : groups) {
    std::vector<KnapsackChoice> choices;
    std::vector<size_t> fidx;
    for (size_t fi = 0; fi < o.formats.size(); ++fi) {
      const Format& f = o.formats[fi];
      KnapsackChoice c;
      bool ok = true;
      for (size_t mi : g.members) {
        const Tensor& t = tensors[mi];
        auto it = sens.values.find(t.name);
        if (!f.fits(t.cols) || it == sens.values.end() || !it->second.count(f.name())) {
          ok = false;
          break;
        }
        c.bytes += f.bytes(t.rows, t.cols);
        c.cost += it->second.at(f.name()).kld;
      }
      if (ok) {
        choices.push_back(c);
        fidx.push_back(fi);
      }
    }
    if (choices.empty())
      return make_error(ErrorCode::Unsupported, "plan: no format of the menu fits " + tensors[g.members.front()].name +
                                                    " (rows of " + std::to_string(tensors[g.members.front()].cols) + ")");
    items.push_back(std::move(choices));
    item_formats.push_back(std::move(fidx));
  }
  // Each tensor's data is padded to 32 bytes in the file: keep that much per tensor in reserve.
  const uint64_t reserve = 32 * tensors.size();
  if (res.budget_bytes <= fixed + reserve)
    return make_error(ErrorCode::InvalidArgument, "the budget of " + std::to_string(res.budget_bytes) + " bytes does not hold the header and norms");
  LB_TRY_ASSIGN(const std::vector<size_t> pick, solve_knapsack(items, res.budget_bytes - fixed - reserve, &res.lambda));

  res.layout.method = o.method;
  res.layout.model = source.checkpoint->path().string();
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const Format& f = o.formats[item_formats[gi][pick[gi]]];
    for (size_t mi : groups[gi].members) {
      const Tensor& t = tensors[mi];
      const Sensitivity& s = sens.values.at(t.name).at(f.name());
      res.layout.tensors[t.name] = f;
      res.rows.push_back({t.name, t.block, t.rows, t.cols, f.name(), f.bytes(t.rows, t.cols), s.kld, s.dnll});
      res.total_kld += s.kld;
      res.total_dnll += s.dnll;
    }
  }
  if (all_gguf) {
    LB_TRY_ASSIGN(res.file_bytes, gguf_file_size(source, m, res.layout.tensors));
    res.exact_size = true;
  } else {
    uint64_t chosen = 0;
    for (const PlanRow& r : res.rows) chosen += r.bytes;
    res.file_bytes = fixed + chosen;
  }
  if (res.file_bytes > res.budget_bytes)
    res.warnings.push_back("the file is " + std::to_string(res.file_bytes - res.budget_bytes) +
                           " bytes over the budget (alignment padding the estimate did not see)");
  res.bits_per_weight = 8.0 * static_cast<double>(res.file_bytes) / static_cast<double>(params);
  return res;
}

Expected<void> check_plan_feasible(const Model& source, const ModelWeights& m, SensitivityKind kind, const PlanOptions& o) {
  SensitivityTable zero;
  zero.kind = kind;
  auto add = [&](const std::string& name, int64_t cols) {
    for (const Format& f : o.formats)
      if (f.fits(cols)) zero.values[name][f.name()] = Sensitivity{};
  };
  for (const LinearRef& r : block_linears(m))
    if (const auto shape = quantizable_shape(m, r.tensor)) add(r.tensor, shape->second);
  if (o.embeddings && kind == SensitivityKind::Kld) {
    add(m.names.tok_embd, m.tok_embd.cols());
    if (!m.names.lm_head.empty()) add(m.names.lm_head, m.lm_head.cols());
  }
  LB_TRY_VOID(plan_layout(source, m, zero, o));
  return {};
}

}  // namespace lowbit
