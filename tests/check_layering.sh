#!/usr/bin/env bash
# Fails when core/ or gpu/ include Qt, or core/ or widgets/ include Vulkan (DESIGN.md's layering).
root=${1:-.}
status=0
if grep -rnE '#include *[<"]Q[A-Za-z]+' "$root/core" "$root/gpu" 2>/dev/null; then
  echo "Qt included in core/ or gpu/ (they must stay Qt-free)"; status=1
fi
if grep -rnE '#include *[<"]vulkan/' "$root/core" "$root/widgets" 2>/dev/null; then
  echo "Vulkan included outside gpu/"; status=1
fi
[ $status -eq 0 ] && echo "layering ok"
exit $status
