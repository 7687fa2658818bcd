// lowbit info MODEL | --devices
#include <cstdio>
#include <map>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "core/model/forward.h"
#include "core/model/model.h"
#include "core/model/tensor_names.h"
#if LOWBIT_HAVE_VULKAN
#include "gpu/device/device_list.h"
#endif

namespace lowbit::cli {
namespace {

nlohmann::json config_json(const ModelConfig& c) {
  return {{"architecture", arch_name(c.arch)}, {"model_type", c.model_type}, {"hidden", c.hidden},
          {"layers", c.n_layers}, {"heads", c.n_heads}, {"kv_heads", c.n_kv_heads}, {"head_dim", c.head_dim},
          {"ffn", c.ffn}, {"vocab", c.vocab}, {"max_positions", c.max_positions}, {"norm_eps", c.norm_eps},
          {"rope_theta", c.rope_theta}, {"tied_embeddings", c.tied_embeddings}};
}

int devices(bool json) {
  nlohmann::json out = {{"ok", true}, {"devices", nlohmann::json::array()}};
#if LOWBIT_HAVE_VULKAN
  auto list = gpu::list_devices();
  if (!list) {
    out["vulkan"] = list.error().message;
  } else {
    int i = 0;
    for (const auto& d : *list)
      out["devices"].push_back({{"index", i++}, {"name", d.name}, {"type", d.type}, {"memory_bytes", d.device_local_bytes},
                                {"vulkan_api", d.api_version}, {"driver", d.driver}, {"cooperative_matrix", d.cooperative_matrix},
                                {"cooperative_matrix_extensions", d.cooperative_matrix_extensions}});
    out["vulkan"] = "available";
  }
#else
  out["vulkan"] = "this build has no Vulkan backend (LOWBIT_VULKAN=OFF)";
#endif
  out["cpu"] = {{"threads", compute_threads_available()}};
  if (json) {
    print_json(out);
  } else {
    std::printf("cpu      %d threads\n", out["cpu"]["threads"].get<int>());
    if (out["devices"].empty()) std::printf("vulkan   none (%s)\n", out["vulkan"].get<std::string>().c_str());
    for (const auto& d : out["devices"])
      std::printf("vulkan %d %s (%s, %.1f GiB%s)\n", d["index"].get<int>(), d["name"].get<std::string>().c_str(),
                  d["type"].get<std::string>().c_str(), static_cast<double>(d["memory_bytes"].get<uint64_t>()) / (1 << 30),
                  d["cooperative_matrix"].get<bool>() ? ", cooperative matrices" : "");
  }
  return kOk;
}

}  // namespace

int run_info(const std::vector<std::string>& argv) {
  std::string err;
  auto args = Args::parse(argv, {{}, {"json", "devices", "tensors"}, {}}, err);
  const bool json = args && args->flag("json");
  if (!args) return usage_error("info", err, json);
  if (args->flag("devices")) return devices(json);
  if (args->positional().size() != 1) return usage_error("info", "expects one MODEL", json);

  auto model = open_model(args->positional()[0], false);
  if (!model) return fail(model.error(), json);
  const Checkpoint& ck = *model->checkpoint;
  const ModelConfig& c = model->config;

  std::map<std::string, uint64_t> dtype_params;
  for (const auto& t : ck.tensors()) dtype_params[dtype_name(t.dtype)] += static_cast<uint64_t>(t.numel());
  const auto names = tensor_names(c, ck.kind() == Checkpoint::Kind::Gguf);
  const auto linear = block_linear_tensors(names);
  uint64_t linear_params = 0;
  for (const auto& n : linear)
    if (const TensorInfo* t = ck.find(n)) linear_params += static_cast<uint64_t>(t->numel());

  nlohmann::json out = {{"ok", true},
                        {"path", ck.path().string()},
                        {"format", ck.kind_name()},
                        {"config", config_json(c)},
                        {"parameters", ck.parameter_count()},
                        {"quantizable_parameters", linear_params},
                        {"file_bytes", ck.file_bytes()},
                        {"tensor_count", ck.tensors().size()},
                        {"dtypes", dtype_params},
                        {"tokenizer", ck.gguf() ? "gguf" : ck.tokenizer_json().empty() ? "none" : ck.tokenizer_json().string()}};
  // A quantized checkpoint (GPTQ, onebit): its layers are listed dequantized, so say what they are.
  int64_t decoded = 0;
  for (const auto& t : ck.tensors()) decoded += t.decode ? 1 : 0;
  if (ck.config().is_object() && ck.config().contains("quantization_config"))
    out["quantization"] = {{"config", ck.config()["quantization_config"]}, {"layers_decoded_on_read", decoded}};
  // Whether the tokenizer loads (ppl, quantize with calibration and the studio need it).
  {
    Expected<std::unique_ptr<Tokenizer>> tok = make_error(ErrorCode::Format, "no tokenizer.json beside the weights");
    if (ck.gguf()) tok = Tokenizer::from_gguf(*ck.gguf());
    else if (!ck.tokenizer_json().empty()) tok = Tokenizer::from_json_file(ck.tokenizer_json());
    out["tokenizer_status"] = tok ? "loads, " + std::to_string((*tok)->vocab_size()) + " tokens" : "does not load: " + tok.error().message;
  }
  if (args->flag("tensors") || json) {
    nlohmann::json ts = nlohmann::json::array();
    for (const auto& t : ck.tensors()) ts.push_back({{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"bytes", t.nbytes}});
    out["tensors"] = ts;
  }
  if (json) {
    print_json(out);
    return kOk;
  }
  std::printf("%s\n", ck.path().string().c_str());
  std::printf("  format         %s\n", ck.kind_name());
  std::printf("  architecture   %s (model_type %s)\n", arch_name(c.arch), c.model_type.c_str());
  std::printf("  layers         %lld, hidden %lld, heads %lld (kv %lld, head_dim %lld), ffn %lld, vocab %lld\n",
              static_cast<long long>(c.n_layers), static_cast<long long>(c.hidden), static_cast<long long>(c.n_heads),
              static_cast<long long>(c.n_kv_heads), static_cast<long long>(c.head_dim), static_cast<long long>(c.ffn),
              static_cast<long long>(c.vocab));
  std::printf("  parameters     %.3f M (%.3f M in block linear layers)\n", static_cast<double>(ck.parameter_count()) / 1e6,
              static_cast<double>(linear_params) / 1e6);
  std::printf("  size on disk   %.2f MB\n", static_cast<double>(ck.file_bytes()) / 1e6);
  std::printf("  tensors        %zu:", ck.tensors().size());
  for (const auto& [k, v] : dtype_params) std::printf(" %s %.3f M", k.c_str(), static_cast<double>(v) / 1e6);
  if (out.contains("quantization")) {
    const auto& q = out["quantization"]["config"];
    std::printf("\n  quantization   %s", q.value("quant_method", std::string("?")).c_str());
    if (q.contains("bits")) std::printf(", %s bits", q["bits"].dump().c_str());
    if (q.contains("group_size")) std::printf(", group %s", q["group_size"].dump().c_str());
    std::printf("; %lld layers stored quantized (listed above as the weights they decode to)", static_cast<long long>(decoded));
  }
  std::printf("\n  tokenizer      %s (%s)\n", out["tokenizer"].get<std::string>().c_str(), out["tokenizer_status"].get<std::string>().c_str());
  if (args->flag("tensors"))
    for (const auto& t : ck.tensors())
      std::printf("  %-48s %-6s %s\n", t.name.c_str(), dtype_name(t.dtype), t.shape_string().c_str());
  return kOk;
}

}  // namespace lowbit::cli
