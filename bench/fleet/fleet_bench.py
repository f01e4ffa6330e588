#!/usr/bin/env python3
"""Fleet maps benchmark (bench/RESULTS.md "Fleet"): a 3-member etcd cluster on loopback and three `fastpath run`
daemons on in-memory sink ports. Measures propagation from `map.add` returning (through daemon 0's control socket) to
the revision being applied in all three daemons, over N adds; then 1M-entry snapshot load from etcd vs the file import,
and the daemons' memory. Every process it starts is killed by its PID; data lives in a temporary directory.
Usage: fleet_bench.py FASTPATH_BINARY [ADDS] [IMPORT]"""
import json, os, shutil, socket, struct, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from control_client import call, free_port, write_maps  # noqa: E402

fastpath = sys.argv[1]
adds = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
import_size = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
tmp = tempfile.mkdtemp(prefix="fleetbench-")
procs = []


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"): return int(line.split()[1])

try:
    cport = [free_port() for _ in range(3)]; pport = [free_port() for _ in range(3)]
    initial = ",".join(f"m{i}=http://127.0.0.1:{pport[i]}" for i in range(3))
    for i in range(3):
        procs.append(subprocess.Popen(["etcd", "--name", f"m{i}", "--data-dir", f"{tmp}/m{i}",
            "--listen-client-urls", f"http://127.0.0.1:{cport[i]}", "--advertise-client-urls", f"http://127.0.0.1:{cport[i]}",
            "--listen-peer-urls", f"http://127.0.0.1:{pport[i]}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{pport[i]}",
            "--initial-cluster", initial, "--initial-cluster-token", "bench", "--initial-cluster-state", "new",
            "--logger", "zap", "--log-level", "error", "--quota-backend-bytes", str(8 << 30)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    endpoints = [f"http://127.0.0.1:{p}" for p in cport]
    while subprocess.run(["etcdctl", "--endpoints", ",".join(endpoints), "endpoint", "health"], capture_output=True).returncode != 0:
        time.sleep(0.2)
    socks = []
    daemons = []
    for d in range(3):
        cfg = f"{tmp}/fp{d}.json"
        with open(cfg, "w") as f:
            json.dump({"workers": 1, "maps": {"etcd": {"endpoints": endpoints[d:] + endpoints[:d], "prefix": "/bench/maps/"}},
                       "ports": {"a": {"type": "sink"}, "b": {"type": "sink"}}, "pairs": [{"user": "a", "secure": "b"}]}, f)
        sock = f"{tmp}/c{d}.sock"; socks.append(sock)
        p = subprocess.Popen([fastpath, "run", "--config", cfg, "--control", "unix:" + sock], stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/d{d}.log", "w"))
        procs.append(p); daemons.append(p)
    for sock in socks:
        while not os.path.exists(sock): time.sleep(0.1)
        while True:
            try: call(sock, "ping"); break
            except OSError: time.sleep(0.1)

    lat = []
    for i in range(adds):
        r = call(socks[0], "map.add", {"tenant": 0, "user": f"10.50.{i >> 8}.{i & 255}", "secure": f"100.50.{i >> 8}.{i & 255}"})
        assert r["ok"], r
        t0 = time.perf_counter(); rev = r["result"]["revision"]
        for sock in socks[1:]:
            while call(sock, "stats")["result"]["fleet"]["revision"] < rev: pass
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    print(json.dumps({"adds": adds, "p50_ms": round(lat[len(lat) // 2], 3), "p99_ms": round(lat[int(len(lat) * 0.99) - 1], 3), "max_ms": round(lat[-1], 3)}))

    if import_size:
        path = f"{tmp}/big.json"
        write_maps(path, import_size)
        t0 = time.perf_counter()
        r = call(socks[0], "map.import", {"path": path}); assert r["ok"], r
        write_s = time.perf_counter() - t0
        rev = r["result"]["revision"]
        for sock in socks[1:]:
            while call(sock, "stats")["result"]["fleet"]["revision"] < rev: time.sleep(0.01)
        everywhere_s = time.perf_counter() - t0
        # A fresh daemon loads the 1M snapshot at start: time from start to its control socket answering with 1M.
        cfg = f"{tmp}/fp3.json"
        with open(cfg, "w") as f:
            json.dump({"workers": 1, "maps": {"etcd": {"endpoints": endpoints, "prefix": "/bench/maps/"}},
                       "ports": {"a": {"type": "sink"}, "b": {"type": "sink"}}, "pairs": [{"user": "a", "secure": "b"}]}, f)
        t0 = time.perf_counter()
        p = subprocess.Popen([fastpath, "run", "--config", cfg, "--control", f"unix:{tmp}/c3.sock"], stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/d3.log", "w")); procs.append(p)
        while True:
            try:
                if call(f"{tmp}/c3.sock", "stats")["result"]["table"]["mappings"] == import_size: break
            except (OSError, EOFError): pass
            time.sleep(0.05)
        start_etcd_s = time.perf_counter() - t0
        time.sleep(1)
        rss_etcd = rss_kb(p.pid)
        # The same entries as a file: a daemon started on it, and an import of it into a file-mode daemon.
        cfg = f"{tmp}/fp4.json"
        with open(cfg, "w") as f:
            json.dump({"workers": 1, "maps": path, "ports": {"a": {"type": "sink"}, "b": {"type": "sink"}}, "pairs": [{"user": "a", "secure": "b"}]}, f)
        t0 = time.perf_counter()
        q = subprocess.Popen([fastpath, "run", "--config", cfg, "--control", f"unix:{tmp}/c4.sock"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); procs.append(q)
        while True:
            try:
                if call(f"{tmp}/c4.sock", "stats")["result"]["table"]["mappings"] == import_size: break
            except (OSError, EOFError): pass
            time.sleep(0.05)
        start_file_s = time.perf_counter() - t0
        time.sleep(1)
        rss_file = rss_kb(q.pid)
        t0 = time.perf_counter(); r = call(f"{tmp}/c4.sock", "map.import", {"path": path}); assert r["ok"], r
        file_import_s = time.perf_counter() - t0
        print(json.dumps({"import": import_size, "etcd_import_write_s": round(write_s, 2), "etcd_import_visible_everywhere_s": round(everywhere_s, 2),
                          "daemon_start_from_etcd_s": round(start_etcd_s, 2), "daemon_start_from_file_s": round(start_file_s, 2),
                          "file_import_s": round(file_import_s, 2), "rss_mib_etcd": round(rss_etcd / 1024, 1), "rss_mib_file": round(rss_file / 1024, 1),
                          "rss_mib_follower_after_import": [round(rss_kb(d.pid) / 1024, 1) for d in daemons]}))
finally:
    for p in procs:
        p.kill(); p.wait()
    shutil.rmtree(tmp, ignore_errors=True)
