#!/usr/bin/env bash
# Real TCP through FastPath vs through the Linux kernel on one topology, default offloads on every veth:
#
#   ns user [hu] == veth == [du] ns fwd [ds] == veth == [hs] ns secure
#   user host 198.18.1.5 (mapped 1:1 to 198.19.1.5), secure host 198.19.0.1
#
# modes, one after the other in the same run:
#   kernel-plain    fwd routes (ip_forward=1), no translation: the secure host sees 198.18.1.5
#   kernel-nat      fwd routes and rewrites with nftables stateless 1:1 NAT (filter hooks, payload set, no conntrack)
#   fastpath-RING-IDLE  `fastpath run` in ns fwd with afpacket ports on du and ds (1 worker), fwd has no addresses;
#                   once per RX ring kind (RINGS="frames blocks": TPACKET_V2 frame ring, TPACKET_V3 block ring) and per
#                   worker idle policy (IDLES="poll spin": sleep in poll(2) / yield, after IDLE_SPIN empty polls)
# per mode: iperf3 user -> secure with 1 and 4 streams (SECONDS each), ping RTT p50/p99 at 10/s idle and under a
# 1-stream iperf3 load; for fastpath the worker thread's CPU time per GB carried (utime+stime of fastpath-worker-0)
# and its CPU share (% of one core) during the 10/s ping; for every mode the whole machine's busy CPU time per GB over
# the two iperf3 runs and how busy the machine was (100 = every core busy): run it under the exclusive machine lock.
#
# usage: sudo tools/lab/tcp-compare.sh [SECONDS]     (default 5; needs iperf3, nftables, the .NET SDK)
#        env: RINGS (default "frames blocks"), IDLES (default "poll"), IDLE_SPIN (default: the daemon's),
#             ROUNDS=N (repeat the whole comparison N times, modes interleaved), SKIP_KERNEL=1 (FastPath only), OUT (log folder),
#             CORE=N (pin the worker to CPU N instead of an unpinned worker),
#             PERF=1 (perf record of the worker thread during the 1-stream run: OUT/perf-RING.txt),
#             CAPTURE=1 (tcpdump on du and hs during the 1-stream run: OUT/du-RING.pcap, OUT/hs-RING.pcap)
# Bounded (every tool has a time cap), self-cleaning (namespaces deleted, the daemon killed by its PID).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS="${1:-5}"
OUT="${OUT:-/tmp/fastpath-tcp-compare}"
mkdir -p "$OUT"
U=fptu$$; F=fptf$$; S=fpts$$
DAEMON=""
cleanup() {
  [[ -n "$DAEMON" ]] && kill -TERM "$DAEMON" 2>/dev/null && sleep 1
  for n in $U $F $S; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM
nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }

dotnet build control/FastPath.Cli -c Release -nologo -v quiet >/dev/null
FASTPATH=(dotnet control/FastPath.Cli/bin/Release/net10.0/fastpath.dll)

ip netns add $U; ip netns add $F; ip netns add $S
ip link add hu netns $U type veth peer name du netns $F
ip link add ds netns $F type veth peer name hs netns $S
for n in $U $F $S; do ip -n $n link set lo up; done
for l in "$U hu" "$F du" "$F ds" "$S hs"; do set -- $l; nsx "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"; ip -n "$1" link set "$2" up; done
ip -n $U addr add 198.18.1.5/24 dev hu
ip -n $S addr add 198.19.0.1/16 dev hs
DUMAC=$(ip -n $F -br link show du | awk '{print $3}')
DSMAC=$(ip -n $F -br link show ds | awk '{print $3}')
HUMAC=$(ip -n $U -br link show hu | awk '{print $3}')
HSMAC=$(ip -n $S -br link show hs | awk '{print $3}')
ip -n $U route add 198.19.0.0/16 dev hu
ip -n $U neigh replace 198.19.0.1 lladdr "$DUMAC" dev hu nud permanent
ip -n $S route add 198.18.1.0/24 dev hs
ip -n $S neigh replace 198.18.1.5 lladdr "$DSMAC" dev hs nud permanent
ip -n $S neigh replace 198.19.1.5 lladdr "$DSMAC" dev hs nud permanent
echo "offloads on du: $(nsx $F ethtool -k du | grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|tx-checksumming):' | tr -s ' ' | paste -sd' ')" | tee "$OUT/offloads.txt"

