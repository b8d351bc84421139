#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what a fresh Debian 12 machine lacks, builds SIP Lab and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/deps.sh
meson setup _build --wipe >/dev/null 2>&1 || meson setup _build
ninja -C _build
meson test -C _build --print-errorlogs
