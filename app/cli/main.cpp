// `lowbit`, the command-line twin of Lowbit Studio. Dispatches the command word; SIGINT cancels the
// running job cleanly through the shared cancel token (exit 130, no partial output).
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "app/cli/commands.h"
#include "core/model/forward.h"

namespace lowbit::cli {

CancelToken& interrupt_token() {
  static CancelToken token;
  return token;
}

namespace {

void on_sigint(int) {
  // A second Ctrl-C stops at once.
  if (interrupt_token().cancelled()) std::_Exit(kCancelled);
  interrupt_token().cancel();
}

constexpr const char* kUsageText = R"(lowbit — the command-line twin of Lowbit Studio

usage: lowbit COMMAND [options]   (every command accepts --json)

  info      MODEL [--tensors]            architecture, sizes and tensors of a checkpoint
  info      --devices                    the compute devices (Vulkan) this machine offers
  tokenize  MODEL --text FILE [--add-special] [--ids]
  ppl       MODEL --text FILE [--ctx N] [--method strided|llama.cpp] [--reference MODEL2]
                  [--backend cpu|vulkan [--device N] [--max-device-mb MB]] [--threads N] [--max-windows N]
                  [--stream] (one decoder block in memory; on its own when the model would not fit) [--dry-run]

  analyze   MODEL --calib FILE [--samples N] [--ctx N] [--seed S] --out DIR [--imatrix F.dat] [--threads N]
                  [--dry-run] [--resume (continue an interrupted run from DIR.resume/)]
                  [--backend cpu|vulkan [--device N] [--max-device-mb MB] (the calibration walk, the views' work)]
            per-layer input Hessians and activation statistics, saved in DIR (calibration.json,
            stats.safetensors), streamed block by block
                  [--views hessian,scale-hessian,landscape,awq,outliers] [--view-bits 2,3,4] [--blocks 0,3]
                  [--view-group G] [--fd-step H] [--scale-codes rerounded|fixed] [--landscape-points N]
                  [--landscape-block K]
            and the studio's views of the problem (views.json, views.safetensors)

  quantize  MODEL --method rtn|gptq|awq|awq+gptq --format FMT [--calib FILE --samples N --ctx N --seed S]
                  [--act-order] [--static-groups] [--damp X] [--weighted-grids] [--mse] [--no-clip]
                  [--awq-grid N (awq, awq+gptq: α points, 20)]
                  [--backend cpu|vulkan [--device N] [--max-device-mb MB] (rtn, gptq's factor and sweep, awq's α grid and clip,
                   the calibration on the GPU)] [--calib-backend cpu|vulkan] [--factor-backend cpu|vulkan (gptq's inverse factor)]
                  [--quantize-embeddings] [--eval FILE] [--eval-ctx N] [--threads N]
                  [--layout L.json (instead of --format)] [--out OUT.gguf [--name NAME]]
                  [--resume (gptq, awq, awq+gptq: continue an interrupted --out run from OUT.resume/)]
                  [--dry-run (output size, peak memory, time; writes nothing)]
            --method cbq (int formats): [--cbq-window K] [--cbq-iters N] [--cbq-lr X] [--cbq-scale-lr X]
                  [--cbq-rank R] [--cbq-lambda X] [--cbq-batch N] [--cbq-samples N] [--cbq-kl X] [--cbq-kappa X] [--no-cfp]
            --method onebit (format onebit): [--onebit-iters N per block, 0 = SVID alone] [--onebit-lr X]
                  [--onebit-latent-lr X] [--onebit-batch N] [--onebit-kd [--onebit-kd-weight X]]
                  [--out DIR (a onebit checkpoint folder)]
  export    MODEL --layout L.json --to gguf|gptq --out PATH [--calib FILE ...] [--backend cpu|vulkan ...] (as quantize)
            quantizes as the layout says and writes a GGUF llama.cpp loads, or a GPTQ checkpoint folder
            (int formats)
  plan      MODEL --budget-bpw X | --budget-size BYTES [--formats a,b,c] [--method M] [--block-level]
                  [--no-embeddings] [--sensitivity kld|hessian] --calib FILE [--samples N] [--text FILE]
                  [--cache FILE (an interrupted plan resumes from it)] --out L.json
                  [--dry-run (not with --text)] [--backend cpu|vulkan [--device N] [--max-device-mb MB]
                  (kld: the forward passes, hessian: the calibration walk on the GPU)]
  compare   MODEL [--layouts A.json B.json ...] [--uniform q3_k,q4_k [--quantize-embeddings]] --text FILE
                  [--ctx N] [--max-windows N] [--calib FILE] [--dry-run]
                  [--backend cpu|vulkan [--device N] [--max-device-mb MB] (the candidates' quantization and evaluation)]
  ppl       ... --layout L.json [--calib FILE]   the model quantized in memory as the layout says
  report    PROJECT.lowbit --pdf OUT.pdf [--title TEXT]   the PDF report of a studio project
            FMT: f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k q4_k q5_k q6_k int{2..8}g{G}{a|s} (G=0: per row)

MODEL is a Hugging Face checkpoint folder, a .safetensors file or a .gguf file.
Exit codes: 0 ok, 1 failure, 2 usage error, 130 cancelled.
)";

// The usage text's entries for `command` (its lines and their indented continuations) with the
// general lines after them: what `lowbit COMMAND --help` prints.
std::string command_usage(const std::string& command) {
  std::string out = "usage:\n", line, tail;
  bool in_entry = false, listed = false;
  for (size_t at = 0; at < std::strlen(kUsageText);) {
    size_t end = std::string_view(kUsageText).find('\n', at);
    if (end == std::string_view::npos) end = std::strlen(kUsageText);
    line.assign(kUsageText + at, end - at);
    at = end + 1;
    const bool entry = line.size() > 2 && line[0] == ' ' && line[1] == ' ' && line[2] != ' ';
    if (entry) in_entry = line.compare(2, command.size() + 1, command + " ") == 0;
    else if (line.empty() || line[0] != ' ') in_entry = false;
    const bool general = line.find("FMT: ") != std::string::npos || line.rfind("MODEL is", 0) == 0 || line.rfind("Exit codes", 0) == 0;
    if (general) tail += line.substr(line.find_first_not_of(' ')) + "\n";
    else if (in_entry) out += line + "\n", listed = true;
  }
  return listed ? out + "\n" + tail : std::string();
}

}  // namespace
}  // namespace lowbit::cli

int main(int argc, char** argv) {
  using namespace lowbit::cli;
  std::signal(SIGINT, on_sigint);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsageText, args.empty() ? stderr : stdout);
    return args.empty() ? kUsage : kOk;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (std::find(args.begin(), args.end(), "--help") != args.end() || std::find(args.begin(), args.end(), "-h") != args.end()) {
    const std::string usage = command_usage(command);
    if (!usage.empty()) {
      std::fputs(usage.c_str(), stdout);
      return kOk;
    }
  }
  if (command == "info") return run_info(args);
  if (command == "tokenize") return run_tokenize(args);
  if (command == "ppl") return run_ppl(args);
  if (command == "quantize") return run_quantize(args);
  if (command == "analyze") return run_analyze(args);
  if (command == "export") return run_export(args);
  if (command == "plan") return run_plan(args);
  if (command == "compare") return run_compare(args);
  if (command == "report") return run_report(args);
  if (command == "dev") return run_dev(args);
  std::fprintf(stderr, "lowbit: unknown command '%s'\n\n%s", command.c_str(), kUsageText);
  return kUsage;
}
