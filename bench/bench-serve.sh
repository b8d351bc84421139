#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Registrations per second with digest authentication, and full calls per second with proxy
# authentication, measured with sipp over UDP on the loopback interface: `siplab-cli serve`
# against Kamailio (in-memory usrloc, the same users, the same single MD5 challenge with qop=auth
# and one-time nonces), in alternating rounds so that drift in the machine's load hits both alike.
#
#   bench/bench-serve.sh [BUILD_DIR]         (default: build)
#   USERS=1000 ROUNDS=5 KAM_CHILDREN=1 RATE=50000 LIMIT=200 SIPLAB_FORMAT=none bench/bench-serve.sh
#   CALLS=20000 CALL_RATE=50000 CALL_LIMIT=200 bench/bench-serve.sh     (CALLS=0: REGISTER only)
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
# The call column: a sipp UAS registers as user "callee" (tests/sipp/register.xml, sent from the
# port it then answers on) and answers every INVITE (tests/sipp/uas.xml); a second sipp sends
# CALLS calls from the USERS users to sip:callee@DOMAIN (bench/sipp/uac-call-auth.xml): INVITE,
# 407 (if the server challenges), ACK, INVITE with Proxy-Authorization, 100/180, 200, ACK, BYE,
# 200.  Both servers record-route, so the ACK and the BYE pass through them.  Kamailio runs the
# logic of its default kamailio.cfg with WITH_AUTH (see write_kamailio_call_cfg); the 407 is
# optional in the scenario, and each round says how many calls each server challenged.  Both
# sipp instances share core 0, so the figure is also printed as the server's CPU time per call
# (user+system of all its processes, from /proc), which does not depend on whether sipp kept up.
#
# The TLS column: the same USERS register over TLS, CONNECTIONS (default 100) persistent
# connections opened and handshaken first, each carrying one registration at a time
# (bench/stream-register.py: sipp as packaged has no TLS), beside the same client over TCP.  The
# client is Python and may be the bottleneck, so each of these cells also gives the server's CPU
# time per registration, as does the UDP cell for comparison (TLS=0: no TLS column).
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
# Kamailio's memory manager (its -x option): empty for the build's default (q_malloc), or fm or
# tlsf.  With q_malloc, Kamailio spends about half of the call column in qm_malloc (perf), and
# fm or tlsf cut its CPU time per call by a factor of 3 to 4; docs/benchmarks.md has both.
KAM_MEM=${KAM_MEM:-}
KAM_X=(); [ -n "$KAM_MEM" ] && KAM_X=(-x "$KAM_MEM")
# Full calls per round (0: no call column), sipp's call rate and calls in flight.
CALLS=${CALLS:-20000}
CALL_RATE=${CALL_RATE:-$RATE}
CALL_LIMIT=${CALL_LIMIT:-200}
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
CALL_SCENARIO="$PWD/bench/sipp/uac-call-auth.xml"
UAS_SCENARIO="$PWD/tests/sipp/uas.xml"
CALLEE=callee
TLS=${TLS:-1}
CONNECTIONS=${CONNECTIONS:-100}
STREAM_CLIENT="$PWD/bench/stream-register.py"

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
  # KEEP=1 keeps sipp's logs and the Kamailio configurations for a look afterwards.
  if [ -n "${KEEP:-}" ]; then echo "bench-serve: logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# The same users for both servers.
{
  echo "# bench users"
  for i in $(seq -f %04g 1 "$USERS"); do echo "user$i:pw$i"; done
  echo "$CALLEE:${CALLEE}pw"
} > "$WORK/users.txt"
{
  echo SEQUENTIAL
  for i in $(seq -f %04g 1 "$USERS"); do echo "user$i;[authentication username=user$i password=pw$i];"; done
} > "$WORK/users.csv"
printf 'SEQUENTIAL\n%s;[authentication username=%s password=%spw];\n' "$CALLEE" "$CALLEE" "$CALLEE" \
  > "$WORK/callee.csv"

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
  # Without credentials (or for an unknown user) the password is \$null, and
  # pv_www_authenticate would log two error lines before failing: challenge those first.
  if (\$au == \$null || \$sht(users=>\$au) == \$null
      || !pv_www_authenticate("\$td", "\$sht(users=>\$au)", "0")) {
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
    write_kamailio_users
  } > "$cfg"
}

