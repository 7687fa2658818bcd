// libFuzzer target: the layout file reader (core/plan/layout.h read_layout), as `lowbit ppl
// --layout` and `lowbit export --layout` reach it. Every input gives a Layout or an Error naming the
// file; an accepted layout writes to JSON and reads back to the same JSON.
#include <cstddef>
#include <cstdint>

#include "core/plan/layout.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lowbit;
  const auto path = fuzz::write_input(data, size, "layout.json");
  const auto layout = read_layout(path);
  if (!layout) {
    fuzz::require_names(layout.error().message, path.string());
    return 0;
  }
  const nlohmann::json j = layout->to_json();
  const auto again = Layout::from_json(j, "round trip");
  fuzz::require(again.has_value(), "a layout's own JSON reads back", again ? std::string() : again.error().message);
  fuzz::require(again->to_json() == j, "a layout's JSON round-trips", j.dump());
  return 0;
}
