#include "widgets/plots/comparison_data.h"

#include "core/quant/format.h"

namespace lowbit {

ComparisonData comparison_data(const std::vector<CompareRow>& rows, const std::string& title) {
  ComparisonData data;
  data.title = title;
  for (const CompareRow& r : rows) {
    LayoutPoint pt;
    pt.name = r.name;
    pt.bytes = r.file_bytes ? static_cast<double>(*r.file_bytes) : 0;
    pt.perplexity = r.ppl;
    pt.bits_per_weight = r.bits_whole_file ? r.bits_per_weight : 0;
    pt.uniform = Format::parse(r.name).has_value();
    data.layouts.push_back(pt);
  }
  return data;
}

}  // namespace lowbit
