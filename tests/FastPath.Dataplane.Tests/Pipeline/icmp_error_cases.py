"""Builds the ICMP-error corpus for IcmpErrorTranslationTests with scapy, the independent oracle.

usage: icmp_error_cases.py
Prints one JSON object per line: name, dir ("u2s" arrives on the user side, "s2u" on the secure side), input (hex
frame), and either expected (hex frame scapy built from scratch with every checksum computed in full: outer IP, outer
ICMP/ICMPv6, quoted IPv4 header, quoted UDP/TCP/ICMPv6 over the whole original datagram, then cut to the quote's
length) or drop (the drop reason's name). badsum is the offset of the outer ICMP checksum in expected when the input
carried a deliberately wrong one (expected then holds the correct value, which the output must NOT have), else -1.
Maps (the test adds the same):
  tenant 0:   10.0.0.5 <-> 198.19.1.5, 10.0.0.9 <-> 198.19.1.9, fd00::5 <-> 2001:db8:2::5
  tenant 100: 10.0.0.7 <-> 198.19.1.7, 10.0.0.8 <-> 198.19.1.8, fd00::7 <-> 2001:db8:2::7, fd00::8 <-> 2001:db8:2::8
The secure hosts 198.19.0.1 and 2001:db8:2::1 have no mapping.
"""
import json
import logging

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6DestUnreach, ICMPv6EchoRequest, ICMPv6PacketTooBig,
                       ICMPv6ParamProblem, ICMPv6TimeExceeded, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, Raw)

FORWARD = {(0, "10.0.0.5"): "198.19.1.5", (0, "10.0.0.9"): "198.19.1.9", (0, "fd00::5"): "2001:db8:2::5",
           (100, "10.0.0.7"): "198.19.1.7", (100, "10.0.0.8"): "198.19.1.8",
           (100, "fd00::7"): "2001:db8:2::7", (100, "fd00::8"): "2001:db8:2::8"}
REVERSE = {secure: (tenant, user) for (tenant, user), secure in FORWARD.items()}
HOST4, HOST6 = "198.19.0.1", "2001:db8:2::1"
MACS = dict(src="02:00:00:00:bb:01", dst="02:00:00:00:bb:02")

V4_ERRORS = [dict(type=3, code=3), dict(type=11, code=0), dict(type=12, code=0, ptr=8)]
V6_ERRORS = [lambda: ICMPv6DestUnreach(code=4), lambda: ICMPv6PacketTooBig(mtu=1280),
             lambda: ICMPv6TimeExceeded(code=0), lambda: ICMPv6ParamProblem(code=0, ptr=6)]

out = []


def l2(tenant):
    frame = Ether(**MACS)
    return frame / Dot1Q(vlan=tenant) if tenant else frame


def is_v6(address):
    return ":" in address


def inner(src, dst, kind, udp_zero=False, ext=False, ihl6=False):
    """The whole offending datagram, every checksum computed by scapy."""
    if is_v6(src):
        ip = IPv6(src=src, dst=dst, hlim=1)
        if ext:
            ip = ip / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt()
    else:
        ip = IP(src=src, dst=dst, ttl=1, id=0x1234, options=[b"\x01\x01\x01\x00"] if ihl6 else [])
    if kind == "udp":
        l4 = UDP(sport=40000, dport=33434, **({"chksum": 0} if udp_zero else {})) / Raw(b"q" * 40)
    elif kind == "tcp":
        l4 = TCP(sport=40001, dport=7007, flags="S", seq=1000) / Raw(b"t" * 20)
    elif is_v6(src):
        l4 = ICMPv6EchoRequest(id=7, seq=1, data=b"e" * 32)
    else:
        l4 = ICMP(type=8, id=7, seq=1) / Raw(b"e" * 32)
    return bytes(ip / l4)


def quoted(original, translated, kind, cut):
    """translated cut to the quote's length; a pseudo-header checksum cut after its first byte keeps the original byte,
    because its new value depends on the missing second byte (the carry of the ones' complement sum)."""
    v6 = (original[0] >> 4) == 6
    if v6:
        header = 40 + (16 if original[6] == 0 else 0)  # the only chain built here: hop-by-hop + destination options
    else:
        header = (original[0] & 0xF) * 4
    offsets = {"udp": 6, "tcp": 16, "echo": 2 if v6 else None}  # ICMPv4 has no pseudo-header: never updated
    field = header + offsets[kind] if offsets[kind] is not None else None
    out = bytearray(translated[:cut])
    if field is not None and cut == field + 1:
        out[field] = original[field]
    return bytes(out)


