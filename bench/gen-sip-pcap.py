#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes a classic pcap of N SIP messages for bench/bench-capture.sh.

Registration cycles of many users at one registrar, each four messages on UDP over IPv4 in
Ethernet II frames: REGISTER, 401 with an MD5 challenge (RFC 3261 section 22.4), REGISTER with
a correct Authorization (RFC 2617 section 3.2.2), 200 OK with the Contact and its expiry.
Every user has the password "pw-NAME", so `siplab-cli view --users` can judge every response
(--users-out writes that file).  Timestamps advance 1 ms a message.  Usage:

    gen-sip-pcap.py OUT.pcap [--messages 1000000] [--users 10000] [--users-out FILE]

stdlib only; about 10 s for a million messages.
"""
import argparse
import hashlib
import struct
import sys

REALM = "lab.test"
REGISTRAR = (b"\x0a\x00\x00\x01", 5060)   # 10.0.0.1:5060


def ip_checksum(header):
    total = sum(struct.unpack("!10H", header))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return (~total) & 0xFFFF


def frame(src_ip, sport, dst_ip, dport, payload, ident):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident & 0xFFFF, 0x4000, 64,
                         17, 0, src_ip, dst_ip)
    header = header[:10] + struct.pack("!H", ip_checksum(header)) + header[12:]
    eth = b"\x02\x00" + dst_ip + b"\x02\x00" + src_ip + b"\x08\x00"
    return eth + header + udp


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def cycle(n, user, phone_ip, phone_port):
    """The four messages of registration cycle @n of @user."""
    ip = "%d.%d.%d.%d" % tuple(phone_ip)
    call_id = "c%d-%s@%s" % (n, user, ip)
    nonce = "%032x" % (n * 2654435761 & ((1 << 128) - 1))
    via = "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%%s;rport\r\n" % (ip, phone_port)
    common = ("From: <sip:%s@%s>;tag=t%d\r\nTo: <sip:%s@%s>%%s\r\nCall-ID: %s\r\n"
              % (user, REALM, n, user, REALM, call_id))
    contact = "Contact: <sip:%s@%s:%d>" % (user, ip, phone_port)
    ua = "User-Agent: benchphone/1.0\r\n"
    req1 = ("REGISTER sip:%s SIP/2.0\r\n" % REALM + via % ("a%d" % n) + "Max-Forwards: 70\r\n"
            + common % "" + "CSeq: 1 REGISTER\r\n" + contact + "\r\nExpires: 3600\r\n" + ua
            + "Content-Length: 0\r\n\r\n")
    chal = ("SIP/2.0 401 Unauthorized\r\n" + via % ("a%d" % n) + common % (";tag=r%d" % n)
            + "CSeq: 1 REGISTER\r\nWWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", "
            "algorithm=MD5, qop=\"auth\"\r\nServer: benchregistrar/1.0\r\nContent-Length: 0"
            "\r\n\r\n" % (REALM, nonce))
    ha1 = md5("%s:%s:pw-%s" % (user, REALM, user))
    ha2 = md5("REGISTER:sip:%s" % REALM)
    cnonce = "%08x" % n
    response = md5("%s:%s:00000001:%s:auth:%s" % (ha1, nonce, cnonce, ha2))
    req2 = ("REGISTER sip:%s SIP/2.0\r\n" % REALM + via % ("b%d" % n) + "Max-Forwards: 70\r\n"
            + common % "" + "CSeq: 2 REGISTER\r\n" + contact + "\r\nExpires: 3600\r\n"
            + "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
            "uri=\"sip:%s\", response=\"%s\", algorithm=MD5, qop=auth, nc=00000001, "
            "cnonce=\"%s\"\r\n" % (user, REALM, nonce, REALM, response, cnonce)
            + ua + "Content-Length: 0\r\n\r\n")
    ok = ("SIP/2.0 200 OK\r\n" + via % ("b%d" % n) + common % (";tag=r%d" % n)
          + "CSeq: 2 REGISTER\r\n" + contact + ";expires=3600\r\n"
          + "Server: benchregistrar/1.0\r\nContent-Length: 0\r\n\r\n")
    return [(True, req1), (False, chal), (True, req2), (False, ok)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--messages", type=int, default=1000000)
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--users-out")
    args = parser.parse_args()

    if args.users_out:
        with open(args.users_out, "w") as f:
            for i in range(args.users):
                f.write("u%d:pw-u%d\n" % (i, i))
    written = 0
    usec = 0
    with open(args.out, "wb", buffering=1 << 20) as out:
        # Classic pcap, microseconds, snaplen 65535, LINKTYPE_ETHERNET.
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        n = 0
        while written < args.messages:
            i = n % args.users
            # 10.x.y.z with z from 1 to 250: no network or broadcast addresses.
            phone_ip = bytes((10, 1 + (i // 62500) % 250, (i // 250) % 250, 1 + i % 250))
            phone_port = 5060 + (n // args.users) % 1000
            for to_registrar, text in cycle(n, "u%d" % i, phone_ip, phone_port):
                if written == args.messages:
                    break
                payload = text.encode()
                if to_registrar:
                    data = frame(phone_ip, phone_port, REGISTRAR[0], REGISTRAR[1], payload, written)
                else:
                    data = frame(REGISTRAR[0], REGISTRAR[1], phone_ip, phone_port, payload, written)
                out.write(struct.pack("<IIII", 1767225600 + usec // 1000000, usec % 1000000,
                                      len(data), len(data)))
                out.write(data)
                written += 1
                usec += 1000
            n += 1
    print("%s: %d SIP messages, %d registration cycles" % (args.out, written, n), file=sys.stderr)


if __name__ == "__main__":
    main()
