#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Records tests/captures/kamailio-hepv{1,2,3}.bin: what Kamailio's siptrace (Debian kamailio)
# sends, as HEPv1, v2 and v3, when it traces one OPTIONS request on loopback.  The files are
# committed; tests/test-hep.c decodes them.  Run from anywhere; needs kamailio and python3.
set -euo pipefail
out="$(cd "$(dirname "$0")" && pwd)"
dir="$(mktemp -d)"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; cat "$dir"/k*.log >&2 || true; rm -rf "$dir"' EXIT
for v in 1 2 3; do
  cat > "$dir/k$v.cfg" <<CFG
#!KAMAILIO
debug=2
log_stderror=yes
children=1
listen=udp:127.0.0.1:4706$v
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "sl.so"
loadmodule "siptrace.so"
modparam("siptrace", "duplicate_uri", "sip:127.0.0.1:4707$v")
modparam("siptrace", "hep_mode_on", 1)
modparam("siptrace", "trace_on", 1)
modparam("siptrace", "hep_version", $v)
modparam("siptrace", "trace_to_database", 0)
request_route {
  sip_trace();
  sl_send_reply("200", "OK");
}
CFG
  kamailio -f "$dir/k$v.cfg" -DD -E >"$dir/k$v.log" 2>&1 &
  pids+=($!)
done
# Kamailio forks its workers before it listens: give it time on a loaded machine.
sleep 5
OUT="$out" python3 - <<'PY'
import os, socket
out = os.environ["OUT"]
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.bind(("127.0.0.1", 0))
msg = (b"OPTIONS sip:lab SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKx1\r\n"
       b"From: <sip:a@lab>;tag=1\r\nTo: <sip:lab>\r\nCall-ID: kam1\r\nCSeq: 1 OPTIONS\r\n"
       b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n") % c.getsockname()[1]
for v in (1, 2, 3):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 47070 + v))
    s.settimeout(5)
    c.sendto(msg, ("127.0.0.1", 47060 + v))
    packet = s.recv(70000)
    with open(os.path.join(out, "kamailio-hepv%d.bin" % v), "wb") as f:
        f.write(packet)
PY
