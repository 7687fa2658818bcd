#!/bin/bash
# Everything one call of tests/bench/h100.sh needs, prepared here (where the `device` tool's lent
# machine cannot install or build anything), each part only when it is missing:
#   build-dev/  a Release build without the GUI (x86-64 binaries run there);
#   .dev/       its binaries packed by tests/bench/pack_device_bins.sh (rebuilt every time);
#   .gl/        the Vulkan loader's Debian packages (.library/device/README.md's recipe; needs apt's
#               network here, never there);
#   .kjv/       kjv-llama-8m without its reference logits and the kjv texts, from ../shared (which
#               does not travel).
# All four are git-ignored. Then: run(command="H100_BUDGET=300 bash tests/bench/h100.sh",
# carry=[".dev", ".gl", ".kjv"], timeout_s=360).
set -eu
cd "$(dirname "$0")/../.."
shared=${LOWBIT_SHARED:-../shared}
cmake -S . -B build-dev -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOWBIT_GUI=OFF > /dev/null
cmake --build build-dev -j "$(nproc)" --target lowbit gptq_bench matmul_bench forward_bench \
  $(ls tests/gpu/*_test.cpp | xargs -n1 basename | sed 's/\.cpp$//')
tests/bench/pack_device_bins.sh build-dev .dev
if ! ls .gl/*.deb > /dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update > /dev/null
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
if [ ! -d .kjv/kjv-llama-8m ] && [ -d "$shared/models/kjv-llama-8m" ]; then
  mkdir -p .kjv/kjv-llama-8m
  for f in "$shared"/models/kjv-llama-8m/*; do
    [ "$(basename "$f")" = reference_logits.safetensors ] || cp "$f" .kjv/kjv-llama-8m/
  done
  cp "$shared/data/kjv-train.txt" "$shared/data/kjv-valid.txt" .kjv/
fi
du -sh .dev .gl .kjv
