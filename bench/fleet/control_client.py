"""What the fleet benchmarks share: a free loopback port, and one request on a daemon's control socket
(README "Control protocol": a 4-byte big-endian length, then the JSON request; the reply is framed the same way)."""
import json
import socket
import struct


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
