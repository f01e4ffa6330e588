#!/usr/bin/env python3
"""The fleet import's write (bench/RESULTS.md "Issue 17, 1M import in CI"): MEMBERS etcd members on loopback with
their data in DATA_ROOT (a disk folder, or /dev/shm for tmpfs), N mappings written with `fastpath map import --etcd`,
and where the time goes: the import's wall time and the client's CPU (getrusage of the child), each member's CPU
(utime+stime from /proc), and the members' WAL fsync and backend commit time (etcd's own /metrics histograms).
Every process it starts is killed by its PID; the data folder is removed.
Usage: import_bench.py FASTPATH_BINARY N MEMBERS DATA_ROOT [REPEAT] [-- extra etcd flags]"""
import json, os, resource, shutil, subprocess, sys, tempfile, time, urllib.request
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from control_client import cpu_s, free_port, write_maps  # noqa: E402

args = sys.argv[1:]
extra = args[args.index("--") + 1:] if "--" in args else []
args = args[:args.index("--")] if "--" in args else args
fastpath, size, members, root = args[0], int(args[1]), int(args[2]), args[3]
repeat = int(args[4]) if len(args) > 4 else 1
tmp = tempfile.mkdtemp(prefix="importbench-", dir=root)
procs = []



def metric(endpoint, name):
    text = urllib.request.urlopen(endpoint + "/metrics", timeout=10).read().decode()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


try:
    cport = [free_port() for _ in range(members)]; pport = [free_port() for _ in range(members)]
    initial = ",".join(f"m{i}=http://127.0.0.1:{pport[i]}" for i in range(members))
    for i in range(members):
        procs.append(subprocess.Popen(["etcd", "--name", f"m{i}", "--data-dir", f"{tmp}/m{i}",
            "--listen-client-urls", f"http://127.0.0.1:{cport[i]}", "--advertise-client-urls", f"http://127.0.0.1:{cport[i]}",
            "--listen-peer-urls", f"http://127.0.0.1:{pport[i]}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{pport[i]}",
            "--initial-cluster", initial, "--initial-cluster-token", "bench", "--initial-cluster-state", "new",
            "--logger", "zap", "--log-level", "error", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    endpoints = [f"http://127.0.0.1:{p}" for p in cport]
    while subprocess.run(["etcdctl", "--endpoints", ",".join(endpoints), "endpoint", "health"], capture_output=True).returncode != 0:
        time.sleep(0.2)
    path = f"{tmp}/big.json"
    write_maps(path, size)
    for r in range(repeat):
        etcd_cpu = [cpu_s(p.pid) for p in procs]
        fsync = [(metric(e, "etcd_disk_wal_fsync_duration_seconds_sum"), metric(e, "etcd_disk_wal_fsync_duration_seconds_count")) for e in endpoints]
        commit = [metric(e, "etcd_disk_backend_commit_duration_seconds_sum") for e in endpoints]
        load = os.getloadavg()[0]
        child = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = subprocess.run([fastpath, "map", "import", path, "--etcd", ",".join(endpoints), "--prefix", "/bench/maps/"],
                             check=True, capture_output=True, text=True).stdout
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(json.dumps({
            "n": size, "members": members, "data": root, "flags": " ".join(extra), "round": r, "loadavg": round(load, 1),
            "wall_s": round(wall, 1), "published_s": float(out.split("published in ")[1].split(" s")[0]),
            "client_cpu_s": round(after.ru_utime + after.ru_stime - child.ru_utime - child.ru_stime, 1),
            "etcd_cpu_s": [round(cpu_s(p.pid) - c, 1) for p, c in zip(procs, etcd_cpu)],
            "wal_fsync_s": [round(metric(e, "etcd_disk_wal_fsync_duration_seconds_sum") - s, 1) for e, (s, _) in zip(endpoints, fsync)],
            "wal_fsyncs": [int(metric(e, "etcd_disk_wal_fsync_duration_seconds_count") - c) for e, (_, c) in zip(endpoints, fsync)],
            "backend_commit_s": [round(metric(e, "etcd_disk_backend_commit_duration_seconds_sum") - c, 1) for e, c in zip(endpoints, commit)],
            "db_mib": [round(sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(f"{tmp}/m{i}") for f in fs) / 2**20) for i in range(members)],
        }), flush=True)
finally:
    for p in procs:
        p.kill(); p.wait()
    shutil.rmtree(tmp, ignore_errors=True)
