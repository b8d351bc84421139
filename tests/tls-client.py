#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""SIP over TLS clients for tests/test-tls.c (python3 standard library only).

  tls-client.py register HOST PORT USER PASSWORD DOMAIN
      REGISTER -> 401 -> REGISTER with Authorization over one TLS connection; prints
      "final STATUS", the Via of the answer and its Contact.
  tls-client.py stall HOST PORT SECONDS
      opens TCP, sends half a ClientHello and never finishes; prints "closed after T" when
      the server closes the connection, "open after T" if it is still open after SECONDS.
  tls-client.py hold HOST PORT USER PASSWORD DOMAIN SECONDS
      registers as "register" does, then keeps the connection quiet for SECONDS while a
      second TLS connection (handshake only, no SIP) does the same; prints "registered: open"
      or "registered: closed", and "stranger: ..." likewise.
  tls-client.py garbage HOST PORT
      garbage before the handshake, garbage inside TLS, and garbage beside TLS (raw bytes on
      the socket after the handshake); prints one line per case, "closed" or "open".
Every socket has a timeout, so the script always ends.
"""

import hashlib
import os
import re
import socket
import ssl
import sys
import time

TIMEOUT = 10


def tls_context():
    # A lab certificate the test made a moment ago: nothing to verify it against.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect_tls(host, port):
    raw = socket.create_connection((host, port), timeout=TIMEOUT)
    return tls_context().wrap_socket(raw, server_hostname=None)


def read_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise EOFError("connection closed before a response")
        data += chunk
    return data.decode("utf-8", "replace")


def register(sock, user, domain, cseq, authorization=""):
    host, port = sock.getsockname()[:2]
    sent_by = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
    message = (
        "REGISTER sips:%s SIP/2.0\r\n"
        "Via: SIP/2.0/TLS %s;branch=z9hG4bK-tls-%d;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sips:%s@%s>;tag=t%d\r\n"
        "To: <sips:%s@%s>\r\n"
        "Call-ID: tls-%s-%d@test\r\n"
        "CSeq: %d REGISTER\r\n"
        "Contact: <sips:%s@%s>\r\n"
        "Expires: 300\r\n"
        "%s"
        "Content-Length: 0\r\n\r\n"
    ) % (domain, sent_by, cseq, user, domain, port, user, domain, user, port, cseq,
         user, sent_by, authorization)
    sock.sendall(message.encode())
    return read_response(sock)


def digest(challenge, user, password, method, uri):
    realm = re.search(r'realm="([^"]*)"', challenge).group(1)
    nonce = re.search(r'nonce="([^"]*)"', challenge).group(1)
    opaque = re.search(r'opaque="([^"]*)"', challenge)
    md5 = lambda text: hashlib.md5(text.encode()).hexdigest()
    ha1 = md5("%s:%s:%s" % (user, realm, password))
    ha2 = md5("%s:%s" % (method, uri))
    cnonce = os.urandom(8).hex()
    response = md5("%s:%s:00000001:%s:auth:%s" % (ha1, nonce, cnonce, ha2))
    header = ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
              'response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="%s"'
              % (user, realm, nonce, uri, response, cnonce))
    if opaque:
        header += ', opaque="%s"' % opaque.group(1)
    return header + "\r\n"


def header(response, name):
    for line in response.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line
    return "(no %s)" % name


def cmd_register(host, port, user, password, domain):
    sock = connect_tls(host, int(port))
    first = register(sock, user, domain, 1)
    print("first", first.split(" ")[1])
    second = register(sock, user, domain, 2,
                      digest(first, user, password, "REGISTER", "sips:" + domain))
    print("final", second.split(" ")[1])
    print(header(second, "Via"))
    print(header(second, "Contact"))
    sock.close()


def cmd_hold(host, port, user, password, domain, seconds):
    sock = connect_tls(host, int(port))
    first = register(sock, user, domain, 1)
    second = register(sock, user, domain, 2,
                      digest(first, user, password, "REGISTER", "sips:" + domain))
    print("final", second.split(" ")[1])
    stranger = connect_tls(host, int(port))
    stranger_closed = wait_closed(stranger, float(seconds))
    # The registered connection was quiet just as long: is it still there?
    registered_closed = wait_closed(sock, 0.5)
    print("registered:", "closed" if registered_closed else "open")
    print("stranger:", "closed" if stranger_closed else "open")


def wait_closed(sock, seconds):
    """True when the peer closed (or reset) the connection within @seconds."""
    sock.settimeout(seconds)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except socket.timeout:
        return False
    except (ConnectionError, ssl.SSLError, OSError):
        return True


def cmd_stall(host, port, seconds):
    sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    started = time.monotonic()
    # The first bytes of a TLS 1.2 ClientHello record announcing 512 bytes that never come.
    sock.sendall(bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]))
    closed = wait_closed(sock, float(seconds))
    print("%s after %.1f" % ("closed" if closed else "open", time.monotonic() - started))


def cmd_garbage(host, port):
    port = int(port)
    junk = bytes(range(256)) * 8
    # Before the handshake: bytes that are no TLS record, then plain SIP on the TLS port.
    sock = socket.create_connection((host, port), timeout=TIMEOUT)
    sock.sendall(junk)
    print("before:", "closed" if wait_closed(sock, TIMEOUT) else "open")
    sock = socket.create_connection((host, port), timeout=TIMEOUT)
    sock.sendall(b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n")
    print("plain-sip:", "closed" if wait_closed(sock, TIMEOUT) else "open")
    # Inside TLS: a well-encrypted stream that is not SIP (with a CRLF, so that the framer
    # judges its first line at once instead of waiting for the message timeout).
    sock = connect_tls(host, port)
    sock.sendall(junk + b"\r\n")
    print("inside:", "closed" if wait_closed(sock, TIMEOUT) else "open")
    # Beside TLS: after the handshake, raw bytes on the socket that do not decrypt.
    raw = socket.create_connection((host, port), timeout=TIMEOUT)
    sock = tls_context().wrap_socket(raw)
    raw_fd = socket.socket(fileno=os.dup(sock.fileno()))
    raw_fd.sendall(b"\x17\x03\x03\x00\x20" + os.urandom(32) + junk)
    raw_fd.close()
    print("beside:", "closed" if wait_closed(sock, TIMEOUT) else "open")


def main():
    command, args = sys.argv[1], sys.argv[2:]
    commands = {"register": cmd_register, "stall": cmd_stall, "garbage": cmd_garbage,
                "hold": cmd_hold}
    commands[command](*args)


if __name__ == "__main__":
    main()
