#!/usr/bin/env bash
# AF_PACKET port rates on a veth pair: FastPath's AfPacketPort against the C anchors, in one run.
#   ns G [g0 198.18.0.1] == veth == [r0 198.18.0.2] ns R
# r0 drops every frame at netdev ingress (nftables), after the AF_PACKET taps have seen it, so the IP stack
# costs nothing (the same topology as shared/anchors/afp_rx.sh).
#   rx_c   C afp_tx (TPACKET_V2 TX ring, CPU0) offers 64-byte frames; C afp_rx_v3 reads r0 on CPU1
#   rx_fp  same offer; `FastPath.Bench afpacket-rx` (AfPacketPort, batches of 64) reads r0 on CPU1
#   tx_c_ring / tx_c_mmsg   C afp_tx sends COUNT 64-byte frames on g0 (CPU0): TX ring + send kick / sendmmsg
#   tx_fp  `fastpath gen --rate max` sends COUNT 64-byte frames on g0 (CPU0): AfPacketPort (sendmmsg, batches of 64)
# TX rates are each sender's own count / time; "delivered" is r0's rx_packets delta (frames the veth handed over).
# Usage: bash tools/anchors/afpacket_ports.sh [RUNS] [SECONDS] [COUNT]   (defaults 3 6 5000000)
# Needs: gcc, nftables, Release builds of control/FastPath.Cli and bench/FastPath.Bench, the anchors' C sources
# ($ANCHORS, default: shared/anchors next to the checkout). Self-cleaning: own PIDs only, namespaces deleted.
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
ANCHORS="${ANCHORS:-$(cd "$ROOT/.." && pwd)/shared/anchors}"
RUNS="${1:-3}"
SECS="${2:-6}"
COUNT="${3:-5000000}"
OUT="${ANCHORS_OUT:-/tmp/fastpath-anchors}/afpacket_ports"
BUILD="${ANCHORS_OUT:-/tmp/fastpath-anchors}/build"
FASTPATH="$ROOT/control/FastPath.Cli/bin/Release/net10.0/fastpath"
BENCH="$ROOT/bench/FastPath.Bench/bin/Release/net10.0/FastPath.Bench.dll"
mkdir -p "$OUT" "$BUILD"
for f in "$ANCHORS/afp_rx_v3.c" "$ANCHORS/afp_tx.c" "$FASTPATH" "$BENCH"; do
  [ -e "$f" ] || { echo "missing $f (dotnet build -c Release control/FastPath.Cli bench/FastPath.Bench; ANCHORS=...)" >&2; exit 1; }
done
gcc -O2 -Wall -o "$BUILD/afp_rx_v3" "$ANCHORS/afp_rx_v3.c" || exit 1
gcc -O2 -Wall -o "$BUILD/afp_tx" "$ANCHORS/afp_tx.c" || exit 1

G=fppg$$; R=fppr$$
PIDS=""
cleanup() {
  for p in $PIDS; do
    if kill -0 "$p" 2>/dev/null; then kill -TERM "$p"; sleep 1; kill -KILL "$p" 2>/dev/null; fi
  done
  ip netns del $G 2>/dev/null; ip netns del $R 2>/dev/null
}
trap cleanup EXIT INT TERM
nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }
ctr() { nsx "$1" cat "/sys/class/net/$2/statistics/$3"; }

ip netns add $G; ip netns add $R
ip link add g0 netns $G type veth peer name r0 netns $R
ip -n $G link set lo up; ip -n $R link set lo up
ip -n $G addr add 198.18.0.1/24 dev g0; ip -n $G link set g0 up
ip -n $R addr add 198.18.0.2/24 dev r0; ip -n $R link set r0 up
nsx $R sh -c 'echo 0 > /sys/class/net/r0/queues/rx-0/rps_cpus'
R0MAC=$(ip -n $R -br link show r0 | awk '{print $3}')
G0MAC=$(ip -n $G -br link show g0 | awk '{print $3}')
nsx $R nft -f - <<NFT
table netdev rx {
  chain in {
    type filter hook ingress device r0 priority 0; policy accept;
    counter drop
  }
}
NFT

