"""Builds the translation corpus for CaptureTranslatorTests with scapy, the independent oracle.

usage: translate_cases.py OUTDIR
Writes, for each direction D in (user, secure): D-in.pcap (what arrives on side D), D-expected.pcap (what
the contract of ARCHITECTURE.md says leaves, checksums recomputed in full by scapy) and D-verdicts.txt (one
verdict per input packet). Maps used (the test writes the same maps.json):
  tenant 100: 10.1.0.5 <-> 198.18.0.5, 10.1.0.6 <-> 198.18.0.6, fd00::5 <-> 2001:db8::5, fd00::6 <-> 2001:db8::6
  tenant 0:   10.2.0.7 <-> 198.18.2.7, fd00:1::7 <-> 2001:db8:1::7
"""
import logging
import struct
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ARP, ICMP, IP, UDP, TCP, Ether, Dot1Q, IPv6, ICMPv6EchoRequest, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, Raw, fragment, fragment6, wrpcap, in4_chksum, checksum)

FORWARD = {(100, "10.1.0.5"): "198.18.0.5", (100, "10.1.0.6"): "198.18.0.6", (0, "10.2.0.7"): "198.18.2.7",
           (100, "fd00::5"): "2001:db8::5", (100, "fd00::6"): "2001:db8::6", (0, "fd00:1::7"): "2001:db8:1::7"}
REVERSE = {secure: (tenant, user) for (tenant, user), secure in FORWARD.items()}
MACS = dict(src="02:00:00:00:aa:01", dst="02:00:00:00:aa:02")


def l2(tenant):
    frame = Ether(**MACS)
    return frame / Dot1Q(vlan=tenant) if tenant else frame


def rebuild(pkt):
    return pkt.__class__(bytes(pkt))


def strip_checksums(ip):
    """Deletes every checksum scapy should recompute, except an IPv4 UDP checksum of 0 (none), which must stay 0."""
    for layer in (IP, TCP, ICMP):
        if ip.haslayer(layer):
            del ip[layer].chksum
    if ip.haslayer(UDP) and not (ip.haslayer(IP) and ip[UDP].chksum == 0):
        del ip[UDP].chksum
    if ip.haslayer(ICMPv6EchoRequest):
        del ip[ICMPv6EchoRequest].cksum
    return ip


def translated(ip, src, dst):
    out = ip.copy()
    out.src, out.dst = src, dst
    if out.haslayer(IP):
        out[IP].ttl -= 1
    else:
        out[IPv6].hlim -= 1
    return strip_checksums(out)


def user_case(cases, tenant, ip, verdict="ok", frags=None):
    """ip is the unfragmented packet with user addresses; frags fragments input and expected alike."""
    src_secure = FORWARD.get((tenant, ip.src))
    dst_secure = FORWARD.get((tenant, ip.dst), ip.dst)
    inp = rebuild(strip_checksums(ip.copy()))
    exp = rebuild(translated(inp, src_secure, dst_secure)) if verdict == "ok" else None
    add(cases, l2(tenant), inp, Ether(**MACS), exp, verdict, frags)


def secure_case(cases, ip, verdict="ok", frags=None):
    tenant, dst_user = REVERSE.get(ip.dst, (None, None))
    src_tenant, src_user = REVERSE.get(ip.src, (None, None))
    src = src_user if src_tenant == tenant and src_user else ip.src
    inp = rebuild(strip_checksums(ip.copy()))
    exp = rebuild(translated(inp, src, dst_user)) if verdict == "ok" else None
    add(cases, Ether(**MACS), inp, l2(tenant) if tenant else Ether(**MACS), exp, verdict, frags)


def add(cases, in_l2, inp, out_l2, exp, verdict, frags):
    if frags:
        split = frags
        in_parts, exp_parts = split(inp), split(exp) if exp is not None else None
        for i, part in enumerate(in_parts):
            cases.append((in_l2 / part, out_l2 / exp_parts[i] if exp_parts else None, verdict))
    else:
        cases.append((in_l2 / inp, out_l2 / exp if exp is not None else None, verdict))


