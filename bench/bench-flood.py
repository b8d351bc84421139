#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The attacker and the observer of bench/bench-flood.sh (python3, stdlib only).

Floods a running `siplab-cli serve` on loopback UDP, phase by phase, while a probe sends OPTIONS
to the server itself (Request-URI sip:HOST:PORT) every PROBE_MS and times the answers.  For each
phase it prints the server's resident memory (VmRSS and VmHWM from /proc/PID/status) and CPU
(utime + stime from /proc/PID/stat) before, during and AFTER seconds after the flood, and how
many probes were answered and how fast.

  bench-flood.py --port PORT --pid PID [--after 40] [--phases big-from,headers,unauth,...]
"""

import argparse
import hashlib
import os
import re
import socket
import statistics
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # The command name is in parentheses and may hold spaces: count fields after it.
    rest = text[text.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


class Probe:
    """OPTIONS to the server every interval; answers matched by branch."""

    def __init__(self, host, port, interval):
        self.host, self.port, self.interval = host, port, interval
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.2)
        self.local_port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.sent = {}          # branch -> send time
        self.latency = {}       # branch -> seconds
        self.stop = threading.Event()
        self.n = 0

    def options(self, branch):
        return (f"OPTIONS sip:{self.host}:{self.port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {self.host}:{self.local_port};branch={branch};rport\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:probe@{self.host}>;tag=probe\r\n"
                f"To: <sip:{self.host}:{self.port}>\r\n"
                f"Call-ID: {branch}@probe\r\n"
                "CSeq: 1 OPTIONS\r\n"
                "Content-Length: 0\r\n\r\n").encode()

    def send_loop(self):
        while not self.stop.is_set():
            self.n += 1
            branch = f"z9hG4bKprobe{self.n}"
            with self.lock:
                self.sent[branch] = time.monotonic()
            self.sock.sendto(self.options(branch), (self.host, self.port))
            self.stop.wait(self.interval)

    def receive_loop(self):
        while not self.stop.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            now = time.monotonic()
            text = data.decode("latin-1")
            start = text.find("branch=z9hG4bKprobe")
            if start < 0:
                continue
            branch = text[start + 7:].split(";")[0].split("\r")[0].split(",")[0]
            with self.lock:
                if branch in self.sent and branch not in self.latency:
                    self.latency[branch] = now - self.sent[branch]

    def start(self):
        self.threads = [threading.Thread(target=self.send_loop, daemon=True),
                        threading.Thread(target=self.receive_loop, daemon=True)]
        for t in self.threads:
            t.start()

    def window(self):
        """Marks a point in time: window_stats(mark) reports the probes sent since."""
        with self.lock:
            return set(self.sent)

    def window_stats(self, before, grace=2.0):
        time.sleep(grace)   # let the last probes of the window be answered
        with self.lock:
            branches = [b for b in self.sent if b not in before]
            lat = [self.latency[b] for b in branches if b in self.latency]
        n = len(branches)
        if not lat:
            return f"probes answered 0/{n}"
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        return (f"probes answered {len(lat)}/{n}, latency median {statistics.median(lat) * 1000:.1f} ms, "
                f"p99 {p99 * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms")


def register(host, port, local_port, n, from_display="", extra=""):
    branch = f"z9hG4bKflood{n}"
    return (f"REGISTER sip:lab.example SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {host}:{local_port};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: \"{from_display}\" <sip:user{n % 1000:04d}@lab.example>;tag=f{n}\r\n"
            f"To: <sip:user{n % 1000:04d}@lab.example>\r\n"
            f"Call-ID: flood{n}@{host}\r\n"
            "CSeq: 1 REGISTER\r\n"
            f"Contact: <sip:user{n % 1000:04d}@{host}:{local_port}>\r\n"
            f"{extra}"
            "Content-Length: 0\r\n\r\n").encode()


def register_silent_phone(host, port, user, password):
    """Registers user (digest, RFC 2617 with qop=auth) from a socket that then answers nothing.

    Returns the socket: kept open (and drained) so that the server's requests reach a bound port
    and simply go unanswered, as with a phone that never picks up."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    sock.settimeout(2.0)
    local_port = sock.getsockname()[1]
    uri = "sip:lab.example"

    def request(cseq, authorization=""):
        return (f"REGISTER {uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {host}:{local_port};branch=z9hG4bKsilent{cseq};rport\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:{user}@lab.example>;tag=silent\r\n"
                f"To: <sip:{user}@lab.example>\r\n"
                f"Call-ID: silent@{host}\r\n"
                f"CSeq: {cseq} REGISTER\r\n"
                f"Contact: <sip:{user}@{host}:{local_port}>\r\n"
                "Expires: 3600\r\n"
                f"{authorization}"
                "Content-Length: 0\r\n\r\n").encode()

    sock.sendto(request(1), (host, port))
    challenge = sock.recv(65536).decode("latin-1")
    if not challenge.startswith("SIP/2.0 401"):
        raise SystemExit(f"bench-flood: REGISTER for {user} got {challenge.splitlines()[0]}")
    params = dict(re.findall(r'(\w+)="?([^",\r]*)"?', challenge.split("WWW-Authenticate: Digest", 1)[1]
                             .split("\r\n", 1)[0]))
    md5 = lambda text: hashlib.md5(text.encode()).hexdigest()
    ha1 = md5(f"{user}:{params['realm']}:{password}")
    ha2 = md5(f"REGISTER:{uri}")
    cnonce, nc = "bench", "00000001"
    if "qop" in params:
        response = md5(f"{ha1}:{params['nonce']}:{nc}:{cnonce}:auth:{ha2}")
        extra = f", qop=auth, nc={nc}, cnonce=\"{cnonce}\""
    else:
        response = md5(f"{ha1}:{params['nonce']}:{ha2}")
        extra = ""
    authorization = (f"Authorization: Digest username=\"{user}\", realm=\"{params['realm']}\", "
                     f"nonce=\"{params['nonce']}\", uri=\"{uri}\", response=\"{response}\", "
                     f"algorithm=MD5{extra}\r\n")
    sock.sendto(request(2, authorization), (host, port))
    answer = sock.recv(65536).decode("latin-1")
    if not answer.startswith("SIP/2.0 200"):
        raise SystemExit(f"bench-flood: REGISTER for {user} got {answer.splitlines()[0]}")

    def drain():
        sock.settimeout(None)
        while True:
            try:
                sock.recv(65536)
            except OSError:
                return
    threading.Thread(target=drain, daemon=True).start()
    return sock