kernel_setup() {
  ip -n $F addr add 198.18.1.1/24 dev du
  ip -n $F addr add 198.19.0.254/16 dev ds
  ip -n $F neigh replace 198.18.1.5 lladdr "$HUMAC" dev du nud permanent
  ip -n $F neigh replace 198.19.0.1 lladdr "$HSMAC" dev ds nud permanent
  nsx $F sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
      net.ipv4.conf.du.rp_filter=0 net.ipv4.conf.ds.rp_filter=0 net.ipv4.conf.all.send_redirects=0
}

kernel_teardown() {
  nsx $F nft flush ruleset
  nsx $F sysctl -qw net.ipv4.ip_forward=0
  ip -n $F addr flush dev du
  ip -n $F addr flush dev ds
}

nat_rules() {
  nsx $F nft -f - <<EOF
table ip fpnat {
  chain pre {
    type filter hook prerouting priority -300; policy accept;
    iifname "du" ip saddr 198.18.1.5 ip saddr set 198.19.1.5
    iifname "ds" ip daddr 198.19.1.5 ip daddr set 198.18.1.5
  }
}
EOF
}

# ping at 10/s for SECONDS: "p50 p99" in ms
rtt() {
  nsx $U timeout $((SECS + 10)) ping -n -i 0.1 -c $((SECS * 10)) -W 1 198.19.0.1 2>/dev/null \
    | sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | sort -g \
    | awk '{v[NR]=$1} END {if (NR==0) {print "- -"; exit} p50=v[int((NR+1)*0.5)]; i=int(NR*0.99+0.999); if (i>NR) i=NR; print p50, v[i]}'
}

# iperf3 user -> secure, STREAMS streams: Gbit/s received and retransmits
throughput() {
  local streams=$1
  nsx $S timeout $((SECS + 20)) iperf3 -s -1 -B 198.19.0.1 -p 15201 >/dev/null 2>&1 &
  local server=$!
  sleep 0.5
  nsx $U timeout $((SECS + 15)) iperf3 -c 198.19.0.1 -p 15201 -t "$SECS" -P "$streams" -J > "$OUT/iperf.json" 2>/dev/null || true
  wait $server 2>/dev/null || true
  python3 -c "import json; d=json.load(open('$OUT/iperf.json'))['end']; print(f\"{d['sum_received']['bits_per_second']/1e9:.2f} {d['sum_sent'].get('retransmits', 0)} {d['sum_received']['bytes']}\")" 2>/dev/null || echo "- - 0"
}

under_load() {
  nsx $S timeout $((SECS + 20)) iperf3 -s -1 -B 198.19.0.1 -p 15202 >/dev/null 2>&1 &
  local server=$!
  sleep 0.5
  nsx $U timeout $((SECS + 15)) iperf3 -c 198.19.0.1 -p 15202 -t $((SECS + 2)) >/dev/null 2>&1 &
  local client=$!
  sleep 1
  rtt
  wait $client 2>/dev/null || true
  wait $server 2>/dev/null || true
}

# every loss counter on the path, absolute: TCP/IP of both hosts, the four veths' link counters, softnet drops
counters() {
  { nsx $U nstat -asz | sed 's/^/user /'; nsx $S nstat -asz | sed 's/^/secure /'
    for l in "$U hu" "$F du" "$F ds" "$S hs"; do set -- $l
      ip -n "$1" -s -s -j link show "$2" | python3 -c "import json,sys; d=json.load(sys.stdin)[0]['stats64']; [print('link $2.'+k+'_'+n, v) for k in ('rx','tx') for n,v in d[k].items()]"
    done
    python3 -c "import sys; [print('softnet cpu%d_dropped %d' % (i, int(l.split()[1], 16))) for i, l in enumerate(open('/proc/net/softnet_stat'))]"; } | awk '{print $1 "." $2, $3}'
}

# the counters that moved between two counters() dumps, loss-related ones only
counter_delta() {
  python3 - "$1" "$2" <<'PY'
import re, sys
a = dict(l.split() for l in open(sys.argv[1]) if len(l.split()) == 2)
b = dict(l.split() for l in open(sys.argv[2]) if len(l.split()) == 2)
loss = re.compile(r'(?i)drop|err|retrans|lost|ofo|csum|discard|miss|fail|prune|collapse|overflow|dup|reorder|sack|undo|timeout')
for k in sorted(b):
    d = int(b[k]) - int(a.get(k, 0))
    if d and loss.search(k):
        print(f"  {k} +{d}")
PY
}