def v4frag(pkt):
    return fragment(pkt, fragsize=400)


def v6frag(pkt):
    return fragment6(pkt, 600)


def force_zero_l4(ip, src, dst, layer, field):
    """Sets the last two payload bytes so that the packet's transport checksum computes to 0 after translation."""
    probe = translated(ip, src, dst)
    raw = bytes(probe[layer].payload)[:-2] + b"\x00\x00"
    probe[layer].remove_payload()
    probe = probe / Raw(raw)
    pseudo = rebuild(probe)
    c = getattr(pseudo[layer], field)
    ip[layer].remove_payload()
    return ip / Raw(raw[:-2] + struct.pack("!H", c))


def force_zero_ipv4_header(ip, src, dst):
    """Picks the IP ID so that the IPv4 header checksum computes to 0x0000 after translation."""
    probe = rebuild(translated(ip, src, dst))
    probe_id0 = probe.copy()
    probe_id0[IP].id = 0
    del probe_id0[IP].chksum
    c = rebuild(probe_id0)[IP].chksum
    ip[IP].id = c
    return ip


def user_cases():
    c = []
    data = bytes(range(48))
    user_case(c, 100, IP(src="10.1.0.5", dst="10.1.0.6", ttl=64) / UDP(sport=1234, dport=4000) / Raw(data))
    user_case(c, 100, IP(src="10.1.0.5", dst="192.0.2.9", ttl=64, options=b"\x94\x04\x00\x00\x01\x01\x01\x00")
              / TCP(sport=40000, dport=443, flags="S", seq=7, options=[("MSS", 1460), ("NOP", None)]) / Raw(data))
    user_case(c, 100, IP(src="10.1.0.5", dst="192.0.2.9", ttl=9) / ICMP(type=8, id=3, seq=4) / Raw(data))
    user_case(c, 100, IP(src="10.1.0.5", dst="192.0.2.9") / UDP(sport=9, dport=9, chksum=0) / Raw(data))
    user_case(c, 100, force_zero_l4(IP(src="10.1.0.5", dst="192.0.2.9") / UDP(sport=5, dport=6) / Raw(data),
                                    "198.18.0.5", "192.0.2.9", UDP, "chksum"))
    user_case(c, 100, force_zero_l4(IP(src="10.1.0.5", dst="192.0.2.9") / TCP(sport=5, dport=6, flags="A") / Raw(data),
                                    "198.18.0.5", "192.0.2.9", TCP, "chksum"))
    user_case(c, 100, force_zero_ipv4_header(IP(src="10.1.0.6", dst="192.0.2.9") / UDP(sport=5, dport=6) / Raw(data),
                                             "198.18.0.6", "192.0.2.9"))
    user_case(c, 100, IP(src="10.1.0.5", dst="10.1.0.6", id=77) / UDP(sport=7, dport=8) / Raw(bytes(1000)), frags=v4frag)
    user_case(c, 0, IP(src="10.2.0.7", dst="192.0.2.9") / UDP(sport=7, dport=8) / Raw(data))
    user_case(c, 100, IPv6(src="fd00::5", dst="fd00::6") / UDP(sport=1, dport=2) / Raw(data))
    user_case(c, 100, IPv6(src="fd00::5", dst="2001:db8:ffff::1") / TCP(sport=3, dport=4, flags="PA") / Raw(data))
    user_case(c, 100, IPv6(src="fd00::6", dst="2001:db8:ffff::1") / ICMPv6EchoRequest(id=1, seq=2, data=data))
    user_case(c, 100, IPv6(src="fd00::5", dst="2001:db8:ffff::1") / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt()
              / UDP(sport=11, dport=12) / Raw(data))
    user_case(c, 0, IPv6(src="fd00:1::7", dst="2001:db8:ffff::1") / IPv6ExtHdrFragment(id=5)
              / UDP(sport=13, dport=14) / Raw(bytes(1400)), frags=v6frag)
    user_case(c, 0, force_zero_l4(IPv6(src="fd00:1::7", dst="2001:db8:ffff::1") / UDP(sport=5, dport=6) / Raw(data),
                                  "2001:db8:1::7", "2001:db8:ffff::1", UDP, "chksum"))
    user_case(c, 100, IP(src="10.1.0.5", dst="192.0.2.9", ttl=1) / UDP() / Raw(data), verdict="ttl-exceeded")
    user_case(c, 100, IPv6(src="fd00::5", dst="2001:db8:ffff::1", hlim=1) / UDP() / Raw(data), verdict="ttl-exceeded")
    user_case(c, 100, IP(src="10.1.0.99", dst="192.0.2.9") / UDP() / Raw(data), verdict="no-mapping")
    user_case(c, 200, IP(src="10.1.0.5", dst="192.0.2.9") / UDP() / Raw(data), verdict="no-mapping")
    user_case(c, 0, IP(src="10.1.0.5", dst="192.0.2.9") / UDP() / Raw(data), verdict="no-mapping")
    c.append((Ether(**MACS) / ARP(psrc="10.1.0.5", pdst="10.1.0.6"), None, "not-ip"))
    bad = rebuild(l2(100) / IP(src="10.1.0.5", dst="192.0.2.9") / UDP() / Raw(data))
    bad[IP].chksum ^= 0x5555
    c.append((bad, None, "bad-checksum"))
    c.append((Ether(bytes(l2(100) / IP(src="10.1.0.5", dst="192.0.2.9") / UDP() / Raw(data))[:30]), None, "truncated"))
    return c