def stranger_message(host, local_port, n, body):
    """A MESSAGE from a foreign domain (never challenged) to user0000, the silent phone."""
    branch = f"z9hG4bKbig{n}"
    return (f"MESSAGE sip:user0000@lab.example SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {host}:{local_port};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:stranger@elsewhere.example>;tag=s{n}\r\n"
            "To: <sip:user0000@lab.example>\r\n"
            f"Call-ID: big{n}@elsewhere.example\r\n"
            "CSeq: 1 MESSAGE\r\n"
            "Content-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}").encode()


def flood_datagrams(sock, dest, make, count, rate):
    """Sends count datagrams from make(i), at most rate a second (0: as fast as the socket takes)."""
    start = time.monotonic()
    for i in range(count):
        if rate > 0:
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        while True:
            try:
                sock.sendto(make(i), dest)
                break
            except (BlockingIOError, OSError):
                time.sleep(0.001)
    return time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--after", type=float, default=40.0, help="seconds to watch after each flood")
    ap.add_argument("--probe-ms", type=float, default=50.0)
    ap.add_argument("--phases", default="big-from,mid-from,headers,unauth")
    ap.add_argument("--big-from-count", type=int, default=1500)
    # Unpaced, 60 KB datagrams overflow the server's 4 MB receive buffer and the kernel drops them.
    ap.add_argument("--big-from-rate", type=float, default=150.0)
    ap.add_argument("--headers-count", type=int, default=200)
    ap.add_argument("--headers-rate", type=float, default=20.0)
    ap.add_argument("--unauth-count", type=int, default=20000)
    ap.add_argument("--unauth-rate", type=float, default=2000.0)
    ap.add_argument("--big-message-count", type=int, default=1500)
    ap.add_argument("--big-message-rate", type=float, default=150.0)
    args = ap.parse_args()

    dest = (args.host, args.port)
    attacker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    attacker.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
    attacker.bind((args.host, 0))
    local_port = attacker.getsockname()[1]

    # Drain the server's answers (so that the kernel does not keep them for us), counted by status.
    answers = {}
    answers_lock = threading.Lock()

    def drain():
        attacker.settimeout(0.5)
        while True:
            try:
                data = attacker.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            status = data[8:11].decode("latin-1") if data.startswith(b"SIP/2.0 ") else "?"
            with answers_lock:
                answers[status] = answers.get(status, 0) + 1
    threading.Thread(target=drain, daemon=True).start()

    probe = Probe(args.host, args.port, args.probe_ms / 1000.0)
    probe.start()
    time.sleep(1.0)

    big_pad = "x" * 60000
    if "big-message" in args.phases.split(","):
        silent = register_silent_phone(args.host, args.port, "user0000", "pw0000")
    mid_pad = "x" * 7000
    header_pad = "a:b\r\n" * 13000    # 65,000 bytes: cut below to a full datagram
    phases = {
        # The figures: 1,500 REGISTERs with a 60 KB From.
        "big-from": (f"{args.big_from_count} REGISTERs with a 60 KB From at {args.big_from_rate:g}/s",
                     lambda i: register(args.host, args.port, local_port, i, big_pad),
                     args.big_from_count, args.big_from_rate),
        # The same under the line cap: each is parsed and challenged (401).
        "mid-from": (f"{args.big_from_count} REGISTERs with a 7 KB From at {args.big_from_rate:g}/s",
                     lambda i: register(args.host, args.port, local_port, 100000 + i, mid_pad),
                     args.big_from_count, args.big_from_rate),
        "headers": (f"{args.headers_count} datagrams of ~12,900 header lines at {args.headers_rate:g}/s",
                    lambda i: register(args.host, args.port, local_port, 200000 + i, "",
                                       header_pad[:65000 - 400]),
                    args.headers_count, args.headers_rate),
        # 60 KB bodies from a foreign domain to a registered phone that never answers: each is
        # held twice (server and client transaction) for 32 s, until the byte budget says 503.
        "big-message": (f"{args.big_message_count} MESSAGEs with a 60 KB body from a foreign "
                        f"domain to a registered, silent phone at {args.big_message_rate:g}/s",
                        lambda i: stranger_message(args.host, local_port, i, big_pad),
                        args.big_message_count, args.big_message_rate),
        "unauth": (f"{args.unauth_count} unauthenticated REGISTERs at {args.unauth_rate:g}/s",
                   lambda i: register(args.host, args.port, local_port, 300000 + i),
                   args.unauth_count, args.unauth_rate),
    }

    print(f"server pid {args.pid}: RSS {rss_kb(args.pid)[0] / 1024:.1f} MB at start", flush=True)
    for name in args.phases.split(","):
        title, make, count, rate = phases[name]
        rss0, _ = rss_kb(args.pid)
        cpu0 = cpu_seconds(args.pid)
        with answers_lock:
            answers.clear()
        mark = probe.window()
        peak = rss0
        done = threading.Event()
        result = {}

        def run():
            result["seconds"] = flood_datagrams(attacker, dest, make, count, rate)
            done.set()
        t0 = time.monotonic()
        threading.Thread(target=run, daemon=True).start()
        while not done.is_set():
            peak = max(peak, rss_kb(args.pid)[0])
            done.wait(0.2)
        # The server may still be working through its receive buffer.
        time.sleep(1.0)
        peak = max(peak, rss_kb(args.pid)[0])
        t1 = time.monotonic()
        cpu1 = cpu_seconds(args.pid)
        during = probe.window_stats(mark)
        print(f"[{name}] {title}: sent in {result['seconds']:.1f} s", flush=True)
        print(f"  during: RSS {rss0 / 1024:.1f} -> peak {peak / 1024:.1f} MB, "
              f"CPU {100 * (cpu1 - cpu0) / (t1 - t0):.0f}% of a core; {during}", flush=True)
        mark = probe.window()
        cpu2 = cpu_seconds(args.pid)
        t2 = time.monotonic()
        time.sleep(max(0.0, args.after - 2.0))
        rss_after, _ = rss_kb(args.pid)
        cpu3 = cpu_seconds(args.pid)
        t3 = time.monotonic()
        after = probe.window_stats(mark)
        with answers_lock:
            got = ", ".join(f"{n} x {status}" for status, n in sorted(answers.items())) or "none"
        print(f"  answers to the attacker: {got}", flush=True)
        print(f"  {args.after:g} s after: RSS {rss_after / 1024:.1f} MB, "
              f"CPU {100 * (cpu3 - cpu2) / (t3 - t2):.0f}% of a core; {after}", flush=True)
    probe.stop.set()


if __name__ == "__main__":
    main()
