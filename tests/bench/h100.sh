#!/bin/bash
# Issue 4's GPU figures in one call of the `device` tool (a lent NVIDIA machine; 15 minutes of device
# time in all, so everything runs in one prepared command). Build here first (Release, LOWBIT_GUI=OFF)
# and fetch the Vulkan loader once, as .library/device/README.md says (`.gl`); then:
#   run(command="bash tests/bench/h100.sh", carry=["build/bin", ".gl", ".kjv"], timeout_s=540)
# where .kjv (ignored) holds a copy of ../shared/models/kjv-llama-8m and kjv-valid.txt, kjv-train.txt
# for the forward and whole-model runs (../shared does not travel). Writes its JSON and logs to $OUT
# (tests/bench/results/ when run elsewhere); commit them with the device's name and driver they hold.
set -u
out=${OUT:-tests/bench/results}
bin=build/bin
mkdir -p "$out"
if ls .gl/*.deb >/dev/null 2>&1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
log="$out/h100.log"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
  ldd "$bin/gptq_bench" | grep "not found"
  "$bin/lowbit" info --devices --json
} >"$log" 2>&1
step() {  # step SECONDS NAME COMMAND...: one benchmark, bounded, its output in the log
  local limit=$1 name=$2
  shift 2
  echo "== $name" >>"$log"
  timeout "$limit" "$@" >>"$log" 2>&1 || echo "== $name: exit $?" >>"$log"
}
# GPTQ of one layer, int4g128a, Hessian from 4096 tokens (targets: 0.25 s and 0.6 s), the inverse
# factor on the device; 4096 × 11008 once more with the CPU's factor (16 threads) for comparison.
step 90 gptq4096 "$bin/gptq_bench" --backend vulkan --rows 4096 --cols 4096 --tokens 4096 --reps 3 --threads 16 --out "$out/gptq_bench_h100.json"
step 150 gptq11008 "$bin/gptq_bench" --backend vulkan --rows 4096 --cols 11008 --tokens 4096 --reps 3 --threads 16 --out "$out/gptq_bench_4096x11008_h100.json"
step 60 gptq4096_act_order "$bin/gptq_bench" --backend vulkan --act-order 1 --rows 4096 --cols 4096 --tokens 4096 --reps 1 --threads 16 \
  --out "$out/gptq_bench_act_order_h100.json"
step 90 gptq11008_cpu_factor "$bin/gptq_bench" --backend vulkan --factor-backend cpu --rows 4096 --cols 11008 --tokens 4096 --reps 1 \
  --threads 16 --out "$out/gptq_bench_4096x11008_cpu_factor_h100.json"
# fp16 4096³ products on both shader paths (the cooperative one where the driver offers
# VK_NV_cooperative_matrix; "path_ran" says which ran) and the Hessian accumulation's rate beside them.
step 120 matmul "$bin/matmul_bench" --formats f16,q4_k,int4g128a --m 1,128,4096 --paths portable,cooperative \
  --hessian 4096,4096 --out "$out/matmul_bench_h100.json"
# Every GPU op's test against the CPU on this device (the ones that need ../shared skip).
for t in "$bin"/*_op_test "$bin"/matmul_dequant_test "$bin"/matmul_coop_test "$bin"/hessian_coop_test "$bin"/device_test "$bin"/buffer_test "$bin"/vulkan_forward_test \
  "$bin"/vulkan_block_walker_test "$bin"/vulkan_kld_test "$bin"/analysis_views_vulkan_test; do
  [ -x "$t" ] && step 60 "$(basename "$t")" "$t" --gtest_brief=1
done
if [ -d .kjv ]; then
  step 90 forward "$bin/forward_bench" --model .kjv/kjv-llama-8m --text .kjv/kjv-valid.txt --ctx 256 --windows 0 --batch 32 --out "$out/forward_bench_h100.json"
  step 120 quantize "$bin/lowbit" quantize .kjv/kjv-llama-8m --method gptq --format int4g128a --calib .kjv/kjv-train.txt --samples 128 \
    --ctx 256 --backend vulkan --threads 16 --out /tmp/kjv-gptq --json
  # RTN onto a K-quant on the device, and the KLD plan's forward passes there (the CPU's times beside).
  step 30 rtn_q4k "$bin/lowbit" quantize .kjv/kjv-llama-8m --method rtn --format q4_k --backend vulkan --out /tmp/kjv-q4k.gguf --json
  # AWQ with its α grid and clip search on the device (the CPU's checkpoint byte for byte on lavapipe).
  step 120 awq "$bin/lowbit" quantize .kjv/kjv-llama-8m --method awq --format int4g128a --calib .kjv/kjv-train.txt --samples 16 \
    --ctx 128 --backend vulkan --calib-backend cpu --threads 16 --to gptq --out /tmp/kjv-awq --json
  step 120 plan_kld "$bin/lowbit" plan .kjv/kjv-llama-8m --budget-bpw 4.5 --calib .kjv/kjv-train.txt --samples 16 --ctx 256 \
    --backend vulkan --cache /tmp/kld-gpu.json --out /tmp/plan-gpu.json --json
  step 120 plan_kld_cpu "$bin/lowbit" plan .kjv/kjv-llama-8m --budget-bpw 4.5 --calib .kjv/kjv-train.txt --samples 16 --ctx 256 \
    --threads 16 --cache /tmp/kld-cpu.json --out /tmp/plan-cpu.json --json
fi
tail -n 60 "$log"