def message(tenant, src, dst, ttl, quote, error=0, chksum=None):
    if is_v6(src):
        icmp = V6_ERRORS[error]()
        if chksum is not None:
            icmp.cksum = chksum
        return l2(tenant) / IPv6(src=src, dst=dst, hlim=ttl) / icmp / Raw(quote)
    icmp = ICMP(**V4_ERRORS[error])
    if chksum is not None:
        icmp.chksum = chksum
    return l2(tenant) / IP(src=src, dst=dst, ttl=ttl) / icmp / Raw(quote)


def outer_checksum_offset(tenant, v6):
    return (18 if tenant else 14) + (40 if v6 else 20) + 2


def wrong_checksum(frame, tenant, v6):
    at = outer_checksum_offset(tenant, v6)
    return int.from_bytes(bytes(frame)[at:at + 2], "big") ^ 0x5A5A


def emit(name, direction, frame, expected=None, drop=None, badsum=-1):
    out.append(dict(name=name, dir=direction, input=bytes(frame).hex(),
                    expected=bytes(expected).hex() if expected is not None else None, drop=drop, badsum=badsum))


def u2s(name, tenant, sender, dest, q_src, q_dst, kind, cut=None, error=0, drop=None, badsum=False, **inner_args):
    """An error from user host `sender` (tenant) to `dest` about the datagram q_src -> q_dst."""
    full = inner(q_src, q_dst, kind, **inner_args)
    cut = len(full) if cut is None else cut
    frame = message(tenant, sender, dest, 64, full[:cut], error)
    if badsum:
        frame = message(tenant, sender, dest, 64, full[:cut], error, wrong_checksum(frame, tenant, is_v6(sender)))
    if drop:
        emit(name, "u2s", frame, drop=drop)
        return
    t_full = inner(FORWARD.get((tenant, q_src), q_src), FORWARD[(tenant, q_dst)], kind, **inner_args)
    expected = message(0, FORWARD[(tenant, sender)], FORWARD.get((tenant, dest), dest), 63, quoted(full, t_full, kind, cut), error)
    emit(name, "u2s", frame, expected, badsum=outer_checksum_offset(0, is_v6(sender)) if badsum else -1)


def s2u(name, sender, dest, q_src, q_dst, kind, cut=None, error=0, drop=None, badsum=False, **inner_args):
    """An error from secure host `sender` to `dest` (a user's secure address) about the datagram q_src -> q_dst."""
    full = inner(q_src, q_dst, kind, **inner_args)
    cut = len(full) if cut is None else cut
    frame = message(0, sender, dest, 64, full[:cut], error)
    if badsum:
        frame = message(0, sender, dest, 64, full[:cut], error, wrong_checksum(frame, 0, is_v6(sender)))
    if drop:
        emit(name, "s2u", frame, drop=drop)
        return
    tenant, user_dest = REVERSE[dest]
    sender_back = REVERSE.get(sender)
    out_src = sender_back[1] if sender_back and sender_back[0] == tenant else sender
    src_back = REVERSE[q_src]
    dst_back = REVERSE.get(q_dst)
    t_dst = dst_back[1] if dst_back and dst_back[0] == tenant else q_dst
    t_full = inner(src_back[1], t_dst, kind, **inner_args)
    expected = message(tenant, out_src, user_dest, 63, quoted(full, t_full, kind, cut), error)
    emit(name, "s2u", frame, expected, badsum=outer_checksum_offset(tenant, is_v6(sender)) if badsum else -1)


# --- translated: every error type, UDP/TCP/echo quotes, full and truncated, untagged and tagged ---
for kind in ("udp", "tcp", "echo"):
    for error in range(3):
        u2s(f"u2s v4 t0 {kind} type{error} full", 0, "10.0.0.5", HOST4, HOST4, "10.0.0.5", kind, error=error)
        s2u(f"s2u v4 t0 {kind} type{error} full", HOST4, "198.19.1.5", "198.19.1.5", HOST4, kind, error=error)
    for error in range(4):
        u2s(f"u2s v6 t0 {kind} type{error} full", 0, "fd00::5", HOST6, HOST6, "fd00::5", kind, error=error)
        s2u(f"s2u v6 t0 {kind} type{error} full", HOST6, "2001:db8:2::5", "2001:db8:2::5", HOST6, kind, error=error)
    # The classic 28-byte quote (IPv4 header + 8 bytes): UDP's checksum is inside, TCP's and echo's not / no pseudo-header.
    for cut in (20, 24, 28, 37):
        u2s(f"u2s v4 t100 {kind} cut{cut}", 100, "10.0.0.7", HOST4, HOST4, "10.0.0.7", kind, cut=cut)
        s2u(f"s2u v4 t100 {kind} cut{cut}", HOST4, "198.19.1.7", "198.19.1.7", HOST4, kind, cut=cut)
    for cut in (40, 44, 48, 57, 58):
        u2s(f"u2s v6 t100 {kind} cut{cut}", 100, "fd00::7", HOST6, HOST6, "fd00::7", kind, cut=cut)
        s2u(f"s2u v6 t100 {kind} cut{cut}", HOST6, "2001:db8:2::7", "2001:db8:2::7", HOST6, kind, cut=cut)

