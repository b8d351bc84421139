#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A day of SIP in bounded memory (issue 17): `siplab-cli run` plays data/scenarios/09-a-day.scn
# (300 phones, Expires 60, 2% loss) for 1, 6 and 24 virtual hours in each format, and prints
# the datagrams put on the wire, the maximum resident size and the wall time of each run.
# The run streams (no trace kept), so max RSS should be flat in the run's length.
#
#   bench/bench-longrun.sh [BUILD_DIR]                (default: _build)
#   HOURS="1 6" FORMATS="jsonl ladder" bench/bench-longrun.sh
#
# Output goes to /dev/null except for the JSON Lines of the first format, which are counted
# on the way (a pipe through a counter costs a second process; packets are counted once per
# length, from a jsonl run).  The ladder plans its columns with a first run of the same world,
# so it takes about twice the time of the others.
set -euo pipefail

build=${1:-_build}
here=$(cd "$(dirname "$0")/.." && pwd)
cli=$build/app/siplab-cli
scene=$here/data/scenarios/09-a-day.scn
hours=${HOURS:-1 6 24}
formats=${FORMATS:-jsonl messages ladder}

if [ ! -x "$cli" ]; then
  echo "bench-longrun: $cli is not built (ninja -C $build)" >&2
  exit 2
fi

printf '%-6s %-9s %12s %12s %10s\n' hours format packets "max RSS MB" "wall s"
for h in $hours; do
  packets=-
  for f in $formats; do
    log=$(mktemp)
    if [ "$f" = jsonl ]; then
      packets=$(/usr/bin/time -o "$log" -f '%M %e' "$cli" run "$scene" --until "${h}h" \
                  --format jsonl |
                grep -c '^{"t":[0-9.]*,"type":"packet","action":"\(sent\|retransmitted\)"' || true)
    else
      /usr/bin/time -o "$log" -f '%M %e' "$cli" run "$scene" --until "${h}h" --format "$f" \
        > /dev/null
    fi
    read -r kb wall < "$log"
    rm -f "$log"
    printf '%-6s %-9s %12s %12.1f %10s\n' "$h" "$f" "$packets" "$(echo "$kb / 1024" | bc -l)" "$wall"
  done
done
