#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Floods a registrar with authenticated REGISTERs, garbage mixed in, and says which got 200.

  flood-register.py udp|tcp HOST PORT DOMAIN FIRST-LAST ACKS SECONDS [CONNECTIONS]

Users userFIRST..userLAST (password "pwN", as tests/test-serve-db-flood.c's users file) are all in
flight at once, each one registration at a time: REGISTER, 401, REGISTER with Authorization
(qop=auth), 200, and again with the next CSeq.  For every 200 it prints "ok USER CSEQ" at once.
It stops after ACKS 200s or SECONDS seconds, whichever comes first, and prints "attacker N"
(the attacker's datagrams or connections) and "done N" (the 200s).

Over UDP, a second socket plays the attacker, 4,000 datagrams a second whatever the server
answers, in turn: a datagram of random bytes, a REGISTER cut short, a REGISTER of a user nobody
knows (the server answers 401), one with a wrong
password (the test itself sends the largest REGISTERs, at moments it chooses).
Over TCP, the users are spread over CONNECTIONS connections that pipeline their requests (all
of a connection's users in flight on its stream), and further connections send garbage.
A user whose answer does not come within five seconds starts over with the next CSeq.
"""

import hashlib
import os
import re
import select
import socket
import sys
import time

GARBAGE_RATE = 4000


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


class Flood:
    def __init__(self, mode, host, port, domain, first, last):
        self.mode, self.host, self.port, self.domain = mode, host, port, domain
        self.run = os.urandom(4).hex()
        self.cseq = dict((user, 0) for user in range(first, last + 1))
        self.waiting = {}       # call-id -> (user, sent at)
        self.acks = 0
        self.bad = 0            # the attacker's datagrams or connections

    def register(self, user, sent_by, authorization="", name=None, call_id=None, cseq=1):
        name = name or "user%d" % user
        call_id = call_id or "flood-%d-%s" % (user, self.run)
        return ("REGISTER sip:%s SIP/2.0\r\n"
                "Via: SIP/2.0/%s %s;branch=z9hG4bK-%s-%d;rport\r\n"
                "Max-Forwards: 70\r\n"
                "From: <sip:%s@%s>;tag=%d\r\n"
                "To: <sip:%s@%s>\r\n"
                "Call-ID: %s\r\n"
                "CSeq: %d REGISTER\r\n"
                "Contact: <sip:%s@127.0.0.1:5999;transport=%s>\r\n"
                "Expires: 3600\r\n"
                "%s"
                "Content-Length: 0\r\n\r\n"
                % (self.domain, self.mode.upper(), sent_by, call_id, cseq, name, self.domain,
                   user, name, self.domain, call_id, cseq, name, self.mode, authorization))

    def request(self, user, sent_by, authorization=""):
        self.cseq[user] += 1
        self.waiting["flood-%d-%s" % (user, self.run)] = (user, time.monotonic())
        return self.register(user, sent_by, authorization, cseq=self.cseq[user])

    def answer(self, text, sent_by):
        """The next request for the user @text answers (None if it answers nothing of ours)."""
        call_id = re.search(r"(?im)^(?:call-id|i)\s*:\s*(\S+)", text)
        number = re.search(r"(?im)^cseq\s*:\s*(\d+)", text)
        if call_id is None or number is None or call_id.group(1) not in self.waiting:
            return None
        user = self.waiting[call_id.group(1)][0]
        if int(number.group(1)) != self.cseq[user]:
            return None     # an answer to an earlier attempt
        del self.waiting[call_id.group(1)]
        if text.startswith("SIP/2.0 401"):
            realm = re.search(r'realm="([^"]*)"', text).group(1)
            nonce = re.search(r'nonce="([^"]*)"', text).group(1)
            opaque = re.search(r'opaque="([^"]*)"', text)
            uri = "sip:" + self.domain
            cnonce = os.urandom(4).hex()
            ha1 = md5("user%d:%s:pw%d" % (user, realm, user))
            response = md5("%s:%s:00000001:%s:auth:%s"
                           % (ha1, nonce, cnonce, md5("REGISTER:" + uri)))
            return self.request(user, sent_by, 'Authorization: Digest username="user%d", '
                                'realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, '
                                'qop=auth, nc=00000001, cnonce="%s"%s\r\n'
                                % (user, realm, nonce, uri, response, cnonce,
                                   ', opaque="%s"' % opaque.group(1) if opaque else ""))
        if text.startswith("SIP/2.0 200"):
            print("ok user%d %d" % (user, self.cseq[user]), flush=True)
            self.acks += 1
        return self.request(user, sent_by)

    def stale(self):
        now = time.monotonic()
        return [user for user, at in self.waiting.values() if now - at > 5.0]

    def garbage(self, sent_by, k):
        kind = k % 4
        if kind == 0:
            return os.urandom(200 + k % 700)
        if kind == 1:
            return self.register(1, sent_by, call_id="cut-%d" % k).encode()[:150 + k % 200]
        if kind == 2:
            return self.register(1, sent_by, name="stranger%d" % k, call_id="x-%d" % k).encode()
        return self.register(1, sent_by, 'Authorization: Digest username="mallory", '
                             'realm="%s", nonce="0000", uri="sip:%s", response="%s", '
                             'qop=auth, nc=00000001, cnonce="1"\r\n'
                             % (self.domain, self.domain, "0" * 32),
                             name="mallory", call_id="m-%d" % k).encode()


def flood_udp(flood, acks, seconds):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((flood.host, 0))
    bad = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bad.bind((flood.host, 0))
    bad.setblocking(False)
    to = (flood.host, flood.port)
    sent_by = "%s:%d" % sock.getsockname()
    bad_by = "%s:%d" % bad.getsockname()
    start = time.monotonic()
    end = start + seconds
    k = 0
    for user in flood.cseq:
        sock.sendto(flood.request(user, sent_by).encode(), to)
    while flood.acks < acks and time.monotonic() < end:
        for user in flood.stale():
            sock.sendto(flood.request(user, sent_by).encode(), to)
        # The attacker does not wait for answers: GARBAGE_RATE datagrams a second, whatever
        # the server does.
        try:
            while k < (time.monotonic() - start) * GARBAGE_RATE:
                k += 1
                flood.bad += 1
                bad.sendto(flood.garbage(bad_by, k), to)
            while True:
                bad.recv(65536)     # what the attacker is told does not matter
        except (BlockingIOError, ConnectionRefusedError):
            pass
        ready, _, _ = select.select([sock], [], [], 0.002)
        if not ready:
            continue
        text = sock.recv(65536).decode("utf-8", "replace")
        following = flood.answer(text, sent_by)
        if following is not None:
            sock.sendto(following.encode(), to)


def frames(buffer):
    """Complete messages at the start of @buffer, and what is left."""
    out = []
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return out, buffer
        length = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", buffer[:end])
        total = end + 4 + (int(length.group(1)) if length else 0)
        if len(buffer) < total:
            return out, buffer
        out.append(buffer[:total].decode("utf-8", "replace"))
        buffer = buffer[total:]


def flood_tcp(flood, acks, seconds, connections):
    to = (flood.host, flood.port)
    conns = []
    for i in range(connections):
        conn = socket.create_connection(to)
        conns.append((conn, "%s:%d" % conn.getsockname()))
    owner = dict((user, user % connections) for user in flood.cseq)
    buffers = dict((conn, b"") for conn, _ in conns)
    end = time.monotonic() + seconds
    k = 0
    for user in flood.cseq:
        conn, sent_by = conns[owner[user]]
        conn.sendall(flood.request(user, sent_by).encode())
    while flood.acks < acks and time.monotonic() < end:
        for user in flood.stale():
            conn, sent_by = conns[owner[user]]
            conn.sendall(flood.request(user, sent_by).encode())
        ready, _, _ = select.select([conn for conn, _ in conns], [], [], 0.2)
        before = k
        for conn in ready:
            data = conn.recv(65536)
            if not data:
                raise SystemExit("the server closed a connection of valid requests")
            messages, buffers[conn] = frames(buffers[conn] + data)
            sent_by = dict(conns)[conn]
            out = b"".join((flood.answer(text, sent_by) or "").encode() for text in messages)
            conn.sendall(out)
            k += len(messages)
        # The attacker's connections: garbage, then they go (the server closes some first).
        if k // 50 > before // 50:
            flood.bad += 1
            bad = socket.create_connection(to)
            try:
                bad.sendall(flood.garbage("127.0.0.1:1", k) + b"\r\n\r\n" +
                            flood.garbage("127.0.0.1:1", k + 3))
            except OSError:
                pass
            bad.close()


def main():
    mode, host, port, domain = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    users, acks, seconds = sys.argv[5].split("-"), int(sys.argv[6]), float(sys.argv[7])
    flood = Flood(mode, host, port, domain, int(users[0]), int(users[-1]))
    if mode == "udp":
        flood_udp(flood, acks, seconds)
    else:
        flood_tcp(flood, acks, seconds, int(sys.argv[8]))
    print("attacker %d" % flood.bad, flush=True)
    print("done %d" % flood.acks, flush=True)


if __name__ == "__main__":
    main()
