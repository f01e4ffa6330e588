#!/usr/bin/env bash
# FastPath vs the Linux kernel on the same veth topology, one after the other, with the same generator:
#
#   ns gen [g0] == veth == [f0] ns fwd [f1] == veth == [s0] ns sink      (64-byte IPv4/UDP, 1:1 rewrite of src and dst)
#
# 1. the kernel: ../shared/anchors/kernel_fwd.sh (variants gen_only, plain, stateless_map: nftables 1:1 maps, no
#    conntrack), generator, forwarding and sink serialised on CPU0 (RPS=0), as the anchor defines it;
# 2. FastPath: the same topology and generator (afp_tx on CPU0), but f0/f1 carry no addresses and no kernel
#    forwarding; FastPath's worker runs inside ns fwd on AF_PACKET f0/f1, pinned to CPU1, with the same maps
#    (bench/FastPath.Bench "forward" harness). Counted at the sink (s0 ingress counter-and-drop), like the anchor.
#
# usage: sudo tools/lab/kernel-compare.sh [RUNS] [SECONDS]     (defaults 3 6; needs nftables, gcc, the .NET SDK)
# Bounded (generator count and time caps), self-cleaning (namespaces deleted, processes killed by PID).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS="${1:-3}"
SECS="${2:-6}"
ANCHORS="${ANCHORS:-$(cd ../shared/anchors 2>/dev/null && pwd || true)}"
[[ -f "$ANCHORS/kernel_fwd.sh" ]] || { echo "kernel-compare: set ANCHORS to the folder holding kernel_fwd.sh and afp_tx.c" >&2; exit 2; }
OUT="${ANCHORS_OUT:-/tmp/fastpath-anchors}/kernel-compare"
mkdir -p "$OUT"
BIN="${ANCHORS_OUT:-/tmp/fastpath-anchors}/build/afp_tx"
mkdir -p "$(dirname "$BIN")"
[[ -x "$BIN" ]] || gcc -O2 -Wall -o "$BIN" "$ANCHORS/afp_tx.c"

if [[ "${SKIP_KERNEL:-0}" != 1 ]]; then
echo "== kernel (anchor script, RPS=0)"
RPS=0 VERIFY=0 bash "$ANCHORS/kernel_fwd.sh" "$RUNS" "$SECS" "gen_only plain stateless_map" 2>&1 | tee "$OUT/kernel.txt" | grep -E "^(RPS|gen_only|plain|stateless|derived|  )" || true
fi

echo "== FastPath"
dotnet build bench/FastPath.Bench -c Release -nologo -v quiet >/dev/null
HARNESS=(dotnet bench/FastPath.Bench/bin/Release/net10.0/FastPath.Bench.dll forward)
G=fpcg$$; F=fpcf$$; S=fpcs$$
GEN=""; FWD=""
cleanup() {
  for pid in $GEN $FWD; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.5
  for n in $G $F $S; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM
nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }
ctr() { nsx "$1" cat "/sys/class/net/$2/statistics/$3"; }
ip netns add $G; ip netns add $F; ip netns add $S
ip link add g0 netns $G type veth peer name f0 netns $F
ip link add f1 netns $F type veth peer name s0 netns $S
for n in $G $F $S; do ip -n $n link set lo up; done
for l in "$G g0" "$F f0" "$F f1" "$S s0"; do set -- $l; nsx "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"; ip -n "$1" link set "$2" up; done
nsx $F sysctl -qw net.ipv4.ip_forward=0
S0MAC=$(ip -n $S -br link show s0 | awk '{print $3}')
F0MAC=$(ip -n $F -br link show f0 | awk '{print $3}')
G0MAC=$(ip -n $G -br link show g0 | awk '{print $3}')
nsx $S nft -f - <<NFT
table netdev sink {
  chain in {
    type filter hook ingress device s0 priority 0; policy accept;
    counter drop
  }
}
NFT

for r in $(seq 1 "$RUNS"); do
  nsx $F "${HARNESS[@]}" f0 f1 "$G0MAC" "$S0MAC" $((SECS + 3)) 1 > "$OUT/fastpath.run$r.log" 2>&1 &
  FWD=$!
  sleep 2
  nsx $G timeout -k 3 $((SECS + 6)) "$BIN" g0 "$F0MAC" "$G0MAC" 198.18.0.1 198.18.100.1 254 $((SECS + 2)) 400000000 0 64 ring > "$OUT/fastpath.gen$r.log" 2>&1 &
  GEN=$!
  sleep 1
  t1=$(date +%s.%N); g1=$(ctr $G g0 tx_packets); s1=$(ctr $S s0 rx_packets)
  sleep "$SECS"
  t2=$(date +%s.%N); g2=$(ctr $G g0 tx_packets); s2=$(ctr $S s0 rx_packets)
  wait $GEN || true; GEN=""
  wait $FWD || true; FWD=""
  python3 -c "import sys; t1,t2,g1,g2,s1,s2=map(float,sys.argv[1:]); d=t2-t1; print(f'RESULT fastpath run=$r offered_pps={(g2-g1)/d:.0f} sink_rx_pps={(s2-s1)/d:.0f}')" \
    "$t1" "$t2" "$g1" "$g2" "$s1" "$s2" | tee -a "$OUT/fastpath.txt"
  grep RESULT "$OUT/fastpath.run$r.log" | sed 's/^/  worker: /' || true
done
echo "logs: $OUT"
