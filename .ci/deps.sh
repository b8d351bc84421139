#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The Debian 12 packages SIP Lab builds, runs and tests with.  Installs only what is missing.
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc libglib2.0-dev libjson-glib-dev libosip2-dev libssl-dev
      libsqlite3-dev libmimalloc-dev libgtk-4-dev xvfb xauth sip-tester baresip-core tshark python3
      libpcap-dev zlib1g-dev   # opening captures and HEP's compressed payloads (sim/sim-capture.c)
      scdoc       # the man pages (docs/man/*.scd)
      debhelper dpkg-dev lintian desktop-file-utils appstream man-db systemd   # .ci/package.sh
      openssl     # `openssl verify` and throwaway TLS certificates in the tests
      clang libclang-rt-14-dev    # the libFuzzer target (tests/fuzz): clang and its fuzzer runtime
      kamailio    # tests/test-watch.c: its siptrace (in the main package) sends HEPv3 to watch
      sngrep)     # bench/bench-capture.sh: the reference beside siplab-cli view
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
