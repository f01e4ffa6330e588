# Writes the starting corpus for the parser fuzz target (run with Debian's python3-scapy: /usr/bin/python3 make-seeds.py).
# One small frame per layer combination the parser distinguishes (the common shapes at least 64 bytes, so the vector
# paths' fast path runs too); afl++ mutates from these.
import logging, os, sys
logging.getLogger('scapy.runtime').setLevel(logging.ERROR)
from scapy.all import Ether, Dot1Q, Dot1AD, IP, IPv6, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPv6ExtHdrFragment, IPv6ExtHdrDestOpt, UDP, TCP, ICMP, ICMPv6EchoRequest, GRE, ARP, IPOption_NOP, Raw, raw

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus')
os.makedirs(out, exist_ok=True)
E = Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')
A = dict(src='198.18.0.1', dst='198.19.0.2')
B = dict(src='2001:db8::1', dst='2001:db8::2')
seeds = {
    'ipv4-udp': E/IP(**A)/UDP(sport=40000, dport=53)/Raw(b'p' * 22),
    'vlan-ipv4-tcp': E/Dot1Q(vlan=100)/IP(**A)/TCP(sport=443, dport=51000)/Raw(b't' * 8),
    'ipv4-options-icmp': E/IP(options=[IPOption_NOP()] * 4, **A)/ICMP()/Raw(b'i' * 20),
    'ipv4-icmp': E/IP(**A)/ICMP()/Raw(b'i' * 24),
    'ipv4-first-fragment': E/IP(flags='MF', **A)/UDP(sport=1, dport=2)/Raw(b'f' * 16),
    'ipv4-later-fragment': E/IP(frag=100, proto=17, **A)/Raw(b'l' * 16),
    'ipv4-gre': E/IP(**A)/GRE(),
    'ipv6-tcp': E/IPv6(**B)/TCP(sport=443, dport=51000, options=[('MSS', 1460)]),
    'vlan-ipv6-udp': E/Dot1Q(vlan=7)/IPv6(**B)/UDP(sport=5000, dport=5001)/Raw(b'q' * 8),
    'ipv6-chain-icmpv6': E/IPv6(**B)/IPv6ExtHdrHopByHop()/IPv6ExtHdrRouting()/IPv6ExtHdrDestOpt()/ICMPv6EchoRequest(),
    'ipv6-fragment': E/IPv6(**B)/IPv6ExtHdrFragment(offset=0, m=1)/UDP(sport=1, dport=2)/Raw(b'f' * 16),
    'ipv6-later-fragment': E/IPv6(**B)/IPv6ExtHdrFragment(offset=100, nh=6)/Raw(b'l' * 16),
    'qinq': E/Dot1AD(vlan=5)/Dot1Q(vlan=100)/IP(**A)/UDP(),
    'arp': E/ARP(),
}
for name, packet in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(raw(packet))