def secure_cases():
    c = []
    data = bytes(range(40))
    secure_case(c, IP(src="192.0.2.9", dst="198.18.0.5", ttl=64) / UDP(sport=4000, dport=1234) / Raw(data))
    secure_case(c, IP(src="198.18.0.6", dst="198.18.0.5") / TCP(sport=80, dport=40000, flags="SA") / Raw(data))
    secure_case(c, IP(src="198.18.2.7", dst="198.18.0.5") / ICMP(type=0) / Raw(data))
    secure_case(c, IP(src="192.0.2.9", dst="198.18.2.7") / UDP(sport=1, dport=2, chksum=0) / Raw(data))
    secure_case(c, IP(src="192.0.2.9", dst="198.18.0.5", id=9) / UDP(sport=7, dport=8) / Raw(bytes(1000)), frags=v4frag)
    secure_case(c, IPv6(src="2001:db8:ffff::1", dst="2001:db8::5") / TCP(sport=443, dport=3, flags="A") / Raw(data))
    secure_case(c, IPv6(src="2001:db8::5", dst="2001:db8::6") / ICMPv6EchoRequest(data=data))
    secure_case(c, IPv6(src="2001:db8:ffff::1", dst="2001:db8:1::7") / IPv6ExtHdrDestOpt() / UDP(sport=1, dport=2) / Raw(data))
    secure_case(c, IP(src="192.0.2.9", dst="198.18.9.9") / UDP() / Raw(data), verdict="no-mapping")
    secure_case(c, IP(src="192.0.2.9", dst="198.18.0.5", ttl=1) / UDP() / Raw(data), verdict="ttl-exceeded")
    return c


def write(outdir, name, cases):
    wrpcap(f"{outdir}/{name}-in.pcap", [inp for inp, _, _ in cases])
    wrpcap(f"{outdir}/{name}-expected.pcap", [exp for _, exp, _ in cases if exp is not None])
    with open(f"{outdir}/{name}-verdicts.txt", "w") as f:
        f.write("\n".join(v for _, _, v in cases) + "\n")


if __name__ == "__main__":
    write(sys.argv[1], "user", user_cases())
    write(sys.argv[1], "secure", secure_cases())
