"""What the fleet benchmarks share: a free loopback port, one request on a daemon's control socket
(README "Control protocol": a 4-byte big-endian length, then the JSON request; the reply is framed the same way),
a process's CPU time, and the maps file of N generated 1:1 mappings they import."""
import json
import os
import socket
import struct

_tick = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    """User + system CPU seconds of process pid so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _tick


def write_maps(path, size):
    """A maps file of size mappings: tenant i % 4000, 10.x.y.z -> 100.x.y.z (unique on both sides)."""
    with open(path, "w") as f:
        f.write('{"mappings":[')
        f.write(",".join(f'{{"tenant":{i % 4000},"user":"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}","secure":"100.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"}}' for i in range(size)))
        f.write("]}")


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def call(path, verb, args=None):
    s = socket.socket(socket.AF_UNIX); s.connect(path)
    body = json.dumps({"v": 1, "id": 1, "verb": verb, "args": args or {}}).encode()
    s.sendall(struct.pack(">I", len(body)) + body)
    n = struct.unpack(">I", recv(s, 4))[0]
    reply = json.loads(recv(s, n)); s.close(); return reply


def recv(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk: raise EOFError
        data += chunk
    return data
