#!/bin/bash
# Issue 4's GPU figures in one call of the `device` tool (a lent NVIDIA machine; 15 minutes of device
# time in all, so everything runs in one prepared command, most important first, under one deadline).
# tests/bench/prepare_device.sh does all of the following. Build here first (Release, LOWBIT_GUI=OFF) and fetch the Vulkan loader once, as
# .library/device/README.md says (`.gl`); pack the binaries (the working tree travels only up to 64 MiB;
# xz across the binaries shares their embedded SPIR-V):
#   tests/bench/pack_device_bins.sh build-dev .dev
#   run(command="bash tests/bench/h100.sh", carry=[".dev", ".gl", ".kjv"], timeout_s=...)
# where .kjv (ignored) holds a copy of ../shared/models/kjv-llama-8m and kjv-valid.txt, kjv-train.txt
# for the forward and whole-model runs (../shared does not travel). H100_BUDGET (seconds, default 420)
# bounds the whole script; each step gets at most what is left. Writes its JSON and logs to $OUT
# (tests/bench/results/ when run elsewhere); commit them with the device's name and driver they hold.
set -u
start=$SECONDS
budget=${H100_BUDGET:-420}
out=${OUT:-tests/bench/results}
bin=${LOWBIT_BIN:-build/bin}
mkdir -p "$out"
log="$out/h100.log"
: >"$log"
if [ -f .dev/bin.tar.xz ]; then
  mkdir -p /tmp/lowbit && tar -xJf .dev/bin.tar.xz -C /tmp/lowbit && bin=/tmp/lowbit/bin
  export LD_LIBRARY_PATH=/tmp/lowbit/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
if ls .gl/*.deb >/dev/null 2>&1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
  ldd "$bin/gptq_bench" | grep "not found"
  "$bin/lowbit" info --devices --json
} >>"$log" 2>&1
step() {  # step SECONDS NAME COMMAND...: one run, bounded by its limit and by what is left of the budget
  local limit=$1 name=$2 left=$((budget - (SECONDS - start)))
  shift 2
  if [ "$left" -lt 10 ]; then
    echo "== $name: skipped, the budget is spent" >>"$log"
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "== $name ($((SECONDS - start)) s in)" >>"$log"
  timeout "$limit" "$@" >>"$log" 2>&1 || echo "== $name: exit $?" >>"$log"
}
# GPTQ of one layer, int4g128a, Hessian from 4096 tokens (targets: 0.25 s and 0.6 s), the inverse
# factor on the device.
export LOWBIT_GPU_PROFILE=1  # GPU timestamps of each phase on stderr ([profile] lines)
step 60 gptq4096 "$bin/gptq_bench" --backend vulkan --rows 4096 --cols 4096 --tokens 4096 --reps 3 --threads 16 --out "$out/gptq_bench_h100.json"
step 90 gptq11008 "$bin/gptq_bench" --backend vulkan --rows 4096 --cols 11008 --tokens 4096 --reps 3 --threads 16 --out "$out/gptq_bench_4096x11008_h100.json"
# The same with H and W on the device before the clock, as the reference's are on its GPU.
step 60 gptq4096_resident "$bin/gptq_bench" --backend vulkan --resident 1 --rows 4096 --cols 4096 --tokens 4096 --reps 3 --threads 16 \
  --out "$out/gptq_bench_resident_h100.json"
step 90 gptq11008_resident "$bin/gptq_bench" --backend vulkan --resident 1 --rows 4096 --cols 11008 --tokens 4096 --reps 3 --threads 16 \
  --out "$out/gptq_bench_4096x11008_resident_h100.json"
# fp16 4096³ products on both shader paths (the cooperative one where the driver offers
# VK_NV_cooperative_matrix; "path_ran" says which ran) and the Hessian accumulation's rate beside them.
step 90 matmul "$bin/matmul_bench" --formats f16,q4_k,int4g128a --m 1,128,4096 --paths portable,cooperative \
  --hessian 4096,4096 --out "$out/matmul_bench_h100.json"
# The GPU ops' tests against the CPU on this device (the ones that need ../shared skip), the paths never
# run on hardware before first.
for t in matmul_coop_test hessian_coop_test gptq_factor_op_test gptq_op_test matmul_dequant_test hessian_op_test device_test \
  buffer_test ggml_quantize_op_test rtn_int_op_test awq_op_test awq_clip_op_test matmul_op_test norm_op_test rope_op_test \
  attention_op_test activation_op_test add_op_test embed_op_test log_softmax_nll_op_test spirv_reflect_test \
  vulkan_forward_test vulkan_block_walker_test vulkan_kld_test analysis_views_vulkan_test; do
  [ -x "$bin/$t" ] && step 40 "$t" "$bin/$t" --gtest_brief=1
done
step 60 gptq4096_act_order "$bin/gptq_bench" --backend vulkan --act-order 1 --rows 4096 --cols 4096 --tokens 4096 --reps 1 --threads 16 \
  --out "$out/gptq_bench_act_order_h100.json"
step 60 gptq11008_cpu_factor "$bin/gptq_bench" --backend vulkan --factor-backend cpu --rows 4096 --cols 11008 --tokens 4096 --reps 1 \
  --threads 16 --out "$out/gptq_bench_4096x11008_cpu_factor_h100.json"
if [ -d .kjv ]; then
  step 60 ppl_vulkan "$bin/lowbit" ppl .kjv/kjv-llama-8m --text .kjv/kjv-valid.txt --ctx 256 --backend vulkan --json
  step 60 forward "$bin/forward_bench" --model .kjv/kjv-llama-8m --text .kjv/kjv-valid.txt --ctx 256 --windows 0 --batch 32 --out "$out/forward_bench_h100.json"
  step 90 quantize "$bin/lowbit" quantize .kjv/kjv-llama-8m --method gptq --format int4g128a --calib .kjv/kjv-train.txt --samples 128 \
    --ctx 256 --backend vulkan --threads 16 --out /tmp/kjv-gptq --json
  step 30 rtn_q4k "$bin/lowbit" quantize .kjv/kjv-llama-8m --method rtn --format q4_k --backend vulkan --out /tmp/kjv-q4k.gguf --json
  step 60 awq "$bin/lowbit" quantize .kjv/kjv-llama-8m --method awq --format int4g128a --calib .kjv/kjv-train.txt --samples 16 \
    --ctx 128 --backend vulkan --calib-backend cpu --threads 16 --to gptq --out /tmp/kjv-awq --json
  step 60 plan_kld "$bin/lowbit" plan .kjv/kjv-llama-8m --budget-bpw 4.5 --calib .kjv/kjv-train.txt --samples 16 --ctx 256 \
    --backend vulkan --cache /tmp/kld-gpu.json --out /tmp/plan-gpu.json --json
fi
echo "== done ($((SECONDS - start)) s)" >>"$log"
grep -E "^==|rep [0-9]|TFLOP|FAILED|PASSED|tests ran|perplexity|\"ppl\"|error" "$log" | tail -n 120
