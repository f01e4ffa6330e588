"""Super-frames through the translation stage, for GsoTranslationTests, built with scapy.

usage: gso_translate_cases.py
Prints one JSON object per line: name, dir (u2s arrives on the user side, s2u on the secure side), mss, input (hex
super-frame as the port receives it: transport checksum a partial sum, here garbage), whole (hex: the whole translated
super-frame with its full transport checksum, as a NIC completing csum_start/csum_offset must leave it) and segments
(hex: the translated segments with every checksum).
Maps (the test adds the same): tenant 100: 10.0.0.7 <-> 198.19.1.7, fd00::7 <-> 2001:db8:2::7. Secure host: no mapping.
"""
import json
import logging

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, TCP, Dot1Q, Ether, IPv6, Raw

MACS = dict(src="02:00:00:00:aa:01", dst="02:00:00:00:aa:02")


def data(n):
    return bytes((i * 11 + 3) & 0xFF for i in range(n))


def tcp(payload, seq, flags):
    return TCP(sport=40000, dport=443, seq=seq, ack=9, flags=flags, window=300,
               options=[("NOP", None), ("NOP", None), ("Timestamp", (1, 2))]) / Raw(payload)


def emit(name, direction, mss, before, after, size, flags="PA"):
    payload = data(size)
    seq = 1000
    raw = bytearray(bytes(before / tcp(payload, seq, flags)))
    raw[-size - 32 + 16] ^= 0x33  # checksum field garbage: offload leaves it partial
    whole = bytes(after / tcp(payload, seq, flags))
    segments = []
    count = (size + mss - 1) // mss
    for i in range(count):
        f = TCP(flags=flags).flags
        if i != count - 1:
            f &= ~0x09
        if i:
            f &= ~0x80
        seg = after.copy()
        if IP in seg:
            seg[IP].id = (seg[IP].id + i) & 0xFFFF
        segments.append(bytes(seg / tcp(payload[i * mss:(i + 1) * mss], seq + i * mss, int(f))).hex())
    print(json.dumps(dict(name=name, dir=direction, mss=mss, input=bytes(raw).hex(), whole=whole.hex(), segments=segments)))


emit("u2s-v4-tagged", "u2s", 1448,
     Ether(**MACS) / Dot1Q(vlan=100) / IP(src="10.0.0.7", dst="198.19.0.9", ttl=64, id=77, flags="DF"),
     Ether(**MACS) / IP(src="198.19.1.7", dst="198.19.0.9", ttl=63, id=77, flags="DF"), 20000)
emit("s2u-v6-tags", "s2u", 1428,
     Ether(**MACS) / IPv6(src="2001:db8:2::9", dst="2001:db8:2::7", hlim=64),
     Ether(**MACS) / Dot1Q(vlan=100) / IPv6(src="2001:db8:2::9", dst="fd00::7", hlim=63), 10000, flags="FPA")
emit("s2u-v4-tags", "s2u", 1448,
     Ether(**MACS) / IP(src="198.19.0.9", dst="198.19.1.7", ttl=64, id=5, flags="DF"),
     Ether(**MACS) / Dot1Q(vlan=100) / IP(src="198.19.0.9", dst="10.0.0.7", ttl=63, id=5, flags="DF"), 9000)
emit("u2s-v6-tagged", "u2s", 1428,
     Ether(**MACS) / Dot1Q(vlan=100) / IPv6(src="fd00::7", dst="2001:db8:2::9", hlim=64),
     Ether(**MACS) / IPv6(src="2001:db8:2::7", dst="2001:db8:2::9", hlim=63), 7000)
