#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Registrations per second with digest authentication, measured with sipp over UDP on the
# loopback interface: `siplab-cli serve` against Kamailio (in-memory usrloc, the same users,
# the same single MD5 challenge with qop=auth and one-time nonces), in alternating rounds so
# that drift in the machine's load hits both alike.
#
#   bench/bench-serve.sh [BUILD_DIR]         (default: build)
#   USERS=1000 ROUNDS=5 KAM_CHILDREN=1 RATE=50000 LIMIT=200 SIPLAB_FORMAT=none bench/bench-serve.sh
#
# LIMIT is sipp's number of registrations in flight.  At 100, siplab-cli serve waits on the round
# trips (server and sipp both partly idle) while Kamailio's single worker is already saturated;
# at 200 both servers are saturated and neither loses a datagram; at 400 Kamailio's receive
# buffer overflows and its rate collapses into 500 ms retransmissions.  200 is the default.
#
# sipp's socket buffers are raised from its default 64 KB (to the kernel's limit,
# net.core.rmem_max): with 100 calls in flight a fast server's answers can otherwise overflow
# sipp's receive buffer while sipp waits for the CPU, and every datagram lost there costs a
# 500 ms retransmission (seen as RcvbufErrors in /proc/net/snmp).
#
# Each round starts a fresh server, registers USERS users once (REGISTER, 401, REGISTER with
# Authorization, 200 OK) and takes sipp's own time from its first call to its last answer.  sipp itself is the same in both
# columns, so the ratio is meaningful as long as the servers, not sipp, are the bottleneck.
# siplab-cli serve is also measured with --db (every binding fsync'ed before its 200 OK);
# Kamailio has no such column because its usrloc here is memory only (db_mode 0).
#
# Kamailio is installed here if missing (its own install step, not CI's); without it, the
# script prints the SIP Lab figures alone.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${1:-build}
USERS=${USERS:-1000}
ROUNDS=${ROUNDS:-5}
RATE=${RATE:-50000}
LIMIT=${LIMIT:-200}
KAM_CHILDREN=${KAM_CHILDREN:-1}
# Kamailio logs nothing per request here (debug=0); `--format none` is the matching setting.
# SIPLAB_FORMAT=ladder measures siplab-cli serve printing a line per packet (to /dev/null).
SIPLAB_FORMAT=${SIPLAB_FORMAT:-none}
DOMAIN=lab.example
# On two or more cores the server (with all its processes) runs on core 1 and sipp on core 0,
# so that neither round depends on where the scheduler happens to put them (PIN=0: don't).
PIN_SERVER=""; PIN_SIPP=""
if [ "${PIN:-1}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  PIN_SERVER="taskset -c 1"; PIN_SIPP="taskset -c 0"
fi
CLI="$PWD/$BUILD/app/siplab-cli"
SCENARIO="$PWD/tests/sipp/register.xml"

command -v sipp >/dev/null || { echo "bench-serve: sipp is not installed (apt-get install sip-tester)"; exit 1; }
[ -x "$CLI" ] || { echo "bench-serve: $CLI not built (ninja -C $BUILD)"; exit 1; }

# Kamailio: the benchmark's own install step.
if ! command -v kamailio >/dev/null 2>&1 && [ -z "${NO_INSTALL:-}" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "bench-serve: installing kamailio..." >&2
  { $SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y \
      --no-install-recommends kamailio; } >/dev/null 2>&1 || echo "bench-serve: could not install kamailio" >&2
fi
KAMAILIO=$(command -v kamailio || true)
KAM_MODULES=$(dirname "$(find /usr/lib -path '*kamailio/modules/registrar.so' 2>/dev/null | head -1)" 2>/dev/null || true)

WORK=$(mktemp -d /tmp/siplab-bench-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The same users for both servers.
{
  echo "# bench users"
  for i in $(seq -f %04g 1 "$USERS"); do echo "user$i:pw$i"; done
} > "$WORK/users.txt"
{
  echo SEQUENTIAL
  for i in $(seq -f %04g 1 "$USERS"); do echo "user$i;[authentication username=user$i password=pw$i];"; done
} > "$WORK/users.csv"

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

write_kamailio_cfg() {
  local port=$1 cfg=$2
  {
    cat <<EOF
#!KAMAILIO
# SIP Lab benchmark: registrar only, usrloc in memory, passwords from an htable.
debug=0
log_stderror=yes
memdbg=5
memlog=5
children=$KAM_CHILDREN
tcp_children=1
disable_tcp=yes
auto_aliases=no
listen=udp:127.0.0.1:$port
alias="$DOMAIN"
mpath="$KAM_MODULES/"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "sl.so"
loadmodule "textops.so"
loadmodule "pv.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "htable.so"
modparam("usrloc", "db_mode", 0)
modparam("auth", "qop", "auth")
modparam("auth", "one_time_nonce", 1)
modparam("auth", "secret", "siplab-bench-secret")
modparam("htable", "htable", "users=>size=12;")

request_route {
  if (!is_method("REGISTER")) {
    sl_send_reply("405", "Method Not Allowed");
    exit;
  }
  if (!pv_www_authenticate("\$td", "\$sht(users=>\$au)", "0")) {
    www_challenge("\$td", "1");
    exit;
  }
  if (!save("location")) {
    sl_reply_error();
  }
  exit;
}

event_route[htable:mod-init] {
EOF
    for i in $(seq -f %04g 1 "$USERS"); do echo "  \$sht(users=>user$i) = \"pw$i\";"; done
    echo "}"
  } > "$cfg"
}

# Runs sipp against 127.0.0.1:$1; prints the registrations per second, timed by sipp itself
# (its final "Start Time" to "Current Time", so sipp's own start-up is not counted).
run_sipp() {
  local port=$1 log=$2
  if ! $PIN_SIPP sipp -sf "$SCENARIO" -inf "$WORK/users.csv" -auth_uri "$DOMAIN" -key domain "$DOMAIN" \
        -key expires 3600 -m "$USERS" -r "$RATE" -l "$LIMIT" -buff_size 1048576 -i 127.0.0.1 -p "$(free_port)" \
        -nostdin -timeout 120 -timeout_error -trace_err -error_file "$log.err" \
        "127.0.0.1:$port" > "$log" 2>&1; then
    echo "bench-serve: sipp failed against port $port (see below)" >&2
    grep -E "Successful call|Failed call" "$log" >&2 || tail -20 "$log" >&2
    # What went wrong, once per kind: "Aborting call on unexpected message ... 401", timeouts...
    grep -ohE "(unexpected message[^']*'[^ ]* [^ ]* [0-9]*|timed out|Call-Id[^,]*)" "$log.err" \
      2>/dev/null | sed 's/Call-Id.*/(call)/' | sort | uniq -c | head -5 >&2 || true
    return 1
  fi
  # Retransmissions of the authenticated REGISTER (lost datagrams cost sipp 500 ms each).
  grep -E "REGISTER ---------->" "$log" | tail -1 | awk '{print $4}' > "$log.retrans"
  python3 - "$log" "$USERS" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
start = [float(x) for x in re.findall(r"Start Time\s*\|.*?(\d{9,}\.\d+)", text)]
now = [float(x) for x in re.findall(r"Current Time\s*\|.*?(\d{9,}\.\d+)", text)]
print("%.0f" % (int(sys.argv[2]) / (now[-1] - start[-1])))
PY
}

wait_udp_listening() {
  local port=$1
  for _ in $(seq 1 100); do
    if ss -Hlun "sport = :$port" 2>/dev/null | grep -q .; then return 0; fi
    sleep 0.05
  done
  return 1
}

bench_siplab() {
  local db_args=() port pid rate
  [ "$1" = db ] && db_args=(--db "$WORK/lab-$RANDOM.sqlite")
  port=$(free_port)
  $PIN_SERVER "$CLI" serve --listen "udp:127.0.0.1:$port" --domain "$DOMAIN" --users "$WORK/users.txt" \
    "${db_args[@]}" --auth-limit 0 --format "$SIPLAB_FORMAT" > /dev/null 2> "$WORK/siplab.err" &
  pid=$!; PIDS+=("$pid")
  wait_udp_listening "$port" || { cat "$WORK/siplab.err" >&2; return 1; }
  rate=$(run_sipp "$port" "$WORK/sipp-siplab-$1.log") || rate=""
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [ -n "$rate" ] && echo "$rate"
}

bench_kamailio() {
  local port pid rate
  port=$(free_port)
  write_kamailio_cfg "$port" "$WORK/kamailio.cfg"
  $PIN_SERVER "$KAMAILIO" -f "$WORK/kamailio.cfg" -DD -E -Y "$WORK" -P "$WORK/kamailio.pid" -m 64 -M 8 \
    > "$WORK/kamailio.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  wait_udp_listening "$port" || { cat "$WORK/kamailio.log" >&2; return 1; }
  rate=$(run_sipp "$port" "$WORK/sipp-kamailio.log") || rate=""
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [ -n "$rate" ] && echo "$rate"
}

echo "bench-serve: $USERS users, $ROUNDS rounds, sipp -r $RATE -l $LIMIT, UDP on 127.0.0.1"
[ -n "$KAMAILIO" ] && echo "bench-serve: $("$KAMAILIO" -v | head -1 | sed 's/^version: //'), children=$KAM_CHILDREN, usrloc db_mode 0"
siplab=(); siplab_db=(); kam=()
# A round whose sipp reported failed registrations counts as "failed" and is left out.
for round in $(seq 1 "$ROUNDS"); do
  if r=$(bench_siplab mem); then siplab+=("$r"); else r=failed; fi
  k="-"
  if [ -n "$KAMAILIO" ]; then
    if k=$(bench_kamailio); then kam+=("$k"); else k=failed; fi
  fi
  if d=$(bench_siplab db); then siplab_db+=("$d"); else d=failed; fi
  printf 'round %d: siplab-cli serve %6s reg/s   kamailio %6s reg/s   siplab-cli serve --db %6s reg/s\n' \
    "$round" "$r" "$k" "$d"
  printf '         (retransmitted authenticated REGISTERs: siplab %s, kamailio %s, siplab --db %s)\n' \
    "$(cat "$WORK/sipp-siplab-mem.log.retrans" 2>/dev/null || echo -)" \
    "$(cat "$WORK/sipp-kamailio.log.retrans" 2>/dev/null || echo -)" \
    "$(cat "$WORK/sipp-siplab-db.log.retrans" 2>/dev/null || echo -)"
done

median() {
  [ $# -gt 0 ] || { echo 0; return; }
  printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'
}
m_siplab=$(median "${siplab[@]}")
m_db=$(median "${siplab_db[@]}")
echo "median: siplab-cli serve $m_siplab reg/s (with --db: $m_db reg/s)"
if [ ${#kam[@]} -gt 0 ] && [ "$m_siplab" != 0 ]; then
  m_kam=$(median "${kam[@]}")
  echo "median: kamailio $m_kam reg/s"
  python3 -c "print('ratio siplab/kamailio: %.2f' % ($m_siplab / $m_kam))"
fi
