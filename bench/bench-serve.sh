#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Registrations with digest authentication, measured with sipp over UDP on the loopback
# interface: `siplab-cli serve` against Kamailio 5.6 with the same security (one MD5 challenge,
# qop=auth, one-time nonces), in memory and persistent, at 1,000 and 100,000 users; and
# optionally full calls with proxy authentication and registrations over TLS/TCP (below).
#
#   bench/bench-serve.sh [BUILD_DIR]                       (default: build)
#   QUICK=1 bench/bench-serve.sh _build                    (a smoke run: 1,000 users, 1 short round)
#   REG_USERS="1000 100000" REGS=20000 ROUNDS=3 MODES="mem db" bench/bench-serve.sh _build
#   CALLS=20000 TLS=1 USERS=1000 bench/bench-serve.sh      (add the call and TLS/TCP columns)
#   SERVERS=siplab REG_USERS=100000 MODES=mem bench/bench-serve.sh _build   (serve alone: RSS)
#
# How the REGISTER figures are taken (issue 15: rounds of 1,000 registrations on a freshly
# started server measured start-up and warm-up, not capacity):
# - Each server is started once per configuration (server x MODE x number of users), pinned to
#   core 1 (taskset) with sipp on core 0.  A warm-up round registers every user once (so at
#   100,000 users there are 100,000 bindings), then ROUNDS rounds of REGS registrations (at least
#   20,000) run on the warm server, users 1..REGS again (each replaces its own binding: one sipp
#   port per server, so the Contact stays the same).
# - Each round prints completed/s (sipp's own time from its first call to its last answer), the
#   server's CPU time per registration (user+system of the server and every process it forked,
#   from /proc/PID/stat: Kamailio works in several processes), sipp's failed registrations and
#   the machine's load average.  The summary gives the median of the rounds.  sipp on one core
#   tops out near 14,000-20,000 registrations/s, so completed/s converges for any fast server:
#   CPU per registration (registrations per CPU-second) is the figure that shows capacity.
# - Persistent mode: `serve --db FILE` (every binding durable before its 200 OK; group commit)
#   against Kamailio's usrloc db_mode 1 (write-through) on SQLite, one worker process (with
#   several, SQLite writes collide and registrations fail).
# - RSS per binding (serve, in memory): the server's RSS before the warm-up and after the last
#   round once every transaction has ended (MEM_WAIT seconds: Timer J is 32 s), divided by the
#   number of bindings.
# - Users are user000001...; all share one password (Kamailio checks it with pv_www_authenticate
#   and a constant, serve finds each user in its users file).
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
ROUNDS=${ROUNDS:-3}
REG_USERS=${REG_USERS:-1000 100000}
REGS=${REGS:-20000}
MODES=${MODES:-mem db}
# The servers to measure (SERVERS=siplab: serve alone, e.g. for its RSS per binding).
SERVERS=${SERVERS:-siplab kamailio}
MEM_WAIT=${MEM_WAIT:-34}
KAM_DB_REGS=${KAM_DB_REGS:-500}
KAM_DB_LIMIT=${KAM_DB_LIMIT:-20}
SHARED_PASSWORD=siplab-bench-shared-password
RATE=${RATE:-50000}
LIMIT=${LIMIT:-200}
KAM_CHILDREN=${KAM_CHILDREN:-1}
# Kamailio's memory manager (its -x option): empty for the build's default (q_malloc), or fm or
# tlsf.  With q_malloc, Kamailio spends about half of the call column in qm_malloc (perf), and
# fm or tlsf cut its CPU time per call by a factor of 3 to 4; docs/benchmarks.md has both.
KAM_MEM=${KAM_MEM:-}
KAM_X=(); [ -n "$KAM_MEM" ] && KAM_X=(-x "$KAM_MEM")
# Full calls per round (0: no call column), sipp's call rate and calls in flight.
CALLS=${CALLS:-0}
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
TLS=${TLS:-0}
CONNECTIONS=${CONNECTIONS:-100}
STREAM_CLIENT="$PWD/bench/stream-register.py"