write_kamailio_users() {
  for i in $(seq -f %04g 1 "$USERS"); do echo "  \$sht(users=>user$i) = \"pw$i\";"; done
  echo "  \$sht(users=>$CALLEE) = \"${CALLEE}pw\";"
  echo "}"
}

# Kamailio for the call column: the request_route of Kamailio 5.6's default kamailio.cfg with
# WITH_AUTH, cut to what these calls exercise.  Kept: REQINIT (Max-Forwards, sanity), CANCEL and
# retransmission handling, WITHINDLG (loose_route for in-dialog requests, ACK matched to its
# transaction), AUTH (REGISTER and requests From our domain answered with a challenge, the
# authenticated user must be the From/To user, credentials consumed, no relaying for strangers),
# record_route for INVITE, REGISTRAR, LOCATION (lookup("location"), 404 otherwise) and RELAY
# (t_relay with the default branch, reply and failure routes).  The differences: passwords come
# from an htable (pv_auth_check) instead of a database (auth_check with auth_db), usrloc is in
# memory, and the optional parts are left out as in the default build (NAT, pike, IP
# authentication, PSTN, voicemail, presence, aliases, speed dial) together with accounting (acc
# logs every call, which siplab-cli serve has no counterpart for).  The auth module gets one-time
# nonces and qop=auth, as in the REGISTER column.
write_kamailio_call_cfg() {
  local port=$1 cfg=$2
  {
    cat <<EOF
#!KAMAILIO
# SIP Lab benchmark: a default-style proxy with authentication (see bench/bench-serve.sh).
# The receive buffer may grow to 4 MB, as siplab-cli serve's does: with the default 256 KB the
# first burst of calls overflows it, and every lost 180 or 200 costs a retransmission.
maxbuffer=4194304
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
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "textopsx.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "auth.so"
loadmodule "htable.so"
modparam("sanity", "autodrop", 0)
modparam("tm", "failure_reply_mode", 3)
modparam("tm", "fr_timer", 30000)
modparam("tm", "fr_inv_timer", 120000)
modparam("rr", "enable_full_lr", 0)
modparam("rr", "append_fromtag", 0)
modparam("registrar", "method_filtering", 1)
modparam("registrar", "max_expires", 3600)
modparam("registrar", "gruu_enabled", 0)
modparam("registrar", "use_path", 1)
modparam("registrar", "path_mode", 0)
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "timer_interval", 60)
modparam("usrloc", "timer_procs", 1)
modparam("usrloc", "use_domain", 0)
modparam("auth", "qop", "auth")
modparam("auth", "one_time_nonce", 1)
modparam("auth", "secret", "siplab-bench-secret")
modparam("htable", "htable", "users=>size=12;")

request_route {
  route(REQINIT);
  if (is_method("CANCEL")) {
    if (t_check_trans()) {
      route(RELAY);
    }
    exit;
  }
  if (!is_method("ACK")) {
    if (t_precheck_trans()) {
      t_check_trans();
      exit;
    }
    t_check_trans();
  }
  route(WITHINDLG);
  route(AUTH);
  remove_hf("Route");
  if (is_method("INVITE|SUBSCRIBE")) {
    record_route();
  }
  route(SIPOUT);
  route(REGISTRAR);
  if (\$rU == \$null) {
    sl_send_reply("484", "Address Incomplete");
    exit;
  }
  route(LOCATION);
  return;
}

route[RELAY] {
  if (is_method("INVITE|BYE|SUBSCRIBE|UPDATE")) {
    if (!t_is_set("branch_route")) t_on_branch("MANAGE_BRANCH");
  }
  if (is_method("INVITE|SUBSCRIBE|UPDATE")) {
    if (!t_is_set("onreply_route")) t_on_reply("MANAGE_REPLY");
  }
  if (is_method("INVITE")) {
    if (!t_is_set("failure_route")) t_on_failure("MANAGE_FAILURE");
  }
  if (!t_relay()) {
    sl_reply_error();
  }
  exit;
}

route[REQINIT] {
  set_reply_no_connect();
  force_rport();
  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
  if (is_method("OPTIONS") && uri == myself && \$rU == \$null) {
    sl_send_reply("200", "Keepalive");
    exit;
  }
  if (!sanity_check("17895", "7")) {
    xlog("Malformed SIP request from \$si:\$sp\n");
    exit;
  }
}

route[WITHINDLG] {
  if (!has_totag()) return;
  if (loose_route()) {
    route(RELAY);
    exit;
  }
  if (is_method("ACK")) {
    if (t_check_trans()) {
      route(RELAY);
      exit;
    } else {
      exit;
    }
  }
  sl_send_reply("404", "Not here");
  exit;
}

route[REGISTRAR] {
  if (!is_method("REGISTER")) return;
  if (!save("location")) {
    sl_reply_error();
  }
  exit;
}

route[LOCATION] {
  if (!lookup("location")) {
    \$var(rc) = \$rc;
    t_newtran();
    switch (\$var(rc)) {
      case -1:
      case -3:
        send_reply("404", "Not Found");
        exit;
      case -2:
        send_reply("405", "Method Not Allowed");
        exit;
    }
  }
  route(RELAY);
  exit;
}

# auth_check("\$fd", "subscriber", "1") of the default configuration, with the password from
# the htable: flag 0 (plain password), check 1 (the authenticated user is the From user, or
# the To user for REGISTER).  Without credentials, or for an unknown user, the password is
# \$null and pv_auth_check would log an error before failing, so those are challenged first,
# as auth_check does silently.  auth_challenge picks WWW- or Proxy-Authenticate by method.
route[AUTH] {
  if (is_method("REGISTER") || from_uri == myself) {
    if (\$au == \$null || \$sht(users=>\$au) == \$null
        || !pv_auth_check("\$fd", "\$sht(users=>\$au)", "0", "1")) {
      auth_challenge("\$fd", "1");
      exit;
    }
    if (!is_method("REGISTER|PUBLISH"))
      consume_credentials();
  }
  if (from_uri != myself && uri != myself) {
    sl_send_reply("403", "Not relaying");
    exit;
  }
  if (uri != myself) {
    sl_send_reply("403", "Not relaying");
    exit;
  }
  return;
}

route[SIPOUT] {
  if (uri == myself) return;
  append_hf("P-Hint: outbound\r\n");
  route(RELAY);
  exit;
}

branch_route[MANAGE_BRANCH] {
  xdbg("new branch [\$T_branch_idx] to \$ru\n");
  return;
}

reply_route {
  if (!sanity_check("17604", "6")) {
    xlog("Malformed SIP response from \$si:\$sp\n");
    drop;
  }
  return;
}

onreply_route[MANAGE_REPLY] {
  xdbg("incoming reply\n");
  return;
}

failure_route[MANAGE_FAILURE] {
  if (t_is_canceled()) exit;
  if (t_check_status("3[0-9][0-9]")) {
    t_reply("404", "Not found");
    exit;
  }
  if (t_check_status("401|407")) {
    t_reply("404", "Not found");
    exit;
  }
  return;
}

event_route[htable:mod-init] {
EOF
    write_kamailio_users
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

# sipp plays every phone from the one address 127.0.0.1, and a round of 20,000 calls keeps about
# 80,000 transactions alive (their 32 s timers): past half the live-transaction limits one
# address may hold only 1/16 of them (SIM_STACK_SOURCE_SHARE_DIVISOR, sim-stack.h).  16 times the
# default limits give that address the default limits themselves, as Kamailio gets 1 GB of
# shared memory for the calls.
SHARE_ARGS=(--max-transactions 2097152 --max-transaction-memory 1024)

bench_siplab() {
  local db_args=() port pid rate cpu0 cpu1
  [ "$1" = db ] && db_args=(--db "$WORK/lab-$RANDOM.sqlite")
  port=$(free_port)
  $PIN_SERVER "$CLI" serve --listen "udp:127.0.0.1:$port" --domain "$DOMAIN" --users "$WORK/users.txt" \
    "${db_args[@]}" --auth-limit 0 --format "$SIPLAB_FORMAT" "${SHARE_ARGS[@]}" \
    > /dev/null 2> "$WORK/siplab.err" &
  pid=$!; PIDS+=("$pid")
  wait_udp_listening "$port" || { cat "$WORK/siplab.err" >&2; return 1; }
  cpu0=$(cpu_ticks "$pid")
  rate=$(run_sipp "$port" "$WORK/sipp-siplab-$1.log") || rate=""
  cpu1=$(cpu_ticks "$pid")
  # The server's CPU time per registration, in microseconds (for the TLS column's comparison).
  python3 -c "print('%.0f' % (($cpu1 - $cpu0) * 1e6 / $(getconf CLK_TCK) / $USERS))" \
    > "$WORK/sipp-siplab-$1.log.cpu"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [ -n "$rate" ] && echo "$rate"
}

# USERS registrations over persistent tls or tcp ($1) connections; prints "RATE CPU_US_PER_REG".
bench_siplab_stream() {
  local kind=$1 udp tcp pid out cpu0 cpu1 tls_args=()
  udp=$(free_port); tcp=$(free_port)
  [ "$kind" = tls ] && tls_args=(--cert "$WORK/server.pem" --key "$WORK/server.key")
  $PIN_SERVER "$CLI" serve --listen "udp:127.0.0.1:$udp" --listen "$kind:127.0.0.1:$tcp" \
    "${tls_args[@]}" --domain "$DOMAIN" --users "$WORK/users.txt" --auth-limit 0 \
    --format "$SIPLAB_FORMAT" "${SHARE_ARGS[@]}" > /dev/null 2> "$WORK/siplab-$kind.err" &
  pid=$!; PIDS+=("$pid")
  wait_udp_listening "$udp" || { cat "$WORK/siplab-$kind.err" >&2; return 1; }
  cpu0=$(cpu_ticks "$pid")
  if ! out=$($PIN_SIPP python3 "$STREAM_CLIENT" "$kind" 127.0.0.1 "$tcp" "$DOMAIN" "$USERS" \
               "$CONNECTIONS" 2> "$WORK/stream-$kind.err"); then
    echo "bench-serve: the $kind client failed" >&2; tail -5 "$WORK/stream-$kind.err" >&2
    kill "$pid"; wait "$pid" 2>/dev/null || true
    return 1
  fi
  cpu1=$(cpu_ticks "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  read -r rate _ failed <<< "$out"
  [ "$failed" = 0 ] || { echo "bench-serve: $failed $kind registrations failed" >&2; return 1; }
  python3 -c "print('%s %.0f' % ('$rate', ($cpu1 - $cpu0) * 1e6 / $(getconf CLK_TCK) / $USERS))"
}

bench_kamailio() {
  local port pid rate
  port=$(free_port)
  write_kamailio_cfg "$port" "$WORK/kamailio.cfg"
  $PIN_SERVER "$KAMAILIO" -f "$WORK/kamailio.cfg" -DD -E -Y "$WORK" -P "$WORK/kamailio.pid" -m 64 -M 8 "${KAM_X[@]}" \
    > "$WORK/kamailio.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  wait_udp_listening "$port" || { cat "$WORK/kamailio.log" >&2; return 1; }
  rate=$(run_sipp "$port" "$WORK/sipp-kamailio.log") || rate=""
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [ -n "$rate" ] && echo "$rate"
}

# CPU time (user+system, in clock ticks) of process $1 and all its descendants: Kamailio's work
# is spread over the processes it forks.
cpu_ticks() {
  python3 - "$1" <<'PY'
import os, sys
stats = {}
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            text = open("/proc/%s/stat" % entry).read()
        except OSError:
            continue
        # The command name may hold spaces: the fields that follow it start after its ")".
        fields = text[text.rindex(")") + 2:].split()
        stats[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
family = {int(sys.argv[1])}
grew = True
while grew:
    grew = False
    for pid, (ppid, _) in stats.items():
        if ppid in family and pid not in family:
            family.add(pid)
            grew = True
print(sum(stats[pid][1] for pid in family if pid in stats))
PY
}

# One call round against a server on 127.0.0.1:$1 whose processes descend from pid $2: the callee
# registers from a port where its UAS then answers, and sipp sends CALLS calls through the server.
# Prints the calls per second (sipp's own time, as in run_sipp), the 407s received, the server's
# CPU time per call in microseconds (from just before the first call to the last answer) and the
# requests sipp had to retransmit.
run_calls() {
  local port=$1 server=$2 log=$3 uas_port uas cpu0 cpu1 ok=1
  uas_port=$(free_port)
  if ! $PIN_SIPP sipp -sf "$SCENARIO" -inf "$WORK/callee.csv" -auth_uri "$DOMAIN" -key domain "$DOMAIN" \
        -key expires 3600 -m 1 -i 127.0.0.1 -p "$uas_port" -nostdin -timeout 10 -timeout_error \
        "127.0.0.1:$port" > "$log.register" 2>&1; then
    echo "bench-serve: the callee could not register on port $port" >&2
    grep -E "Successful call|Failed call" "$log.register" >&2 || tail -20 "$log.register" >&2
    return 1
  fi
  $PIN_SIPP sipp -sf "$UAS_SCENARIO" -i 127.0.0.1 -p "$uas_port" -buff_size 1048576 -nostdin \
    > "$log.uas" 2>&1 &
  uas=$!
  wait_udp_listening "$uas_port" || { tail -20 "$log.uas" >&2; kill "$uas" 2>/dev/null; return 1; }
  cpu0=$(cpu_ticks "$server")
  if ! $PIN_SIPP sipp -sf "$CALL_SCENARIO" -inf "$WORK/users.csv" -s "$CALLEE" -auth_uri "$CALLEE@$DOMAIN" \
        -key domain "$DOMAIN" -m "$CALLS" -r "$CALL_RATE" -l "$CALL_LIMIT" -buff_size 1048576 \
        -i 127.0.0.1 -p "$(free_port)" -nostdin -timeout 600 -timeout_error -trace_err -error_file "$log.err" \
        "127.0.0.1:$port" > "$log" 2>&1; then
    ok=0
  fi
  cpu1=$(cpu_ticks "$server")
  kill "$uas" 2>/dev/null; wait "$uas" 2>/dev/null || true
  if [ "$ok" = 0 ]; then
    echo "bench-serve: sipp's calls failed against port $port (see below)" >&2
    grep -E "Successful call|Failed call" "$log" >&2 || tail -20 "$log" >&2
    grep -ohE "(unexpected message[^']*'[^ ]* [^ ]* [0-9]*|timed out|Call-Id[^,]*)" "$log.err" \
      2>/dev/null | sed 's/Call-Id.*/(call)/' | sort | uniq -c | head -5 >&2 || true
    return 1
  fi
  python3 - "$log" "$CALLS" "$cpu0" "$cpu1" "$(getconf CLK_TCK)" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
calls = int(sys.argv[2])
start = [float(x) for x in re.findall(r"Start Time\s*\|.*?(\d{9,}\.\d+)", text)]
now = [float(x) for x in re.findall(r"Current Time\s*\|.*?(\d{9,}\.\d+)", text)]
# The scenario's last message table: the 407 line counts the challenged INVITEs, and the
# Retrans column of the requests counts the datagrams sipp had to send again.
table = text[text.rindex("Messages  Retrans"):]
challenged = int(re.search(r"^\s*407 <-+\s+(\d+)", table, re.M).group(1))
retrans = sum(int(m) for m in re.findall(r"^\s*[A-Z]+ -+>\s+\d+\s+(\d+)", table, re.M))
cpu_us = (int(sys.argv[4]) - int(sys.argv[3])) * 1e6 / int(sys.argv[5]) / calls
print("%.0f %d %.0f %d" % (calls / (now[-1] - start[-1]), challenged, cpu_us, retrans))
PY
}

bench_siplab_calls() {
  local port pid result
  port=$(free_port)
  $PIN_SERVER "$CLI" serve --listen "udp:127.0.0.1:$port" --domain "$DOMAIN" --users "$WORK/users.txt" \
    --auth-limit 0 --format "$SIPLAB_FORMAT" "${SHARE_ARGS[@]}" > /dev/null 2> "$WORK/siplab-calls.err" &
  pid=$!
  wait_udp_listening "$port" || { cat "$WORK/siplab-calls.err" >&2; kill "$pid"; return 1; }
  result=$(run_calls "$port" "$pid" "$WORK/sipp-siplab-calls.log") || result=""
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [ -n "$result" ] && echo "$result"
}

bench_kamailio_calls() {
  local port pid result
  port=$(free_port)
  write_kamailio_call_cfg "$port" "$WORK/kamailio-calls.cfg"
  # 1 GB of shared memory: tm keeps every transaction for its wait timer (5 s) after the final
  # answer, and with q_malloc 256 MB ran out ("out of mem", 500 answers) at about 2,000 calls/s.
  $PIN_SERVER "$KAMAILIO" -f "$WORK/kamailio-calls.cfg" -DD -E -Y "$WORK" -P "$WORK/kamailio-calls.pid" \
    -m 1024 -M 8 "${KAM_X[@]}" > "$WORK/kamailio-calls.log" 2>&1 &
  pid=$!
  wait_udp_listening "$port" || { cat "$WORK/kamailio-calls.log" >&2; kill "$pid"; return 1; }
  result=$(run_calls "$port" "$pid" "$WORK/sipp-kamailio-calls.log") || result=""
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [ -n "$result" ] && echo "$result"
}

echo "bench-serve: $USERS users, $ROUNDS rounds, sipp -r $RATE -l $LIMIT, UDP on 127.0.0.1"
[ "$CALLS" -gt 0 ] && echo "bench-serve: $CALLS calls a round to $CALLEE, sipp -r $CALL_RATE -l $CALL_LIMIT"
[ -n "$KAMAILIO" ] && echo "bench-serve: $("$KAMAILIO" -v | head -1 | sed 's/^version: //'), children=$KAM_CHILDREN, usrloc db_mode 0, memory manager ${KAM_MEM:-default}"
siplab=(); siplab_db=(); kam=()
siplab_tls=(); siplab_tls_cpu=(); siplab_tcp=(); siplab_tcp_cpu=(); siplab_udp_cpu=()
if [ "$TLS" = 1 ]; then
  echo "bench-serve: TLS and TCP over $CONNECTIONS persistent connections (bench/stream-register.py)"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj "/CN=127.0.0.1" -keyout "$WORK/server.key" -out "$WORK/server.pem" 2>/dev/null
fi
siplab_calls=(); siplab_cpu=(); kam_calls=(); kam_cpu=()
# Describes one call result ("RATE 407S CPU RETRANS") for the round's line.
call_cell() {
  [ "$1" = failed ] || [ "$1" = - ] && { printf '%6s calls/s' "$1"; return; }
  set -- $1
  printf '%6s calls/s (%s us CPU/call, 407 in %s of %s calls, %s retransmissions)' "$1" "$3" "$2" "$CALLS" "$4"
}
# A round whose sipp reported failed registrations or calls counts as "failed" and is left out.
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
  [ -f "$WORK/sipp-siplab-mem.log.cpu" ] && siplab_udp_cpu+=("$(cat "$WORK/sipp-siplab-mem.log.cpu")")
  if [ "$TLS" = 1 ]; then
    t=failed; c=failed
    if out=$(bench_siplab_stream tls); then
      read -r t tc <<< "$out"; siplab_tls+=("$t"); siplab_tls_cpu+=("$tc"); t="$t reg/s ($tc us CPU/reg)"
    fi
    if out=$(bench_siplab_stream tcp); then
      read -r c cc <<< "$out"; siplab_tcp+=("$c"); siplab_tcp_cpu+=("$cc"); c="$c reg/s ($cc us CPU/reg)"
    fi
    printf '         TLS: siplab-cli serve %s   TCP: %s   (UDP: %s us CPU/reg)\n' "$t" "$c" \
      "$(cat "$WORK/sipp-siplab-mem.log.cpu" 2>/dev/null || echo -)"
  fi
  if [ "$CALLS" -gt 0 ]; then
    if c=$(bench_siplab_calls); then
      read -r rate _ cpu _ <<< "$c"; siplab_calls+=("$rate"); siplab_cpu+=("$cpu")
    else
      c=failed
    fi
    kc="-"
    if [ -n "$KAMAILIO" ]; then
      if kc=$(bench_kamailio_calls); then
        read -r rate _ cpu _ <<< "$kc"; kam_calls+=("$rate"); kam_cpu+=("$cpu")
      else
        kc=failed
      fi
    fi
    printf '         calls: siplab-cli serve %s\n' "$(call_cell "$c")"
    printf '                kamailio         %s\n' "$(call_cell "$kc")"
  fi
done

median() {
  [ $# -gt 0 ] || { echo 0; return; }
  printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'
}
m_siplab=$(median "${siplab[@]}")
m_db=$(median "${siplab_db[@]}")
echo "median: siplab-cli serve $m_siplab reg/s (with --db: $m_db reg/s)"
if [ "$TLS" = 1 ]; then
  echo "median: siplab-cli serve over TLS $(median "${siplab_tls[@]}") reg/s," \
    "$(median "${siplab_tls_cpu[@]}") us CPU/reg; over TCP $(median "${siplab_tcp[@]}") reg/s," \
    "$(median "${siplab_tcp_cpu[@]}") us CPU/reg; over UDP (sipp) $m_siplab reg/s," \
    "$(median "${siplab_udp_cpu[@]}") us CPU/reg"
fi
if [ ${#kam[@]} -gt 0 ] && [ "$m_siplab" != 0 ]; then
  m_kam=$(median "${kam[@]}")
  echo "median: kamailio $m_kam reg/s"
  python3 -c "print('ratio siplab/kamailio: %.2f' % ($m_siplab / $m_kam))"
fi
if [ "$CALLS" -gt 0 ]; then
  m_calls=$(median "${siplab_calls[@]}")
  echo "median: siplab-cli serve $m_calls calls/s ($(median "${siplab_cpu[@]}") us CPU/call)"
  if [ ${#kam_calls[@]} -gt 0 ] && [ "$m_calls" != 0 ]; then
    m_kam_calls=$(median "${kam_calls[@]}")
    echo "median: kamailio $m_kam_calls calls/s ($(median "${kam_cpu[@]}") us CPU/call)"
    python3 -c "print('ratio siplab/kamailio, calls: %.2f (kamailio CPU per call / siplab CPU per call: %.2f)' \\
      % ($m_calls / $m_kam_calls, $(median "${kam_cpu[@]}") / max($(median "${siplab_cpu[@]}"), 1)))"
  fi
fi
