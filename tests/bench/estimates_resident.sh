#!/usr/bin/env bash
# --dry-run against the run itself for the commands that hold the whole model (ProgressProbe,
# core/export/estimate.h), on kjv-llama-8m with 2 threads: predicted seconds and peak MiB, the
# share of the job the probe ran, and the run's wall time and peak RSS by /usr/bin/time.
# Usage: tests/bench/estimates_resident.sh [BUILD_DIR] [OUT.json]   (../shared beside the repository)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
L=${1:-$ROOT/build}/bin/lowbit
OUT=${2:-$ROOT/tests/bench/results/estimates_resident.json}
S=${LOWBIT_SHARED:-$ROOT/../shared}
M=$S/models/kjv-llama-8m; V=$S/data/kjv-valid.txt; C=$S/data/kjv-train.txt
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
"$L" plan "$M" --budget-bpw 4.5 --formats q3_k,q4_k,q6_k --calib "$C" --samples 8 --ctx 128 --out "$W/layout.json" \
  --cache "$W/layout.cache" --json --quiet > /dev/null
JOBS=0
one() {
  local name=$1 n=$JOBS; shift
  JOBS=$((JOBS + 1))
  "$L" "$@" --dry-run --json --quiet --threads 2 > "$W/$n.dry.json"
  /usr/bin/time -f "%e %M" -o "$W/$n.time" "$L" "$@" --json --quiet --threads 2 > /dev/null 2>&1
  rm -rf "$W/q" "$W/cache.json" "$W/l2.json"
  echo "$name" >> "$W/jobs"
}
one "quantize cbq int4g128a 16x128, 20 iterations -> gptq" quantize "$M" --method cbq --format int4g128a --calib "$C" --samples 16 --ctx 128 --cbq-iters 20 --to gptq --out "$W/q"
one "quantize onebit 16x128, 10 iterations" quantize "$M" --method onebit --calib "$C" --samples 16 --ctx 128 --onebit-iters 10 --out "$W/q"
one "ppl kjv-valid ctx 128" ppl "$M" --text "$V" --ctx 128
one "ppl --layout (q3_k/q4_k/q6_k plan)" ppl "$M" --text "$V" --ctx 128 --layout "$W/layout.json"
one "compare q4_0,q4_k,q8_0, 40 windows" compare "$M" --uniform q4_0,q4_k,q8_0 --text "$V" --ctx 128 --max-windows 40
one "plan kld q3_k,q4_k,q6_k 8x128" plan "$M" --budget-bpw 4.5 --formats q3_k,q4_k,q6_k --calib "$C" --samples 8 --ctx 128 --out "$W/l2.json" --cache "$W/cache.json"
python3 - "$W" "$OUT" <<'PY'
import json, os, platform, subprocess, sys, datetime
w, out = sys.argv[1], sys.argv[2]
rows = []
for i, n in enumerate(open(os.path.join(w, "jobs")).read().splitlines()):
    d = json.load(open(os.path.join(w, f"{i}.dry.json")))
    wall, kib = open(os.path.join(w, f"{i}.time")).read().split()
    rows.append({"job": n, "predicted_seconds": round(d["estimate"]["seconds"], 2),
                 "predicted_peak_mib": round(d["estimate"]["peak_rss_mb"], 1), "probe_fraction": round(d["probe"]["fraction"], 3),
                 "wall_seconds": float(wall), "peak_mib": round(int(kib) / 1024, 1),
                 "time_error": round(d["estimate"]["seconds"] / float(wall) - 1, 3),
                 "peak_error": round(d["estimate"]["peak_rss_mb"] / (int(kib) / 1024) - 1, 3)})
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
doc = {"machine": {"cpu": cpu, "cores_online": os.cpu_count(), "os": platform.system() + " " + platform.release(),
                   "date": datetime.date.today().isoformat(), "threads": 2},
       "model": "kjv-llama-8m", "runs": rows}
json.dump(doc, open(out, "w"), indent=1)
for r in rows: print(r)
PY
