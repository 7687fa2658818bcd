// lowbit tokenize MODEL --text FILE [--add-special] [--ids]
#include <cstdio>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/io/mapped_file.h"
#include "core/model/model.h"

namespace lowbit::cli {

int run_tokenize(const std::vector<std::string>& argv) {
  std::string err;
  auto args = Args::parse(argv, {{"text"}, {"json", "add-special", "ids"}, {}}, err);
  const bool json = args && args->flag("json");
  if (!args) return usage_error("tokenize", err, json);
  if (args->positional().size() != 1) return usage_error("tokenize", "expects one MODEL", json);
  const auto text_path = args->get("text");
  if (!text_path) return usage_error("tokenize", "--text FILE is required", json);

  auto model = open_model(args->positional()[0], true);
  if (!model) return fail(model.error(), json);
  auto text = read_text_file(*text_path);
  if (!text) return fail(text.error(), json);
  auto ids = tokenize_text(*model->tokenizer, *text, args->flag("add-special"), *text_path);
  if (!ids) return fail(ids.error(), json);

  if (json) {
    nlohmann::json out = {{"ok", true}, {"tokens", ids->size()}, {"characters", text->size()}, {"tokenizer", model->tokenizer->kind()}};
    out["ids"] = *ids;
    print_json(out);
    return kOk;
  }
  std::printf("%zu tokens (%s tokenizer, %zu bytes of text)\n", ids->size(), model->tokenizer->kind().c_str(), text->size());
  if (args->flag("ids")) {
    for (size_t i = 0; i < ids->size(); ++i) std::printf("%s%d", i ? " " : "", (*ids)[i]);
    std::printf("\n");
  }
  return kOk;
}

}  // namespace lowbit::cli
