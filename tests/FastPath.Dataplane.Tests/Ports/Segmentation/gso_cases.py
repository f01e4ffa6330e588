"""Builds the software-GSO corpus for GsoSegmenterTests with scapy, the independent oracle.

usage: gso_cases.py
Prints one JSON object per line: name, mss (gso_size), input (hex super-frame, its transport checksum holding only
a partial pseudo-header sum as the kernel leaves it for offload, or garbage), and segments (hex frames scapy built
from scratch: headers copied, IPv4 ID +1 per segment, TCP sequence + payload taken so far, CWR on the first segment
only, FIN and PSH on the last only, IP lengths, UDP length and every checksum computed by scapy).
"""
import json
import logging

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, TCP, UDP, Dot1Q, Ether, IPv6, IPv6ExtHdrDestOpt, Raw, IPOption_RR

MACS = dict(src="02:00:00:00:aa:01", dst="02:00:00:00:aa:02")


def l2(vlan):
    frame = Ether(**MACS)
    return frame / Dot1Q(vlan=vlan) if vlan else frame


def payload_bytes(n):
    return bytes((i * 7 + 13) & 0xFF for i in range(n))


def ip_layer(v6, ext, opts, ident):
    if v6:
        layer = IPv6(src="2001:db8:1::5", dst="2001:db8:2::9", hlim=63)
        return layer / IPv6ExtHdrDestOpt() if ext else layer
    return IP(src="198.18.0.5", dst="198.19.0.9", id=ident, ttl=63, flags="DF", options=[IPOption_RR()] if opts else [])


def case(name, mss, size, v6=False, vlan=0, udp=False, flags="A", ext=False, opts=False, tcpopts=True, garbage=False):
    data = payload_bytes(size)
    ident = 0xFFFE  # wraps within the corpus' larger cases
    seq = 0xFFFFF000  # wraps too
    if udp:
        l4 = lambda d: UDP(sport=4000, dport=5000) / Raw(d)
    else:
        options = [("NOP", None), ("NOP", None), ("Timestamp", (12345, 678))] if tcpopts else []
        l4 = lambda d, s=seq, f=flags: TCP(sport=40000, dport=80, seq=s, ack=77, flags=f, window=500, options=options) / Raw(d)
    whole = l2(vlan) / ip_layer(v6, ext, opts, ident) / l4(data)
    raw = bytearray(bytes(whole))
    # The super-frame's transport checksum as a sender with offload leaves it: garbage here, it must not matter.
    if garbage:
        l4_start = len(raw) - size - (8 if udp else len(bytes(whole[UDP if udp else TCP])) - size)
        at = l4_start + (6 if udp else 16)
        raw[at] ^= 0x5A
        raw[at + 1] ^= 0xA5
    segments = []
    count = max(1, (size + mss - 1) // mss)
    for i in range(count):
        chunk = data[i * mss:(i + 1) * mss]
        last = i == count - 1
        if udp:
            seg_l4 = UDP(sport=4000, dport=5000) / Raw(chunk)
        else:
            f = TCP(flags=flags).flags
            if i:
                f &= ~0x80
            if not last:
                f &= ~0x09
            seg_l4 = TCP(sport=40000, dport=80, seq=(seq + i * mss) & 0xFFFFFFFF, ack=77, flags=int(f), window=500,
                         options=[("NOP", None), ("NOP", None), ("Timestamp", (12345, 678))] if tcpopts else []) / Raw(chunk)
        seg = l2(vlan) / ip_layer(v6, ext, opts, (ident + i) & 0xFFFF) / seg_l4
        segments.append(bytes(seg).hex())
    print(json.dumps(dict(name=name, mss=mss, input=bytes(raw).hex(), segments=segments)))


case("v4-tcp-64k", 1448, 65000 - 66, flags="PA")
case("v4-tcp-fin-psh-cwr", 1000, 4500, flags="FPAC")
case("v4-tcp-ece-cwr-exact", 500, 2000, flags="AEC")
case("v4-tcp-one-segment", 1448, 700, flags="PA")
case("v4-tcp-no-payload", 1448, 0, flags="A")
case("v4-tcp-ip-options", 1200, 5000, opts=True, flags="PA")
case("v4-tcp-no-tcp-options", 1460, 9000, tcpopts=False, flags="PA", garbage=True)
case("v4-tcp-vlan", 1448, 30000, vlan=100, flags="PA", garbage=True)
case("v4-tcp-jumbo-mss", 8948, 60000, flags="PA")
case("v6-tcp-64k", 1428, 64000, v6=True, flags="PA")
case("v6-tcp-fin", 1000, 3333, v6=True, flags="FA", garbage=True)
case("v6-tcp-ext-header", 1200, 7000, v6=True, ext=True, flags="PA")
case("v6-tcp-vlan", 1428, 20000, v6=True, vlan=4094, flags="PAC")
case("v4-udp-l4", 1400, 10000, udp=True)
case("v4-udp-l4-vlan", 1000, 3000, udp=True, vlan=7, garbage=True)
case("v6-udp-l4", 1200, 6100, v6=True, udp=True)
