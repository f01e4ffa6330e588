#!/usr/bin/env python3
"""Snapshot load from etcd against the maps file's load, in one run (bench/RESULTS.md "Fleet"): one etcd member on
loopback, N mappings imported into it (`fastpath map import --etcd`), then ROUNDS rounds, each starting a fresh daemon
(in-memory sink ports) three ways, interleaved: etcd snapshot read as one chain of pages (parallelism 1, the former
loader), etcd snapshot with the default concurrent ranges, and the same entries as a maps file. Each is timed from
start until its table holds N, wall time and the daemon's CPU time (utime+stime from /proc), and killed by its PID.
With MEMBERS (default 1) members and a BEFORE_BINARY, the rounds compare the two binaries' etcd loads (default
settings each) beside the file instead (issue 17, serializable pages: bench/RESULTS.md "Issue 17, 1M import in CI").
With FASTPATH_BENCH_LOCK=FILE, the setup holds a shared flock on FILE and each round an exclusive one (a shared machine).
Usage: snapshot_bench.py FASTPATH_BINARY [N] [ROUNDS] [MEMBERS] [BEFORE_BINARY]"""
import fcntl, json, os, shutil, socket, struct, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from control_client import call, cpu_s, free_port, write_maps  # noqa: E402

fastpath = sys.argv[1]
size = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
members = int(sys.argv[4]) if len(sys.argv) > 4 else 1
before = sys.argv[5] if len(sys.argv) > 5 else None
tmp = tempfile.mkdtemp(prefix="snapbench-")
lock = open(os.environ["FASTPATH_BENCH_LOCK"]) if "FASTPATH_BENCH_LOCK" in os.environ else None
if lock: fcntl.flock(lock, fcntl.LOCK_SH)
procs = []


def start(name, maps, env, binary=fastpath):
    cfg = f"{tmp}/{name}.json"
    with open(cfg, "w") as f:
        json.dump({"workers": 1, "maps": maps, "ports": {"a": {"type": "sink"}, "b": {"type": "sink"}}, "pairs": [{"user": "a", "secure": "b"}]}, f)
    sock = f"{tmp}/{name}.sock"
    t0 = time.perf_counter()
    p = subprocess.Popen([binary, "run", "--config", cfg, "--control", "unix:" + sock], stdout=subprocess.DEVNULL,
                         stderr=open(f"{tmp}/{name}.log", "w"), env={**os.environ, **env})
    procs.append(p)
    while True:
        try:
            if call(sock, "stats")["result"]["table"]["mappings"] == size: break
        except (OSError, EOFError, KeyError): pass
        if p.poll() is not None: raise RuntimeError(f"{name} exited: " + open(f"{tmp}/{name}.log").read())
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    cpu = cpu_s(p.pid)
    p.kill(); p.wait(); procs.remove(p)
    return wall, cpu

try:
    ports = [(free_port(), free_port()) for _ in range(members)]
    initial = ",".join(f"m{i}=http://127.0.0.1:{peer}" for i, (_, peer) in enumerate(ports))
    for i, (port, peer) in enumerate(ports):
        procs.append(subprocess.Popen(["etcd", "--name", f"m{i}", "--data-dir", f"{tmp}/m{i}",
            "--listen-client-urls", f"http://127.0.0.1:{port}", "--advertise-client-urls", f"http://127.0.0.1:{port}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-cluster", initial, "--initial-cluster-token", "snapbench", "--logger", "zap", "--log-level", "error",
            "--quota-backend-bytes", str(8 << 30)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    endpoints = [f"http://127.0.0.1:{port}" for port, _ in ports]
    endpoint = ",".join(endpoints)
    while subprocess.run(["etcdctl", "--endpoints", endpoint, "endpoint", "health"], capture_output=True).returncode != 0:
        time.sleep(0.2)
    path = f"{tmp}/big.json"
    write_maps(path, size)
    t0 = time.perf_counter()
    subprocess.run([fastpath, "map", "import", path, "--etcd", endpoint, "--prefix", "/bench/maps/"], check=True, capture_output=True)
    print(json.dumps({"import": size, "etcd_import_write_s": round(time.perf_counter() - t0, 1), "loadavg": os.getloadavg()[0]}), flush=True)
    etcd = {"etcd": {"endpoints": endpoints, "prefix": "/bench/maps/"}}
    for r in range(rounds):
        if lock: fcntl.flock(lock, fcntl.LOCK_UN); fcntl.flock(lock, fcntl.LOCK_EX)
        row = {"round": r, "loadavg": round(os.getloadavg()[0], 1)}
        variants = ((("etcd_before", etcd, {}, before), ("etcd_after", etcd, {}, fastpath), ("file", path, {}, fastpath)) if before else
                    (("etcd_sequential", etcd, {"FASTPATH_ETCD_SNAPSHOT_PARALLELISM": "1"}, fastpath),
                     ("etcd_concurrent", etcd, {}, fastpath), ("file", path, {}, fastpath)))
        for name, maps, env, binary in variants:
            wall, cpu = start(name, maps, env, binary)
            row[name + "_wall_s"] = round(wall, 2); row[name + "_cpu_s"] = round(cpu, 2)
        print(json.dumps(row), flush=True)
        if lock: fcntl.flock(lock, fcntl.LOCK_UN); fcntl.flock(lock, fcntl.LOCK_SH)
finally:
    for p in procs:
        p.kill(); p.wait()
    shutil.rmtree(tmp, ignore_errors=True)