# the whole machine's busy CPU time (user+nice+system+irq+softirq of every CPU, in clock ticks) and a timestamp:
# "TICKS NANOSECONDS". Under the exclusive machine lock the machine is this run's, so over an iperf3 run it is what
# carrying the traffic cost: the hosts' TCP stacks and copies, the forwarding (kernel or FastPath), everything.
machine_busy() {
  awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat | tr '\n' ' '; date +%s%N
}

# "S_PER_GB BUSY_PCT" between two machine_busy samples for BYTES carried
machine_cost() {
  python3 -c "
import os
t1, n1 = map(int, '$1'.split()); t2, n2 = map(int, '$2'.split()); b = $3
hz = os.sysconf('SC_CLK_TCK'); busy = (t2 - t1) / hz; wall = (n2 - n1) / 1e9
print(f'{busy / (b / 1e9):.2f}' if b > 0 else '-', f'{100 * busy / (wall * os.cpu_count()):.0f}')"
}

worker_tid() {
  local tid
  for tid in /proc/"$DAEMON"/task/*; do
    [[ "$(cat "$tid/comm")" == fastpath-worker* ]] && { basename "$tid"; return; }
  done
}

worker_cpu_ticks() {
  local tid
  for tid in /proc/"$DAEMON"/task/*; do
    if [[ "$(cat "$tid/comm")" == fastpath-worker* ]]; then
      awk '{print $14 + $15}' "$tid/stat"
      return
    fi
  done
  echo 0
}

report() {
  local mode=$1 cpu_note=${2:-}
  counters > "$OUT/counters-$mode-before.txt"
  local m1 m2
  m1=$(machine_busy)
  read -r g1 r1 b1 <<<"$(throughput 1)"
  read -r g4 r4 b4 <<<"$(throughput 4)"
  m2=$(machine_busy)
  read -r mcost mbusy <<<"$(machine_cost "$m1" "$m2" $((b1 + b4)))"
  counters > "$OUT/counters-$mode-after.txt"
  read -r p50 p99 <<<"$(rtt)"
  read -r l50 l99 <<<"$(under_load)"
  echo "RESULT mode=$mode iperf1_gbps=$g1 retrans1=$r1 iperf4_gbps=$g4 retrans4=$r4 rtt_idle_p50_ms=$p50 rtt_idle_p99_ms=$p99 rtt_load_p50_ms=$l50 rtt_load_p99_ms=$l99 machine_cpu_s_per_gb=$mcost machine_busy_pct=$mbusy $cpu_note" | tee -a "$OUT/results.txt"
  echo "loss counters that moved during the iperf3 runs ($mode):" | tee -a "$OUT/results.txt"
  counter_delta "$OUT/counters-$mode-before.txt" "$OUT/counters-$mode-after.txt" | tee -a "$OUT/results.txt"
}

: > "$OUT/results.txt"

cat > "$OUT/maps.json" <<EOF
{ "mappings": [ { "tenant": 0, "user": "198.18.1.5", "secure": "198.19.1.5" } ] }
EOF
fastpath_mode() {
  local ring=$1 idle=$2
  local mode="$ring-$idle"
  cat > "$OUT/fastpath.json" <<EOF
{
  $( [[ -n "${CORE:-}" ]] && echo "\"cores\": [$CORE]," || echo '"workers": 1,' )
  "idle": "$idle", $( [[ -n "${IDLE_SPIN:-}" ]] && echo "\"idle_spin\": $IDLE_SPIN," )
  "maps": "$OUT/maps.json",
  "ports": {
    "u0": { "type": "afpacket", "interface": "du", "mac": "$DUMAC", "peer": "$HUMAC", "rx_ring": "$ring" },
    "s0": { "type": "afpacket", "interface": "ds", "mac": "$DSMAC", "peer": "$HSMAC", "rx_ring": "$ring" }
  },
  "pairs": [ { "user": "u0", "secure": "s0" } ]
}
EOF
  rm -f "$OUT/control.sock"
  # ip netns exec execs the daemon itself, so $! is its PID (its worker thread's CPU time is read from /proc).
  DOTNET_PerfMapEnabled=$([[ "${PERF:-0}" == 1 ]] && echo 1 || echo 0) ip netns exec $F "${FASTPATH[@]}" run --config "$OUT/fastpath.json" --control "unix:$OUT/control.sock" > "$OUT/daemon-$mode.log" 2>&1 &
  DAEMON=$!
  for _ in $(seq 1 100); do [[ -S "$OUT/control.sock" ]] && break; sleep 0.2; done
  sleep 1
  local c1 c2 cpu g1 r1 b1 g4 r4 b4 p50 p99 l50 l99
  c1=$(worker_cpu_ticks)
  counters > "$OUT/counters-$mode-before.txt"
  local m1 m2 mcost mbusy
  m1=$(machine_busy)
  local caps=()
  if [[ "${CAPTURE:-0}" == 1 ]]; then
    # TCP headers where FastPath receives (du) and where the secure host receives (hs), during the 1-stream run
    nsx $F timeout $((SECS + 20)) tcpdump -i du -s 128 -B 65536 -w "$OUT/du-$mode.pcap" tcp port 15201 2>"$OUT/tcpdump-du.txt" & caps+=($!)
    nsx $S timeout $((SECS + 20)) tcpdump -i hs -s 128 -B 65536 -w "$OUT/hs-$mode.pcap" tcp port 15201 2>"$OUT/tcpdump-hs.txt" & caps+=($!)
    sleep 1
  fi
  if [[ "${PERF:-0}" == 1 ]]; then
    # where the worker thread spends its time during the 1-stream run (JIT frames named through the perf map)
    local wtid; wtid=$(worker_tid)
    timeout $((SECS + 20)) perf record -q -g -t "$wtid" -o "$OUT/perf-$mode.data" -- sleep $((SECS + 1)) >/dev/null 2>&1 & caps+=($!)
  fi
  read -r g1 r1 b1 <<<"$(throughput 1)"
  if [[ "${PERF:-0}" == 1 ]]; then wait "${caps[-1]}" 2>/dev/null || true; unset 'caps[-1]'
    perf report -i "$OUT/perf-$mode.data" --no-children --sort sym --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60 > "$OUT/perf-$mode.txt" || true
  fi
  if [[ ${#caps[@]} -gt 0 ]]; then kill -INT "${caps[@]}"; wait "${caps[@]}" 2>/dev/null || true; fi
  read -r g4 r4 b4 <<<"$(throughput 4)"
  m2=$(machine_busy)
  read -r mcost mbusy <<<"$(machine_cost "$m1" "$m2" $((b1 + b4)))"
  counters > "$OUT/counters-$mode-after.txt"
  c2=$(worker_cpu_ticks)
  cpu=$(python3 -c "print(f'{($c2-$c1)/$(getconf CLK_TCK)/(($b1+$b4)/1e9):.2f}' if $b1+$b4 > 0 else '-')")
  local i1 i2 idlecpu
  i1=$(worker_cpu_ticks)
  read -r p50 p99 <<<"$(rtt)"
  i2=$(worker_cpu_ticks)
  idlecpu=$(python3 -c "print(f'{($i2-$i1)/$(getconf CLK_TCK)/$SECS*100:.0f}')")
  read -r l50 l99 <<<"$(under_load)"
  echo "RESULT mode=fastpath-$mode iperf1_gbps=$g1 retrans1=$r1 iperf4_gbps=$g4 retrans4=$r4 rtt_idle_p50_ms=$p50 rtt_idle_p99_ms=$p99 rtt_load_p50_ms=$l50 rtt_load_p99_ms=$l99 machine_cpu_s_per_gb=$mcost machine_busy_pct=$mbusy worker_cpu_s_per_gb=$cpu worker_cpu_pct_at_10pps=$idlecpu" | tee -a "$OUT/results.txt"
  "${FASTPATH[@]}" stats --control "unix:$OUT/control.sock" > "$OUT/stats-$mode.txt" 2>&1 || true
  echo "loss counters that moved during the iperf3 runs ($mode):" | tee -a "$OUT/results.txt"
  counter_delta "$OUT/counters-$mode-before.txt" "$OUT/counters-$mode-after.txt" | tee -a "$OUT/results.txt"
  kill -TERM "$DAEMON"; wait "$DAEMON" 2>/dev/null || true; DAEMON=""
}

for round in $(seq 1 "${ROUNDS:-1}"); do
  echo "round $round, load average: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/results.txt"
  if [[ "${SKIP_KERNEL:-0}" != 1 ]]; then
    kernel_setup
    report kernel-plain
    nat_rules
    report kernel-nat
    kernel_teardown
  fi
  for ring in ${RINGS:-frames blocks}; do
    for idle in ${IDLES:-poll}; do fastpath_mode "$ring" "$idle"; done
  done
done
echo "logs: $OUT"