# A smoke run of a couple of minutes: 1,000 users, one short round, both modes.
if [ -n "${QUICK:-}" ]; then
  REG_USERS=1000; REGS=3000; ROUNDS=1; MEM_WAIT=2; KAM_DB_REGS=300
fi

command -v sipp >/dev/null || { echo "bench-serve: sipp is not installed (apt-get install sip-tester)"; exit 1; }
[ -x "$CLI" ] || { echo "bench-serve: $CLI not built (ninja -C $BUILD)"; exit 1; }

# Kamailio: the benchmark's own install step.
if ! command -v kamailio >/dev/null 2>&1 && [ -z "${NO_INSTALL:-}" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "bench-serve: installing kamailio..." >&2
  { $SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y \
      --no-install-recommends kamailio kamailio-sqlite-modules; } >/dev/null 2>&1 || echo "bench-serve: could not install kamailio" >&2
fi
KAMAILIO=$(command -v kamailio || true)
KAM_SQL=/usr/share/kamailio/db_sqlite
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

# Kamailio for the REGISTER column: $3 is mem (usrloc in memory) or db (usrloc db_mode 1,
# write-through to the SQLite file $4, whose schema is Kamailio's own).  Every user shares one
# password, so no per-user table is needed at 100,000 users; as serve does, a request without
# credentials is challenged (qop=auth, one-time nonces: a nonce is accepted once).
write_kamailio_cfg() {
  local port=$1 cfg=$2 mode=$3 db=${4:-}
  local usrloc='modparam("usrloc", "db_mode", 0)' dbmod=""
  if [ "$mode" = db ]; then
    dbmod='loadmodule "db_sqlite.so"'
    usrloc="modparam(\"usrloc\", \"db_mode\", 1)
modparam(\"usrloc\", \"db_url\", \"sqlite://$db\")"
  fi
  cat > "$cfg" <<EOF
#!KAMAILIO
# SIP Lab benchmark: registrar only, usrloc $mode, one shared password.
debug=0
log_stderror=yes
memdbg=5
memlog=5
children=$KAM_CHILDREN
tcp_children=1
disable_tcp=yes
auto_aliases=no
maxbuffer=4194304
listen=udp:127.0.0.1:$port
alias="$DOMAIN"
mpath="$KAM_MODULES/"
$dbmod
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "sl.so"
loadmodule "textops.so"
loadmodule "pv.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
$usrloc
modparam("auth", "qop", "auth")
modparam("auth", "one_time_nonce", 1)
modparam("auth", "secret", "siplab-bench-secret")

request_route {
  if (!is_method("REGISTER")) {
    sl_send_reply("405", "Method Not Allowed");
    exit;
  }
  if (\$au == \$null || !pv_www_authenticate("\$td", "$SHARED_PASSWORD", "0")) {
    www_challenge("\$td", "1");
    exit;
  }
  if (!save("location")) {
    sl_reply_error();
  }
  exit;
}
EOF
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

# The users of a REGISTER configuration of $1 users: serve's users file and sipp's injection file.
write_reg_users() {
  local n=$1
  [ -f "$WORK/reg-$n.txt" ] && return 0
  python3 - "$n" "$SHARED_PASSWORD" "$WORK/reg-$n.txt" "$WORK/reg-$n.csv" <<'PY'
import sys
n, pw = int(sys.argv[1]), sys.argv[2]
with open(sys.argv[3], "w") as users, open(sys.argv[4], "w") as csv:
    users.write("# bench users\n")
    csv.write("SEQUENTIAL\n")
    for i in range(1, n + 1):
        users.write("user%06d:%s\n" % (i, pw))
        csv.write("user%06d;[authentication username=user%06d password=%s];\n" % (i, i, pw))
PY
}

# $3 registrations by sipp from 127.0.0.1:$2 to 127.0.0.1:$1, users from $4 (in turn, again from
# the first when there are fewer); prints "COMPLETED_PER_SECOND FAILED SIPP_CPU_US_PER_REG", the
# rate timed by sipp itself (its final "Start Time" to "Current Time": sipp's own start-up is not
# counted), sipp's CPU time over its whole run (start-up included).
reg_sipp() {
  local port=$1 lport=$2 count=$3 csv=$4 log=$5 limit=${6:-$LIMIT}
  $PIN_SIPP /usr/bin/time -f "%U %S" -o "$log.time" \
    sipp -sf "$SCENARIO" -inf "$csv" -auth_uri "$DOMAIN" -key domain "$DOMAIN" \
    -key expires 3600 -m "$count" -r "$RATE" -l "$limit" -buff_size 4194304 -i 127.0.0.1 \
    -p "$lport" -nostdin -timeout 900 -timeout_error -trace_err -error_file "$log.err" \
    "127.0.0.1:$port" > "$log" 2>&1 || true
  python3 - "$log" "$count" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
# sipp's own CPU time per registration (user+system, /usr/bin/time): near 1 s per second, sipp
# and not the server limits completed/s.
try:
    sipp_cpu = "%.1f" % (sum(float(x) for x in open(sys.argv[1] + ".time").read().split()[-2:])
                         * 1e6 / int(sys.argv[2]))
except (OSError, ValueError):
    sipp_cpu = "?"
start = [float(x) for x in re.findall(r"Start Time\s*\|.*?(\d{9,}\.\d+)", text)]
now = [float(x) for x in re.findall(r"Current Time\s*\|.*?(\d{9,}\.\d+)", text)]
ok = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", text)
failed = re.findall(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", text)
if not start or not now or not ok or now[-1] <= start[-1]:
    print("0 %s %s" % (sys.argv[2], sipp_cpu))
else:
    print("%.0f %d %s" % (int(ok[-1]) / (now[-1] - start[-1]), int(failed[-1]) if failed else 0,
                          sipp_cpu))
PY
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# One REGISTER configuration: server $1 (siplab or kamailio), mode $2 (mem or db), $3 users.
# Starts the server once, registers every user (warm-up), then runs ROUNDS rounds of REGS
# registrations; each round's line goes to stdout and to $WORK/results as
# "SERVER MODE USERS ROUND COMPLETED_PER_S CPU_US_PER_REG FAILED LOAD".
bench_reg() {
  local server=$1 mode=$2 n=$3 port lport pid rss0 rss1 cpu0 cpu1 cpu rate failed load shm sipp_cpu busy
  local name="$server-$mode-$n" regs=$REGS limit=$LIMIT warm=$n
  port=$(free_port); lport=$(free_port)
  # Kamailio on SQLite waits for several fsyncs per registration (db_sqlite's defaults): with
  # LIMIT in flight sipp retransmits, the retransmitted authenticated REGISTER reuses a one-time
  # nonce, and most registrations fail with 401.  Its rounds are therefore KAM_DB_REGS with
  # KAM_DB_LIMIT in flight, and its warm-up registers at most KAM_DB_REGS users.
  if [ "$server" = kamailio ] && [ "$mode" = db ]; then
    regs=$KAM_DB_REGS; limit=$KAM_DB_LIMIT; [ "$warm" -gt "$regs" ] && warm=$regs
  fi
  write_reg_users "$n"
  if [ "$server" = siplab ]; then
    local db_args=()
    [ "$mode" = db ] && db_args=(--db "$WORK/lab-$n.sqlite")
    $PIN_SERVER "$CLI" serve --listen "udp:127.0.0.1:$port" --domain "$DOMAIN" \
      --users "$WORK/reg-$n.txt" "${db_args[@]}" --auth-limit 0 --format "$SIPLAB_FORMAT" \
      "${SHARE_ARGS[@]}" > /dev/null 2> "$WORK/$name.err" &
  else
    local db="$WORK/kamailio-$n.sqlite"
    if [ "$mode" = db ]; then
      rm -f "$db"
      cat "$KAM_SQL/standard-create.sql" "$KAM_SQL/usrloc-create.sql" | sqlite3 "$db"
    fi
    write_kamailio_cfg "$port" "$WORK/$name.cfg" "$mode" "$db"
    # usrloc keeps every binding in shared memory: 256 MB for 100,000 of them.
    shm=64; [ "$n" -gt 10000 ] && shm=256
    $PIN_SERVER "$KAMAILIO" -f "$WORK/$name.cfg" -DD -E -Y "$WORK" -P "$WORK/$name.pid" \
      -m "$shm" -M 8 "${KAM_X[@]}" > "$WORK/$name.log" 2>&1 &
  fi
  pid=$!; PIDS+=("$pid")
  if ! wait_udp_listening "$port"; then
    echo "bench-serve: $server ($mode) did not start:" >&2
    tail -5 "$WORK/$name.err" "$WORK/$name.log" 2>/dev/null >&2
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
    return 1
  fi
  rss0=$(rss_kb "$pid")
  read -r rate failed sipp_cpu <<< "$(reg_sipp "$port" "$lport" "$warm" "$WORK/reg-$n.csv" "$WORK/sipp-$name-warm.log" "$limit")"
  printf '%-8s %-3s %6d users: warm-up (%d users once) %6s reg/s, %s failed\n' \
    "$server" "$mode" "$n" "$warm" "$rate" "$failed"
  for round in $(seq 1 "$ROUNDS"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    cpu0=$(cpu_ticks "$pid")
    read -r rate failed sipp_cpu <<< "$(reg_sipp "$port" "$lport" "$regs" "$WORK/reg-$n.csv" "$WORK/sipp-$name-$round.log" "$limit")"
    cpu1=$(cpu_ticks "$pid")
    cpu=$(python3 -c "print('%.1f' % (($cpu1 - $cpu0) * 1e6 / $(getconf CLK_TCK) / $regs))")
    echo "$server $mode $n $round $rate $cpu $failed $load" >> "$WORK/results"
    # The share of its core each process was busy (completed/s x CPU per registration): well
    # under 100% for both, the round waited on neither but on the machine (load) or the disk.
    busy=$(python3 -c "s = '$sipp_cpu'; print('%.0f%% / %s' % ($rate * $cpu / 1e4, '%.0f%%' % ($rate * float(s) / 1e4) if s != '?' else '?'))")
    printf '%-8s %-3s %6d users: round %d: %6s reg/s, %6s us CPU/reg, %s failed (load %s; sipp %s us CPU/reg; busy server / sipp %s)\n' \
      "$server" "$mode" "$n" "$round" "$rate" "$cpu" "$failed" "$load" "$sipp_cpu" "$busy"
  done
  if [ "$server" = siplab ] && [ "$mode" = mem ]; then
    # Every transaction has ended MEM_WAIT seconds after the last answer (Timer J: 32 s).
    sleep "$MEM_WAIT"
    rss1=$(rss_kb "$pid")
    echo "rss $n $rss0 $rss1" >> "$WORK/results"
    printf '%-8s %-3s %6d users: RSS %d KB before, %d KB after: %s bytes per binding\n' \
      "$server" "$mode" "$n" "$rss0" "$rss1" "$(( (rss1 - rss0) * 1024 / n ))"
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
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

echo "bench-serve: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench-serve: REGISTER: users ${REG_USERS}, modes ${MODES}, warm-up + $ROUNDS rounds of $REGS, sipp -r $RATE -l $LIMIT, UDP on 127.0.0.1"
[ -n "$KAMAILIO" ] && echo "bench-serve: $("$KAMAILIO" -v | head -1 | sed 's/^version: //'), children=$KAM_CHILDREN, memory manager ${KAM_MEM:-default}"
: > "$WORK/results"
for n in $REG_USERS; do
  for mode in $MODES; do
    case " $SERVERS " in *" siplab "*) bench_reg siplab "$mode" "$n" || true ;; esac
    case " $SERVERS " in *" kamailio "*) [ -n "$KAMAILIO" ] && { bench_reg kamailio "$mode" "$n" || true; } ;; esac
  done
done
# The medians of the rounds, and the ratios the issue asks for: registrations per CPU-second
# (serve against Kamailio), --db against in memory, RSS per binding.
python3 - "$WORK/results" <<'PY'
import statistics, sys
rows, rss = {}, {}
for line in open(sys.argv[1]):
    f = line.split()
    if f[0] == "rss":
        rss[int(f[1])] = (int(f[3]) - int(f[2])) * 1024 / int(f[1])
        continue
    rows.setdefault((f[0], f[1], int(f[2])), []).append(
        (float(f[4]), float(f[5]), int(f[6]), float(f[7])))
def med(key, i):
    return statistics.median(r[i] for r in rows[key]) if key in rows else None
for (server, mode, n) in sorted(rows, key=lambda k: (k[2], k[1], k[0])):
    r = rows[(server, mode, n)]
    print("median: %-8s %-3s %6d users: %6.0f reg/s, %5.1f us CPU/reg (%6.0f reg per CPU-s), "
          "failed %d, load %.2f-%.2f" % (server, mode, n, med((server, mode, n), 0),
          med((server, mode, n), 1), 1e6 / max(med((server, mode, n), 1), 0.1),
          sum(x[2] for x in r), min(x[3] for x in r), max(x[3] for x in r)))
for n in sorted({k[2] for k in rows}):
    for mode in ("mem", "db"):
        s, k = med(("siplab", mode, n), 1), med(("kamailio", mode, n), 1)
        if s and k:
            print("ratio %-3s %6d users: serve/kamailio registrations per CPU-second %.2f, "
                  "completed/s %.2f" % (mode, n, k / s, med(("siplab", mode, n), 0)
                                        / max(med(("kamailio", mode, n), 0), 1)))
    m, d = med(("siplab", "mem", n), 0), med(("siplab", "db", n), 0)
    if m and d:
        print("ratio serve --db / in memory %6d users: %.2f (completed/s)" % (n, d / m))
    if n in rss:
        print("serve RSS per binding at %d bindings: %.0f bytes" % (n, rss[n]))
ns = sorted({k[2] for k in rows if k[:2] == ("siplab", "mem")})
if len(ns) > 1:
    print("serve in memory, completed/s at %d users / at %d users: %.2f" % (ns[-1], ns[0],
          med(("siplab", "mem", ns[-1]), 0) / med(("siplab", "mem", ns[0]), 0)))
PY

[ "$TLS" = 1 ] || [ "$CALLS" -gt 0 ] || exit 0
# The call and TLS columns: USERS users with passwords of their own, fresh servers each round.
echo "bench-serve: calls and TLS: $USERS users, $ROUNDS rounds"
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
  if [ "$TLS" = 1 ]; then
    t=failed; c=failed
    if out=$(bench_siplab_stream tls); then
      read -r t tc <<< "$out"; siplab_tls+=("$t"); siplab_tls_cpu+=("$tc"); t="$t reg/s ($tc us CPU/reg)"
    fi
    if out=$(bench_siplab_stream tcp); then
      read -r c cc <<< "$out"; siplab_tcp+=("$c"); siplab_tcp_cpu+=("$cc"); c="$c reg/s ($cc us CPU/reg)"
    fi
    printf 'round %d: TLS: siplab-cli serve %s   TCP: %s\n' "$round" "$t" "$c"
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
if [ "$TLS" = 1 ]; then
  echo "median: siplab-cli serve over TLS $(median "${siplab_tls[@]}") reg/s," \
    "$(median "${siplab_tls_cpu[@]}") us CPU/reg; over TCP $(median "${siplab_tcp[@]}") reg/s," \
    "$(median "${siplab_tcp_cpu[@]}") us CPU/reg"
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