# Both quoted addresses mapped (a user-to-user flow of tenant 100 through the secure side), both directions.
for kind in ("udp", "tcp"):
    u2s(f"u2s v4 t100 {kind} both mapped", 100, "10.0.0.7", "10.0.0.8", "10.0.0.8", "10.0.0.7", kind)
    u2s(f"u2s v6 t100 {kind} both mapped", 100, "fd00::7", "fd00::8", "fd00::8", "fd00::7", kind)
    s2u(f"s2u v4 t100 {kind} both mapped", "198.19.1.8", "198.19.1.7", "198.19.1.7", "198.19.1.8", kind)
    s2u(f"s2u v6 t100 {kind} both mapped", "2001:db8:2::8", "2001:db8:2::7", "2001:db8:2::7", "2001:db8:2::8", kind)
# A quoted destination of another tenant is not a user address of this one: it stays.
s2u("s2u v4 t100 quoted dst of tenant 0 stays", HOST4, "198.19.1.7", "198.19.1.7", "198.19.1.9", "udp")
s2u("s2u v6 t0 quoted dst of tenant 100 stays", HOST6, "2001:db8:2::5", "2001:db8:2::5", "2001:db8:2::7", "udp")
# IPv4 UDP checksum 0 stays 0; quoted IPv4 options; IPv6 extension headers before the quoted UDP/ICMPv6.
u2s("u2s v4 t0 udp checksum 0", 0, "10.0.0.5", HOST4, HOST4, "10.0.0.5", "udp", udp_zero=True)
s2u("s2u v4 t0 udp checksum 0 cut28", HOST4, "198.19.1.5", "198.19.1.5", HOST4, "udp", cut=28, udp_zero=True)
u2s("u2s v4 t0 udp quoted options cut32", 0, "10.0.0.5", HOST4, HOST4, "10.0.0.5", "udp", cut=32, ihl6=True)
s2u("s2u v4 t0 tcp quoted options full", HOST4, "198.19.1.5", "198.19.1.5", HOST4, "tcp", ihl6=True)
u2s("u2s v6 t0 udp behind extensions full", 0, "fd00::5", HOST6, HOST6, "fd00::5", "udp", ext=True)
s2u("s2u v6 t0 echo behind extensions full", HOST6, "2001:db8:2::5", "2001:db8:2::5", HOST6, "echo", ext=True)
u2s("u2s v6 t0 udp behind extensions cut60", 0, "fd00::5", HOST6, HOST6, "fd00::5", "udp", cut=60, ext=True)
# A wrong outer checksum stays wrong.
u2s("u2s v4 t100 udp badsum", 100, "10.0.0.7", HOST4, HOST4, "10.0.0.7", "udp", badsum=True)
u2s("u2s v6 t0 tcp badsum", 0, "fd00::5", HOST6, HOST6, "fd00::5", "tcp", badsum=True)
s2u("s2u v4 t0 udp badsum cut28", HOST4, "198.19.1.5", "198.19.1.5", HOST4, "udp", cut=28, badsum=True)
s2u("s2u v6 t100 echo badsum", HOST6, "2001:db8:2::7", "2001:db8:2::7", HOST6, "echo", badsum=True)

