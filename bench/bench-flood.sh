#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# What floods cost `siplab-cli serve` (issue 9, item 4): the server runs on loopback UDP with
# `--format none`, and bench/bench-flood.py sends, phase by phase,
#   big-from  1,500 REGISTERs with a 60 KB From (over SIM_MESSAGE_MAX_LINE_LENGTH: dropped unparsed)
#   mid-from  1,500 REGISTERs with a 7 KB From (parsed, challenged with a stateless 401)
#   headers   datagrams of ~12,900 one-byte header lines (over SIM_MESSAGE_MAX_HEADER_LINES: 513)
#   unauth    20,000 REGISTERs without credentials (401 each)
#   big-message  1,500 MESSAGEs with a 60 KB body from a foreign domain (not challenged) to
#             user0000, registered from a socket that never answers: each is held by a server
#             and a client transaction for 32 s, until the byte budget answers 503
# while a probe sends OPTIONS to the server itself every 50 ms.  For each phase it prints the
# server's RSS and CPU (from /proc/PID/status and /proc/PID/stat) during the flood and AFTER
# seconds later, and how many probes were answered and how fast.
#
#   bench/bench-flood.sh [BUILD_DIR]               (default: build)
#   AFTER=40 PHASES=big-from,mid-from,headers,unauth bench/bench-flood.sh _build
#   EXTRA="--headers-rate 4 --unauth-count 5000" bench/bench-flood.sh _build
#   PHASES=big-message SERVE_ARGS="--max-transaction-memory 100000" bench/bench-flood.sh _build
#                                                  (SERVE_ARGS: more options for serve)
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${1:-build}
AFTER=${AFTER:-40}
PHASES=${PHASES:-big-from,mid-from,headers,unauth,big-message}
CLI="$PWD/$BUILD/app/siplab-cli"
[ -x "$CLI" ] || { echo "bench-flood: $CLI not built (ninja -C $BUILD)"; exit 1; }

WORK=$(mktemp -d)
SERVER_PID=""
cleanup () {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

{
  echo "# bench users"
  for i in $(seq -f %04g 0 999); do echo "user$i:pw$i"; done
} > "$WORK/users.txt"

PORT=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# shellcheck disable=SC2086
"$CLI" serve --listen "udp:127.0.0.1:$PORT" --domain lab.example --users "$WORK/users.txt" \
  --format none ${SERVE_ARGS:-} 2>"$WORK/serve.log" &
SERVER_PID=$!
sleep 1
kill -0 "$SERVER_PID" || { cat "$WORK/serve.log"; exit 1; }

echo "bench-flood: $("$CLI" --version 2>/dev/null || echo siplab-cli) on udp:127.0.0.1:$PORT, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
python3 bench/bench-flood.py --port "$PORT" --pid "$SERVER_PID" --after "$AFTER" --phases "$PHASES" ${EXTRA:-}
