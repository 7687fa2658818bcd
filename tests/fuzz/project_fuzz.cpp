// libFuzzer target: the project file reader (core/io/project_file.h read_project), as the studio's
// File › Open Project and `lowbit report` reach it. Every input gives a Project or an Error naming
// the file; an accepted project writes to JSON and reads back to the same JSON.
#include <cstddef>
#include <cstdint>

#include "core/io/project_file.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lowbit;
  const auto path = fuzz::write_input(data, size, "input.lowbit");
  const auto project = read_project(path);
  if (!project) {
    fuzz::require_names(project.error().message, path.string());
    return 0;
  }
  const auto base = path.parent_path();
  const nlohmann::json j = project->to_json(base);
  const auto again = Project::from_json(j, base, "round trip");
  fuzz::require(again.has_value(), "a project's own JSON reads back", again ? std::string() : again.error().message);
  fuzz::require(again->to_json(base) == j, "a project's JSON round-trips", j.dump());
  return 0;
}
