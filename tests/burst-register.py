#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Registers as fast as it can over UDP until it is killed, and says which REGISTERs got 200.

  burst-register.py HOST PORT DOMAIN USERS FIRST_CSEQ

Users user1..userUSERS (password "pwN", as tests/test-serve.c's users file) are all in flight
at once, each one registration at a time, round after round: REGISTER, 401, REGISTER with
Authorization (qop=auth), 200.  Each user keeps one Call-ID and one Contact (the same Contact in
every run, so that runs replace each other's bindings), and its CSeq grows from FIRST_CSEQ, so the stored binding of a user must carry at least the CSeq of the last 200
that user saw.  For every 200 it prints "ok USER CSEQ" at once (line-buffered): the test kills
the server in the middle of the burst and checks each printed line against the database.
A user whose answer does not come within a second starts over (the server may be gone).
"""

import hashlib
import os
import re
import select
import socket
import sys
import time


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def main():
    host, port, domain = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    users, first = int(sys.argv[4]), int(sys.argv[5])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    sent_by = "%s:%d" % sock.getsockname()
    run = os.urandom(4).hex()
    cseq = {}
    waiting = {}    # call-id -> (user, sent at)

    def send(user, authorization=""):
        call_id = "burst-%d-%s" % (user, run)
        cseq[user] += 1
        text = ("REGISTER sip:%s SIP/2.0\r\n"
                "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%d;rport\r\n"
                "Max-Forwards: 70\r\n"
                "From: <sip:user%d@%s>;tag=%d\r\n"
                "To: <sip:user%d@%s>\r\n"
                "Call-ID: %s\r\n"
                "CSeq: %d REGISTER\r\n"
                "Contact: <sip:user%d@127.0.0.1:5999>\r\n"
                "Expires: 3600\r\n"
                "%s"
                "Content-Length: 0\r\n\r\n"
                % (domain, sent_by, call_id, cseq[user], user, domain, user, user, domain,
                   call_id, cseq[user], user, authorization))
        sock.sendto(text.encode(), (host, port))
        waiting[call_id] = (user, time.monotonic())

    for user in range(1, users + 1):
        cseq[user] = first
        send(user)
    while True:
        ready, _, _ = select.select([sock], [], [], 0.2)
        now = time.monotonic()
        for call_id, (user, at) in list(waiting.items()):
            if now - at > 1.0:
                send(user)
        if not ready:
            continue
        text = sock.recv(65536).decode("utf-8", "replace")
        call_id = re.search(r"(?im)^(?:call-id|i)\s*:\s*(\S+)", text).group(1)
        number = int(re.search(r"(?im)^cseq\s*:\s*(\d+)", text).group(1))
        if call_id not in waiting:
            continue
        user = waiting.pop(call_id)[0]
        if number != cseq[user]:
            waiting[call_id] = (user, now)   # an answer to an earlier attempt: wait on
            continue
        if text.startswith("SIP/2.0 401"):
            realm = re.search(r'realm="([^"]*)"', text).group(1)
            nonce = re.search(r'nonce="([^"]*)"', text).group(1)
            opaque = re.search(r'opaque="([^"]*)"', text)
            uri = "sip:" + domain
            cnonce = os.urandom(4).hex()
            ha1 = md5("user%d:%s:pw%d" % (user, realm, user))
            response = md5("%s:%s:00000001:%s:auth:%s"
                           % (ha1, nonce, cnonce, md5("REGISTER:" + uri)))
            send(user, 'Authorization: Digest username="user%d", realm="%s", nonce="%s", '
                 'uri="%s", response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="%s"%s\r\n'
                 % (user, realm, nonce, uri, response, cnonce,
                    ', opaque="%s"' % opaque.group(1) if opaque else ""))
        elif text.startswith("SIP/2.0 200"):
            print("ok user%d %d" % (user, number), flush=True)
            send(user)
        else:
            send(user)


if __name__ == "__main__":
    main()
