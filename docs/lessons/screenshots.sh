#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Renders docs/lessons/<lesson>/step-NN.png for every step of every lesson (step 00 is the
# introduction), the way a student sees it in the GUI with the answer keys given.
# Run from the source tree after a build: docs/lessons/screenshots.sh [BUILDDIR [LESSON...]]
# (only the lessons named, e.g. lessons/11-nat.lesson; all of them by default).
set -e
build=${1:-build}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- lessons/[0-9]*.lesson
# A copy, so a rebuild running meanwhile does not pull the program from under the renders.
bin=$(mktemp -d)/siplab
cp "$build/app/siplab" "$bin"
for lesson in "$@"; do
  name=$(basename "$lesson" .lesson)
  items=$(grep -c '^## \(Step\|Predict\|Choice\|Task\):' "$lesson")
  mkdir -p "docs/lessons/$name"
  rm -f "docs/lessons/$name"/step-*.png
  for step in $(seq 0 "$items"); do
    echo "$lesson $step $(printf 'docs/lessons/%s/step-%02d.png' "$name" "$step")"
  done
done | xargs -P 4 -n 3 sh -c 'xvfb-run -a -s "-screen 0 1280x800x24 -noreset" \
    env GSK_RENDERER=cairo GTK_A11Y=test "$0" --screenshot "$3" --lesson "$1" --step "$2"' \
    "$bin"
rm -r "$(dirname "$bin")"
