#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Opening a large capture: messages per second and peak memory of `siplab-cli view --format
# jsonl` beside tshark (`-Y sip -T fields -e sip.Method`) and sngrep (`-I FILE -N -q`: read the
# file without the interface and print nothing) on the same file.
#
#   bench/bench-capture.sh [BUILD_DIR]          (default: build)
#   MESSAGES=1000000 USERS=10000 ROUNDS=1 KEEP=/tmp/cap.pcap bench/bench-capture.sh _build
#
# The capture is made by bench/gen-sip-pcap.py: REGISTER, 401, REGISTER with a correct
# Authorization, 200 OK cycles of USERS users at one registrar, UDP over IPv4 in Ethernet
# frames, classic pcap.  siplab-cli view runs twice, without and with --users (every
# Authorization recomputed and judged).  Wall time and peak RSS come from GNU time (-f "%e %M");
# each tool's output goes to /dev/null.  sngrep keeps every dialog it sees unless told a limit,
# so it runs with -l set to the number of cycles (its default limit, 20000 dialogs, would make it
# stop storing after the first 80,000 messages and understate its memory).  A tool that is not
# installed gets a dash.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${1:-build}
MESSAGES=${MESSAGES:-1000000}
USERS=${USERS:-10000}
ROUNDS=${ROUNDS:-1}
CLI="$BUILD/app/siplab-cli"
[ -x "$CLI" ] || { echo "no $CLI: build first (meson setup $BUILD && ninja -C $BUILD)" >&2; exit 2; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
CAP=${KEEP:-$TMP/capture.pcap}
if [ ! -s "$CAP" ]; then
  python3 bench/gen-sip-pcap.py "$CAP" --messages "$MESSAGES" --users "$USERS" \
    --users-out "$TMP/users"
else
  python3 bench/gen-sip-pcap.py "$TMP/unused.pcap" --messages 0 --users "$USERS" \
    --users-out "$TMP/users" 2>/dev/null
fi
SIZE=$(stat -c %s "$CAP")
CYCLES=$(( (MESSAGES + 3) / 4 ))

# run NAME COMMAND...: prints "NAME  seconds  messages/s  peak-RSS-MB", best of ROUNDS.
run () {
  local name=$1; shift
  if ! command -v "$1" >/dev/null 2>&1; then
    printf '%-34s %10s %14s %12s\n' "$name" - - -
    return
  fi
  local best_t="" best_m=""
  for _ in $(seq "$ROUNDS"); do
    /usr/bin/time -f '%e %M' -o "$TMP/time" "$@" >/dev/null 2>"$TMP/err" </dev/null || {
      echo "$name failed:" >&2; tail -5 "$TMP/err" >&2; }
    read -r t m < <(tail -1 "$TMP/time")
    if [ -z "$best_t" ] || awk "BEGIN{exit !($t < $best_t)}"; then best_t=$t; best_m=$m; fi
  done
  awk -v n="$name" -v t="$best_t" -v m="$best_m" -v msgs="$MESSAGES" 'BEGIN {
    rate = t > 0 ? msgs / t : 0;
    printf "%-34s %10.2f %14.0f %12.1f\n", n, t, rate, m / 1024 }'
}

echo "capture: $MESSAGES SIP messages, $CYCLES registrations of $USERS users, $((SIZE / 1048576)) MB"
printf '%-34s %10s %14s %12s\n' tool seconds messages/s "peak RSS MB"
run "siplab-cli view --format jsonl" "$CLI" view "$CAP" --format jsonl
run "siplab-cli view --users (verdicts)" "$CLI" view "$CAP" --format jsonl --users "$TMP/users"
run "tshark -Y sip -e sip.Method" tshark -n -r "$CAP" -Y sip -T fields -e sip.Method
run "sngrep -I -N -q" sngrep -I "$CAP" -N -q -l "$CYCLES"