rx_run() {  # $1 variant, $2 run
  local log="$OUT/$1.run$2.log" rx
  case $1 in
    rx_c)  nsx $R /usr/bin/time -f "reader_cpu_s=%U+%S" timeout -k 3 $((SECS + 8)) "$BUILD/afp_rx_v3" r0 $((SECS + 2)) 1 > "$log.reader" 2>&1 & rx=$! ;;
    rx_fp) nsx $R timeout -k 3 $((SECS + 8)) dotnet "$BENCH" afpacket-rx r0 $((SECS + 2)) 1 > "$log.reader" 2>&1 & rx=$! ;;
  esac
  PIDS="$rx"
  sleep 0.5
  nsx $G timeout -k 3 $((SECS + 8)) "$BUILD/afp_tx" g0 "$R0MAC" "$G0MAC" 198.18.0.1 198.18.0.2 1 $((SECS + 4)) 400000000 0 64 ring > "$log.gen" 2>&1 &
  local tg=$!
  PIDS="$rx $tg"
  wait "$rx"
  kill -TERM "$tg" 2>/dev/null; wait "$tg" 2>/dev/null
  PIDS=""
  local cpu
  cpu=$(sed -n 's/^reader_cpu_s=\([0-9.]*\)+\([0-9.]*\)$/\1 \2/p' "$log.reader" | awk '{printf "reader_cpu_s=%.3f", $1 + $2}')
  echo "RESULT variant=$1 run=$2 $(grep RESULT "$log.reader" | cut -d' ' -f2-) $cpu" | tee "$log"
}

tx_run() {  # $1 variant, $2 run
  local log="$OUT/$1.run$2.log" d1 d2
  d1=$(ctr $R r0 rx_packets)
  case $1 in
    tx_c_ring) nsx $G timeout -k 3 60 "$BUILD/afp_tx" g0 "$R0MAC" "$G0MAC" 198.18.0.1 198.18.0.2 1 30 "$COUNT" 0 64 ring > "$log.gen" 2>&1 ;;
    tx_c_mmsg) nsx $G timeout -k 3 60 "$BUILD/afp_tx" g0 "$R0MAC" "$G0MAC" 198.18.0.1 198.18.0.2 1 30 "$COUNT" 0 64 mmsg > "$log.gen" 2>&1 ;;
    tx_fp)     nsx $G timeout -k 3 60 taskset -c 0 "$FASTPATH" gen --interface g0 --count "$COUNT" --rate max --size 64 \
                 --src 198.18.0.1 --dst 198.18.0.2 --dst-mac "$R0MAC" > "$log.gen" 2>&1 ;;
  esac
  sleep 0.5
  d2=$(ctr $R r0 rx_packets)
  local pps
  case $1 in
    tx_fp) pps=$(sed -n 's/.*s: \([0-9]*\) pps.*/\1/p' "$log.gen") ;;
    *)     pps=$(sed -n 's/^RESULT.*[ _]pps=\([0-9]*\).*/\1/p' "$log.gen" | head -1) ;;
  esac
  echo "RESULT variant=$1 run=$2 sender_pps=$pps delivered=$((d2 - d1)) count=$COUNT" | tee "$log"
}

for r in $(seq 1 "$RUNS"); do
  for v in rx_c rx_fp; do rx_run $v "$r"; done
  sleep 1  # The RX offer's last queued frames drain before r0's counter is read.
  for v in tx_c_ring tx_c_mmsg tx_fp; do tx_run $v "$r"; done
done

python3 - "$OUT" <<'PY' | tee "$OUT/summary.txt"
import sys, glob, os, re, statistics
from collections import defaultdict
res = defaultdict(lambda: defaultdict(list))
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.run*.log"))):
    for ln in open(f):
        if ln.startswith("RESULT"):
            kv = dict(x.split("=", 1) for x in ln.split()[1:] if "=" in x)
            if "reader_cpu_s" in kv and "pkts" in kv:
                res[kv["variant"]]["reader_ns_per_pkt"].append(float(kv["reader_cpu_s"]) * 1e9 / max(1.0, float(kv["pkts"])))
            for k in ("median_pps", "sender_pps", "delivered", "kernel_tp_drops", "kernel_tp_packets"):
                if kv.get(k, "") not in ("", "NA"):
                    res[kv["variant"]][k].append(float(kv[k]))
for v in sorted(res):
    d = res[v]
    parts = []
    for k, x in d.items():
        if k.endswith("pps"):
            parts.append(f"{k} {statistics.median(x)/1e6:.3f} [{min(x)/1e6:.3f}-{max(x)/1e6:.3f}] Mpps")
        else:
            parts.append(f"{k} {statistics.median(x):.0f}")
    print(f"{v} (median [min-max], n={len(next(iter(d.values())))}): " + "; ".join(parts))
PY
