#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Registrations with digest authentication over persistent TCP or TLS connections.

  stream-register.py tls|tcp HOST PORT DOMAIN USERS CONNECTIONS

sipp as packaged here has no TLS, so bench/bench-serve.sh's TLS column uses this client:
CONNECTIONS connections are opened (and, for TLS, their handshakes done) first, then user
i = 1..USERS ("user%04d", password "pw%04d", as bench-serve.sh's users file) registers on
connection i mod CONNECTIONS: REGISTER, 401, REGISTER with Authorization (qop=auth), 200,
each connection one registration at a time, all connections at once.  Prints
"REGS_PER_SECOND SECONDS FAILED": the time runs from the first REGISTER to the last answer,
so the handshakes are not in it (phones keep their connection open between refreshes).
The client is Python: when it, not the server, is the bottleneck, the server's CPU time per
registration (bench-serve.sh reads it from /proc) is the figure to compare.
"""

import asyncio
import hashlib
import os
import re
import ssl
import sys
import time


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def request(user, domain, sent_by, transport, cseq, call_id, authorization=""):
    return (
        "REGISTER sip:%s SIP/2.0\r\n"
        "Via: SIP/2.0/%s %s;branch=z9hG4bK-%s-%d;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:%s@%s>;tag=%s\r\n"
        "To: <sip:%s@%s>\r\n"
        "Call-ID: %s\r\n"
        "CSeq: %d REGISTER\r\n"
        "Contact: <sip:%s@%s;transport=%s>\r\n"
        "Expires: 3600\r\n"
        "%s"
        "Content-Length: 0\r\n\r\n"
        % (domain, transport.upper(), sent_by, call_id, cseq, user, domain, call_id[:8], user,
           domain, call_id, cseq, user, sent_by, transport, authorization)
    ).encode()


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
    if length and int(length.group(1)) > 0:
        await reader.readexactly(int(length.group(1)))
    return head.decode("utf-8", "replace")


async def register(reader, writer, user, password, domain, sent_by, transport):
    call_id = os.urandom(8).hex()
    writer.write(request(user, domain, sent_by, transport, 1, call_id))
    challenge = await read_response(reader)
    if not challenge.startswith("SIP/2.0 401"):
        return False
    realm = re.search(r'realm="([^"]*)"', challenge).group(1)
    nonce = re.search(r'nonce="([^"]*)"', challenge).group(1)
    opaque = re.search(r'opaque="([^"]*)"', challenge)
    uri = "sip:" + domain
    cnonce = os.urandom(4).hex()
    ha1 = md5("%s:%s:%s" % (user, realm, password))
    response = md5("%s:%s:00000001:%s:auth:%s" % (ha1, nonce, cnonce, md5("REGISTER:" + uri)))
    authorization = ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
                     'response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="%s"%s\r\n'
                     % (user, realm, nonce, uri, response, cnonce,
                        ', opaque="%s"' % opaque.group(1) if opaque else ""))
    writer.write(request(user, domain, sent_by, transport, 2, call_id, authorization))
    return (await read_response(reader)).startswith("SIP/2.0 200")


async def main():
    transport, host, port, domain = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    users, connections = int(sys.argv[5]), int(sys.argv[6])
    context = None
    if transport == "tls":
        # A benchmark's throwaway certificate: nothing to verify it against.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    streams = [await asyncio.open_connection(host, port, ssl=context) for _ in range(connections)]
    failed = 0

    async def worker(k, reader, writer):
        nonlocal failed
        local = writer.get_extra_info("sockname")
        sent_by = "%s:%d" % (local[0], local[1])
        for i in range(k + 1, users + 1, connections):
            ok = await register(reader, writer, "user%04d" % i, "pw%04d" % i, domain, sent_by,
                                transport)
            failed += 0 if ok else 1

    started = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(worker(k, r, w) for k, (r, w) in enumerate(streams))),
                           timeout=600)
    seconds = time.monotonic() - started
    for _, writer in streams:
        writer.close()
    print("%.0f %.3f %d" % (users / seconds, seconds, failed))


if __name__ == "__main__":
    asyncio.run(main())