# --- dropped: a quote naming the other environment, or one that cannot be read ---
u2s("u2s v4 quoted dst unmapped", 0, "10.0.0.5", HOST4, HOST4, "10.0.0.99", "udp", drop="no-mapping")
u2s("u2s v4 quoted dst of another tenant", 100, "10.0.0.7", HOST4, HOST4, "10.0.0.5", "udp", drop="no-mapping")
u2s("u2s v6 quoted dst unmapped", 0, "fd00::5", HOST6, HOST6, "fd00::99", "tcp", drop="no-mapping")
s2u("s2u v4 quoted src unmapped", HOST4, "198.19.1.5", HOST4, "198.19.1.5", "udp", drop="no-mapping")
s2u("s2u v4 quoted src of another tenant", HOST4, "198.19.1.7", "198.19.1.9", HOST4, "udp", drop="no-mapping")
s2u("s2u v6 quoted src of another tenant", HOST6, "2001:db8:2::7", "2001:db8:2::5", HOST6, "echo", drop="no-mapping")
u2s("u2s v4 quote of 19 bytes", 0, "10.0.0.5", HOST4, HOST4, "10.0.0.5", "udp", cut=19, drop="truncated")
s2u("s2u v4 quote of 0 bytes", HOST4, "198.19.1.5", "198.19.1.5", HOST4, "udp", cut=0, drop="truncated")
u2s("u2s v6 quote of 39 bytes", 0, "fd00::5", HOST6, HOST6, "fd00::5", "udp", cut=39, drop="truncated")
s2u("s2u v6 quote of 23 bytes", HOST6, "2001:db8:2::5", "2001:db8:2::5", HOST6, "udp", cut=23, drop="truncated")
# An error header cut after 4 bytes: the parser accepts it, the quote is missing.
half = bytes(l2(0) / IP(src="10.0.0.5", dst=HOST4, proto=1) / Raw(b"\x03\x03\x00\x00\x00\x00"))
emit("u2s v4 error header of 6 bytes", "u2s", Ether(half), drop="truncated")
v6_in_v4 = inner("fd00::5", HOST6, "udp")
emit("u2s v4 error quoting ipv6", "u2s", message(0, "10.0.0.5", HOST4, 64, v6_in_v4[:48]), drop="bad-version")
emit("s2u v6 error quoting ipv4", "s2u", message(0, HOST6, "2001:db8:2::5", 64, inner("198.19.1.5", HOST4, "udp") + bytes(20)),
     drop="bad-version")
bad_ihl = bytearray(inner(HOST4, "10.0.0.5", "udp"))
bad_ihl[0] = 0x44
emit("u2s v4 quoted ihl 4", "u2s", message(0, "10.0.0.5", HOST4, 64, bytes(bad_ihl[:28])), drop="bad-ihl")

# --- untouched: non-error ICMP and non-first fragments behave as before (outer header only) ---
lookalike = inner(HOST4, "10.0.0.5", "udp")[:28]
u2s_echo = l2(0) / IP(src="10.0.0.5", dst=HOST4) / ICMP(type=8, id=1, seq=1) / Raw(lookalike)
emit("u2s v4 echo carrying a header lookalike", "u2s", u2s_echo,
     l2(0) / IP(src="198.19.1.5", dst=HOST4, ttl=63) / ICMP(type=8, id=1, seq=1) / Raw(lookalike))
s2u_reply = l2(0) / IPv6(src=HOST6, dst="2001:db8:2::5") / ICMPv6EchoRequest(id=1, seq=1, data=inner("2001:db8:2::5", HOST6, "udp")[:48])
emit("s2u v6 echo carrying a header lookalike", "s2u", s2u_reply,
     l2(0) / IPv6(src=HOST6, dst="fd00::5", hlim=63) / ICMPv6EchoRequest(id=1, seq=1, data=inner("2001:db8:2::5", HOST6, "udp")[:48]))
body = b"\x03\x03\x00\x00\x00\x00\x00\x00" + inner(HOST4, "10.0.0.5", "udp")[:28]
emit("u2s v4 non-first fragment of an error", "u2s", l2(0) / IP(src="10.0.0.5", dst=HOST4, proto=1, frag=3, id=9) / Raw(body),
     l2(0) / IP(src="198.19.1.5", dst=HOST4, proto=1, frag=3, id=9, ttl=63) / Raw(body))

# --- ordinary traffic, for the batch that mixes it with errors ---
emit("u2s plain udp", "u2s", l2(100) / IP(src="10.0.0.7", dst=HOST4) / UDP(sport=5, dport=6) / Raw(b"p" * 30),
     l2(0) / IP(src="198.19.1.7", dst=HOST4, ttl=63) / UDP(sport=5, dport=6) / Raw(b"p" * 30))
emit("u2s plain tcp v6", "u2s", l2(0) / IPv6(src="fd00::5", dst=HOST6) / TCP(sport=5, dport=6) / Raw(b"p" * 30),
     l2(0) / IPv6(src="2001:db8:2::5", dst=HOST6, hlim=63) / TCP(sport=5, dport=6) / Raw(b"p" * 30))
emit("s2u plain udp", "s2u", l2(0) / IP(src=HOST4, dst="198.19.1.7") / UDP(sport=6, dport=5) / Raw(b"p" * 30),
     l2(100) / IP(src=HOST4, dst="10.0.0.7", ttl=63) / UDP(sport=6, dport=5) / Raw(b"p" * 30))
emit("s2u plain tcp v6", "s2u", l2(0) / IPv6(src=HOST6, dst="2001:db8:2::5") / TCP(sport=6, dport=5) / Raw(b"p" * 30),
     l2(0) / IPv6(src=HOST6, dst="fd00::5", hlim=63) / TCP(sport=6, dport=5) / Raw(b"p" * 30))

for case in out:
    print(json.dumps(case))
