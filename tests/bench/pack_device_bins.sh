#!/bin/bash
# Packs what tests/bench/h100.sh runs into DEST/bin.tar.xz (default .dev, git-ignored there): the CLI,
# the benchmarks and the GPU tests of a LOWBIT_GUI=OFF build, stripped, with the one shared library
# a CUDA image may lack. xz over them all shares their embedded SPIR-V: about 8 MB for ~170 MB.
# usage: tests/bench/pack_device_bins.sh BUILD_DIR [DEST]
set -eu
build=${1:?usage: pack_device_bins.sh BUILD_DIR [DEST]}
dest=${2:-.dev}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$dest"
for t in lowbit gptq_bench matmul_bench forward_bench $(cd "$(dirname "$0")/../gpu" && ls ./*_test.cpp | sed 's|^\./||; s/\.cpp$//'); do
  if [ -f "$build/bin/$t" ]; then strip -o "$stage/bin/$t" "$build/bin/$t"; else echo "not built: $t" >&2; fi
done
cp -L /lib/x86_64-linux-gnu/libpcre2-8.so.0 "$stage/lib/"
tar -C "$stage" -cf - bin lib | xz -9 -T1 >"$dest/bin.tar.xz"
ls -l "$dest/bin.tar.xz"
