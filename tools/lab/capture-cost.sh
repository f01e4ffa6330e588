#!/bin/bash
# Forwarding cost of a live capture whose ring overflows (issue 20): one daemon, generator -> sink on one worker at
# full speed; windows of W seconds alternate "no capture" and "fastpath capture --port u0 -w - > /dev/null" (every
# received frame offered to the capture ring; the reader cannot keep up, so the ring fills and frames are counted as
# capture drops). Per window: the worker thread's CPU time (utime+stime from /proc) per packet received, and packets/s.
# Usage: tools/lab/capture-cost.sh [FASTPATH] [ROUNDS] [WINDOW_SECONDS]     (prints one line per window, then medians)
set -euo pipefail
fastpath=${1:-control/FastPath.Cli/bin/Release/net10.0/fastpath}
rounds=${2:-5}
window=${3:-5}
dir=$(mktemp -d)
daemon=
cleanup() {
    [ -n "$daemon" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
echo '{ "mappings": [ { "tenant": 100, "user": "10.0.0.0", "secure": "11.0.0.0" } ] }' > "$dir/maps.json"
cat > "$dir/fastpath.json" <<JSON
{ "workers": 1, "maps": "maps.json",
  "ports": { "u0": { "type": "generator", "mappings": 1, "flows": 1, "packets": 0 }, "s0": { "type": "sink" } },
  "pairs": [ { "user": "u0", "secure": "s0" } ] }
JSON
control=unix:$dir/control.sock
"$fastpath" run --config "$dir/fastpath.json" --control "$control" 2> "$dir/daemon.log" &
daemon=$!
for _ in $(seq 100); do "$fastpath" stats --json --control "$control" > /dev/null 2>&1 && break; sleep 0.2; done
worker=$(grep -l '^fastpath-worker' /proc/$daemon/task/*/comm | head -1 | xargs dirname)
ticks=$(getconf CLK_TCK)

cpu_ns() { awk -v t="$ticks" '{ printf "%.0f", ($14 + $15) * 1e9 / t }' "$worker/stat"; }
rx() { "$fastpath" stats --json --control "$control" | python3 -c 'import json,sys; print(next(p["rx_packets"] for p in json.load(sys.stdin)["ports"] if p["name"]=="u0"))'; }

measure() { # $1 = label
    local c0 r0 t0 c1 r1 t1
    c0=$(cpu_ns); r0=$(rx); t0=$(date +%s.%N)
    sleep "$window"
    c1=$(cpu_ns); r1=$(rx); t1=$(date +%s.%N)
    python3 -c "import sys; c=$c1-$c0; r=$r1-$r0; t=$t1-$t0; print(f'$1 cpu_ns_per_packet={c/r:.2f} mpps={r/t/1e6:.3f} packets={r}')"
}

sleep 2 # warm-up
for round in $(seq "$rounds"); do
    measure off | tee -a "$dir/results"
    "$fastpath" capture --port u0 --control "$control" -w - > /dev/null 2> "$dir/capture.err" &
    capture=$!
    sleep 1
    measure on | tee -a "$dir/results"
    kill -TERM "$capture"; wait "$capture" || true
    echo "   capture: $(tail -1 "$dir/capture.err")"
done
python3 - "$dir/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for label in ("off", "on"):
    cpu = [float(r[1].split("=")[1]) for r in rows if r[0] == label]
    mpps = [float(r[2].split("=")[1]) for r in rows if r[0] == label]
    print(f"median {label}: cpu_ns_per_packet={statistics.median(cpu):.2f} mpps={statistics.median(mpps):.3f} (n={len(cpu)})")
PY
