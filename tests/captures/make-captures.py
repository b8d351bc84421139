#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the small capture fixtures of tests/test-capture.c (python3 stdlib only).

Run from anywhere: python3 tests/captures/make-captures.py [OUTDIR]
The files are committed; rerun this script after changing it and commit the result.
Every file holds SIP messages whose first lines and order tests/test-capture.c checks.
"""
import os
import struct
import sys
import zlib

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
T0 = 1767225600  # 2026-01-01T00:00:00Z


def sip(first, call="c1", cseq="1 REGISTER", body=b"", extra=""):
    head = (f"{first}\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK{call}{cseq[0]}\r\n"
            f"From: <sip:alice@lab>;tag=a1\r\nTo: <sip:alice@lab>\r\nCall-ID: {call}\r\n"
            f"CSeq: {cseq}\r\n{extra}Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


REG1 = sip("REGISTER sip:lab SIP/2.0", "reg", "1 REGISTER")
R401 = sip("SIP/2.0 401 Unauthorized", "reg", "1 REGISTER",
           extra='WWW-Authenticate: Digest realm="lab", nonce="abc"\r\n')
REG2 = sip("REGISTER sip:lab SIP/2.0", "reg", "2 REGISTER",
           extra='Authorization: Digest username="alice", realm="lab", nonce="abc", '
                 'uri="sip:lab", response="00000000000000000000000000000000"\r\n')
R200 = sip("SIP/2.0 200 OK", "reg", "2 REGISTER")
OPTS = sip("OPTIONS sip:lab SIP/2.0", "opt", "1 OPTIONS", body=b"x" * 40)
BIG = sip("MESSAGE sip:bob@lab SIP/2.0", "big", "1 MESSAGE", body=b"B" * 3000)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(src, dst, proto, payload, ident=1, frag=0, total=None):
    a = bytes(map(int, src.split(".")))
    b = bytes(map(int, dst.split(".")))
    tl = total if total is not None else 20 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tl, ident, frag, 64, proto, 0, a, b)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ip6addr(text):
    head, _, tail = text.partition("::")
    hp = [int(x, 16) for x in head.split(":") if x]
    tp = [int(x, 16) for x in tail.split(":") if x]
    return struct.pack("!8H", *(hp + [0] * (8 - len(hp) - len(tp)) + tp))


def ip6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64,
                       ip6addr(src), ip6addr(dst)) + payload


def udp(sport, dport, payload, length=None):
    return struct.pack("!HHHH", sport, dport, length or 8 + len(payload), 0) + payload


SYN, FIN, PSH_ACK, ACK = 0x02, 0x01, 0x18, 0x10


def tcp(sport, dport, seq, flags, payload=b"", ack=0):
    return struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack, 5 << 4, flags,
                       65535, 0, 0) + payload


def eth(payload, etype=0x0800, vlans=()):
    h = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02"
    for tpid, vid in vlans:
        h += struct.pack("!HH", tpid, vid)
    return h + struct.pack("!H", etype) + payload


def write_pcap(name, linktype, frames, nano=False):
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 65535, linktype))
        for i, fr in enumerate(frames):
            frac = i * 1000 * (1000 if nano else 1)
            f.write(struct.pack("<IIII", T0 + i, frac, len(fr), len(fr)) + fr)


def block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def write_pcapng(name, linktype, frames):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(block(1, struct.pack("<HHI", linktype, 0, 65535)))
        for i, fr in enumerate(frames):
            ts = (T0 + i) * 1000000 + i * 1000
            f.write(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF,
                                         len(fr), len(fr)) + fr))


C4, S4 = "192.0.2.10", "192.0.2.1"


def udp4(src, dst, sport, dport, payload):
    return ip4(src, dst, 17, udp(sport, dport, payload))


def tcp_frames():
    """TCP, client port 40000 -> server 5060: a handshake, REG1 and half of REG2 merged in one
    segment, that segment retransmitted, the rest of REG2; the server answers 401 and 200 in one
    segment; then OPTIONS split in two segments sent out of order, and FIN."""
    c, s = 1000, 5000
    t = lambda src, dst, sp, dp, seq, fl, pl=b"": eth(ip4(src, dst, 6, tcp(sp, dp, seq, fl, pl)))
    half = len(REG2) // 2
    seg1 = REG1 + REG2[:half]
    frames = [
        t(C4, S4, 40000, 5060, c, SYN),
        t(S4, C4, 5060, 40000, s, SYN | ACK),
        t(C4, S4, 40000, 5060, c + 1, ACK),
        t(C4, S4, 40000, 5060, c + 1, PSH_ACK, seg1),                       # 4: REG1
        t(C4, S4, 40000, 5060, c + 1, PSH_ACK, seg1),                       # 5: retransmission
        t(C4, S4, 40000, 5060, c + 1 + len(REG1) + half - 10, PSH_ACK,
          REG2[half - 10:]),                                                # 6: overlaps by 10
        t(S4, C4, 5060, 40000, s + 1, PSH_ACK, R401 + R200),                # 7: 401, 200
    ]
    o = c + 1 + len(seg1) + len(REG2) - half
    cut = 100
    frames += [
        t(C4, S4, 40000, 5060, o + cut, PSH_ACK, OPTS[cut:]),               # 8: ahead
        t(C4, S4, 40000, 5060, o, PSH_ACK, OPTS[:cut]),                     # 9: OPTIONS
        t(C4, S4, 40000, 5060, o + len(OPTS), FIN | ACK),
        eth(ip4(C4, S4, 6, tcp(40001, 80, 1, PSH_ACK, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))),
    ]
    return frames


def fragments4():
    """BIG over UDP/IPv4 in three fragments, the last one first; then a lone fragment."""
    data = udp(5060, 5060, BIG)
    a, b = data[:1480], data[1480:2960]
    rest = data[2960:]
    f = lambda off, more, part: eth(ip4(C4, S4, 17, part, ident=77,
                                        frag=(0x2000 if more else 0) | (off // 8)))
    return [
        eth(udp4(C4, S4, 5060, 5060, REG1)),                                 # 1
        f(2960, False, rest),                                                # 2
        f(0, True, a),                                                       # 3
        f(1480, True, b),                                                    # 4: BIG
        eth(ip4(C4, S4, 17, data[:1480], ident=78, frag=0x2000)),            # 5: never completes
        eth(udp4(S4, C4, 5060, 5060, R200)),                                 # 6
    ]


C6, S6 = "2001:db8::10", "2001:db8::1"


def ipv6_frames():
    """IPv6: UDP behind a destination options header, BIG in two fragments, TCP."""
    dst_opts = bytes([17, 0, 1, 4, 0, 0, 0, 0])   # next header UDP, 8 bytes (PadN)
    data = udp(5060, 5060, BIG)
    fa, fb = data[:1448], data[1448:]
    frag = lambda off, more, part: ip6(C6, S6, 44, struct.pack("!BBHI", 17, 0, off | more, 9)
                                       + part)
    return [
        eth(ip6(C6, S6, 60, dst_opts + udp(5060, 5060, REG1)), 0x86DD),       # 1
        eth(frag(0, 1, fa), 0x86DD),                                          # 2
        eth(frag(1448, 0, fb), 0x86DD),                                       # 3: BIG
        eth(ip6(S6, C6, 6, tcp(5060, 40000, 7, PSH_ACK, R200)), 0x86DD),     # 4
    ]


def cooked(version, frames_ip):
    out = []
    for ip in frames_ip:
        etype = 0x0800 if ip[0] >> 4 == 4 else 0x86DD
        if version == 1:
            out.append(struct.pack("!HHH8sH", 0, 772, 6, b"\0" * 8, etype) + ip)
        else:
            out.append(struct.pack("!HHIHBB8s", etype, 0, 1, 772, 0, 6, b"\0" * 8) + ip)
    return out


def hep3(payload, src=C4, dst=S4, sport=5060, dport=5060, key=None, compress=False,
         proto_type=1, sec=T0 + 100, usec=5):
    ch = lambda t, v: struct.pack("!HHH", 0, t, 6 + len(v)) + v
    body = (ch(1, b"\x02") + ch(2, b"\x11") + ch(3, bytes(map(int, src.split("."))))
            + ch(4, bytes(map(int, dst.split(".")))) + ch(7, struct.pack("!H", sport))
            + ch(8, struct.pack("!H", dport)) + ch(9, struct.pack("!I", sec))
            + ch(10, struct.pack("!I", usec)) + ch(11, bytes([proto_type]))
            + ch(12, struct.pack("!I", 2001)))
    if key:
        body += ch(14, key.encode())
    body += ch(16, zlib.compress(payload)) if compress else ch(15, payload)
    body += ch(17, b"reg")
    return b"HEP3" + struct.pack("!H", 6 + len(body)) + body


def hep_frames():
    """HEPv3 from an agent at 198.51.100.7 to a collector on port 9060 (any port works)."""
    h = lambda pl: eth(udp4("198.51.100.7", "198.51.100.8", 40123, 9060, pl))
    return [
        h(hep3(REG1)),                                              # 1: plain
        h(hep3(R401, src=S4, dst=C4, compress=True)),               # 2: zlib
        h(hep3(REG2, key="secret")),                                # 3: with auth key
        h(hep3(b"\x80\x00rtcp", proto_type=5)),                     # 4: RTCP: ignored
        h(hep3(R200, src=S4, dst=C4)[:40]),                         # 5: truncated: problem
    ]


def corrupt():
    good = [eth(udp4(C4, S4, 5060, 5060, REG1)), eth(udp4(S4, C4, 5060, 5060, R401)),
            eth(udp4(C4, S4, 5060, 5060, REG2))]
    write_pcap("truncated.pcap", 1, good)
    path = os.path.join(OUT, "truncated.pcap")
    with open(path, "rb+") as f:
        f.truncate(os.path.getsize(path) - 100)
    # Bogus lengths inside frames: an IPv4 total length past the frame, a UDP length past the
    # datagram, a TCP header length of 4; then a good packet; then a record whose caplen is huge.
    frames = [
        eth(ip4(C4, S4, 17, udp(5060, 5060, REG1), total=4000)),
        eth(ip4(C4, S4, 17, udp(5060, 5060, REG1, length=3000))),
        eth(ip4(C4, S4, 6, tcp(1, 2, 3, PSH_ACK, REG1)[:12] + b"\x10" + b"\0" * 7)),
        eth(udp4(C4, S4, 5060, 5060, b"\x01\x02 not sip at all")),
        eth(udp4(C4, S4, 5060, 5060, R200)),
    ]
    write_pcap("bogus-length.pcap", 1, frames)
    with open(os.path.join(OUT, "bogus-length.pcap"), "ab") as f:
        f.write(struct.pack("<IIII", T0 + 9, 0, 0x7FFFFFFF, 0x7FFFFFFF) + b"junk")


def corpus():
    """Seeds for tests/fuzz/fuzz-capture.c: each fixture as a file image (mode 0) and as frames
    (mode 1: link type index, then length, time step, frame), and HEP packets (mode 2)."""
    out = os.path.join(OUT, "..", "fuzz", "corpus-capture")
    os.makedirs(out, exist_ok=True)
    links = {1: 0, 12: 1, 101: 1, 0: 2, 108: 3, 113: 4, 276: 5}
    for name in sorted(os.listdir(OUT)):
        if not name.endswith((".pcap", ".pcapng")):
            continue
        with open(os.path.join(OUT, name), "rb") as f:
            image = f.read()
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(b"\0" + image)
        if name.endswith(".pcap") and name not in ("truncated.pcap", "bogus-length.pcap"):
            linktype = struct.unpack("<I", image[20:24])[0]
            rec, off = b"\1" + bytes([links[linktype]]), 24
            while off + 16 <= len(image):
                caplen = struct.unpack("<I", image[off + 8:off + 12])[0]
                rec += struct.pack("!HB", caplen, 1) + image[off + 16:off + 16 + caplen]
                off += 16 + caplen
            with open(os.path.join(out, name + ".frames.bin"), "wb") as f:
                f.write(rec)
    for i, pkt in enumerate([hep3(REG1), hep3(R401, compress=True), hep3(REG2, key="k")]):
        with open(os.path.join(out, f"hep-{i}.bin"), "wb") as f:
            f.write(b"\2" + pkt)
    # Real HEPv1/v2/v3 from Kamailio (record-kamailio-hep.sh).
    for v in (1, 2, 3):
        path = os.path.join(OUT, f"kamailio-hepv{v}.bin")
        if os.path.exists(path):
            with open(path, "rb") as f, open(os.path.join(out, f"kamailio-hepv{v}.bin"), "wb") as g:
                g.write(b"\2" + f.read())


def main():
    write_pcap("tcp-split-merge.pcap", 1, tcp_frames())
    write_pcapng("tcp-split-merge.pcapng", 1, tcp_frames())
    write_pcapng("ipv4-fragments.pcapng", 1, fragments4())
    write_pcapng("ipv6.pcapng", 1, ipv6_frames())
    ips = [udp4(C4, S4, 5060, 5060, REG1), ip6(S6, C6, 17, udp(5060, 5060, R401))]
    write_pcap("cooked-v1.pcap", 113, cooked(1, ips))
    write_pcapng("cooked-v2.pcapng", 276, cooked(2, ips))
    write_pcap("vlan.pcap", 1, [
        eth(udp4(C4, S4, 5060, 5060, REG1), vlans=[(0x8100, 10)]),
        eth(udp4(S4, C4, 5060, 5060, R200), vlans=[(0x88A8, 20), (0x8100, 10)]),
    ])
    write_pcap("null-loopback.pcap", 0, [
        struct.pack("<I", 2) + udp4("127.0.0.1", "127.0.0.1", 5060, 5061, REG1),
        struct.pack("<I", 30) + ip6("::1", "::1", 17, udp(5061, 5060, R200)),
    ])
    write_pcap("raw-nanosecond.pcap", 101, [udp4(C4, S4, 5060, 5060, OPTS)], nano=True)
    write_pcap("hep.pcap", 1, hep_frames())
    corrupt()
    corpus()


if __name__ == "__main__":
    main()
