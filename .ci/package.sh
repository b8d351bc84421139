#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# CI: build the Debian packages from a clean copy of the tracked files, run lintian, unpack them
# into a scratch root and run what they installed there: siplab-cli --version, lessons and check
# on the installed lessons, every man page through man --warnings, systemd-analyze verify on the
# service.  The tests themselves run in .ci/run: DEB_BUILD_OPTIONS=nocheck keeps this cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

# SIPLAB_PACKAGE_OUT=DIR keeps the packages, logs and scratch root there (a new directory).
if [ -n "${SIPLAB_PACKAGE_OUT:-}" ]; then
  work=$SIPLAB_PACKAGE_OUT; mkdir "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/siplab-package.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
mkdir "$work/siplab"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$work/siplab"

( cd "$work/siplab" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
    dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1 ) \
  || { tail -n 60 "$work/build.log"; exit 1; }
ls -l "$work"/*.deb

# Errors fail the build; warnings and info are printed for the log (debian/*.lintian-overrides
# explains the ones that are expected).
lintian --fail-on error "$work"/siplab_*.changes | tee "$work/lintian.log"
echo "lintian: $(grep -c '^E:' "$work/lintian.log" || true) errors," \
     "$(grep -c '^W:' "$work/lintian.log" || true) warnings"

root="$work/root"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$root"; done
cli="$root/usr/bin/siplab-cli"
# Away from the source tree: the installed program must find its data by itself.
( cd "$work" && env -u SIPLAB_LESSONS_DIR "$cli" --version )
# ... its own copy, not the source tree the build came from (which is still there).
( cd "$work" && env -u SIPLAB_LESSONS_DIR "$cli" lessons ) | head -n 1 \
  | grep -F "Lessons in $root/usr/share/siplab/lessons"
( cd "$work" && "$cli" check "$root"/usr/share/siplab/lessons/*.lesson )
test "$(stat -c %a "$root/etc/siplab/users")" = 640

for page in "$root"/usr/share/man/man?/*; do
  warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
  if [ -n "$warnings" ]; then echo "$page: $warnings"; exit 1; fi
done

appstreamcli validate --no-net "$root"/usr/share/metainfo/org.siplab.SipLab.metainfo.xml
desktop-file-validate "$root"/usr/share/applications/org.siplab.SipLab.desktop
# verify wants the unit's ExecStart and Documentation= to exist: a copy of the unit that runs
# the scratch root's program, the pages found through MANPATH; every other line is the same.
mkdir "$work/unit"
sed "s|/usr/bin/siplab-cli|$root/usr/bin/siplab-cli|" "$root/lib/systemd/system/siplab-serve.service" \
  >"$work/unit/siplab-serve.service"
MANPATH="$root/usr/share/man" systemd-analyze verify "$work/unit/siplab-serve.service"
systemd-analyze security --offline=yes "$root/lib/systemd/system/siplab-serve.service" | tail -n 1

echo "packages built and checked in $((SECONDS - start)) s"
