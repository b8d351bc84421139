#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Records tests/kamailio/baresip-register.pcapng: two baresip phones registering with digest to
# Kamailio (tests/kamailio/kamailio.cfg, one fixed password "alicepw") on loopback, recorded by
# dumpcap.  alice knows the password; bob does not (he is challenged again and again).
# Only the SIP port is recorded, not siptrace's HEP copies (the reader would show each message
# twice, raw and in HEP).  The file is committed; the GUI
# screenshots in docs/gui.md are taken from it (with tests/kamailio/baresip-users.txt).
# Run from anywhere; needs kamailio, baresip and dumpcap (root or the wireshark group).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$(mktemp -d)"
SIP=47260
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT

sed -e "s/@SIP_PORT@/$SIP/" -e "s/@HEP_PORT@/$((SIP + 1))/" -e "s/@HEP_KEY@//" \
    -e "s/@HEP_VERSION@/3/" -e "s/@PASSWORD@/alicepw/" "$here/kamailio.cfg" > "$dir/k.cfg"
dumpcap -q -i lo -f "udp port $SIP and not udp port $((SIP + 1))" -w "$dir/out.pcapng" 2>"$dir/dumpcap.log" &
pids+=($!)
kamailio -DD -E -f "$dir/k.cfg" -Y "$dir" -P "$dir/k.pid" >"$dir/k.log" 2>&1 &
pids+=($!)
# Kamailio forks its workers before it listens, dumpcap opens lo: give both time.
sleep 5

phone () {  # phone USER PASSWORD PORT SECONDS
  mkdir -p "$dir/$1"
  cat > "$dir/$1/config" <<CFG
sip_listen 127.0.0.1:$3
audio_player aufile,/dev/null
audio_source ausine,440
module_path /usr/lib/baresip/modules
module stdio.so
module g711.so
module ausine.so
module aufile.so
module_app account.so
module_app menu.so
CFG
  echo "<sip:$1@lab.test>;auth_pass=$2;outbound=\"sip:127.0.0.1:$SIP\";regint=3600" \
    > "$dir/$1/accounts"
  baresip -f "$dir/$1" -t "$4" </dev/null >"$dir/$1.log" 2>&1
}
# alice stays registered past the end of the recording (her un-REGISTER on quitting is not in
# it); bob, with the wrong password, tries for a second in the meantime.
phone alice alicepw $((SIP + 10)) 8 &
pids+=($!)
sleep 2
phone bob wrongpw $((SIP + 20)) 1
sleep 1
kill -INT "${pids[0]}"
wait "${pids[0]}" || true
wait "${pids[2]}" || true
cp "$dir/out.pcapng" "$here/baresip-register.pcapng"
echo "wrote $here/baresip-register.pcapng"
