#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The man pages say everything there is: every siplab-cli command of `siplab-cli help` and
every option of each command's --help is in siplab-cli(1), every key of serve's configuration
table (app/siplab-cli-serve-config.c) is in siplab-serve.conf(5), and each built page formats
without a troff warning (`man --warnings -l`).  TAP output; stdlib only.

Usage: test-man.py SIPLAB-CLI SOURCE-DIR [BUILT-PAGE...]"""
import os
import re
import shutil
import subprocess
import sys

cli, source = sys.argv[1], sys.argv[2]
pages = sys.argv[3:]
man_dir = os.path.join(source, "docs", "man")
results = []


def check(ok, name, detail=""):
    results.append((ok, name, detail))


def run(*args):
    return subprocess.run([cli, *args], capture_output=True, text=True, timeout=60)


with open(os.path.join(man_dir, "siplab-cli.1.scd")) as f:
    cli_page = f.read()
with open(os.path.join(man_dir, "siplab-serve.conf.5.scd")) as f:
    conf_page = f.read()

# The commands: "  NAME ..." lines of `siplab-cli help` (help prints on stdout or stderr).
help_out = run("help")
commands = sorted(set(re.findall(r"^  ([a-z][a-z-]*)\b", help_out.stdout + help_out.stderr, re.M)))
check(len(commands) >= 10, "siplab-cli help lists the commands", " ".join(commands))
for command in commands:
    check(f"*{command}*" in cli_page or f"*{command} " in cli_page,
          f"siplab-cli(1) has the command {command}")
    if command in ("help", "version"):
        continue
    out = run(command, "--help")
    for option in sorted(set(re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z-]*)", out.stdout, re.M))):
        if option in ("--help", "--help-all"):
            continue
        check(f"*{option}*" in cli_page, f"siplab-cli(1) has {command} {option}")

# The configuration keys: rows { "group", "key", "--flag", KEY_... } of config_keys[].
with open(os.path.join(source, "app", "siplab-cli-serve-config.c")) as f:
    table = re.findall(r'\{ "([a-z]+)", "([a-z-]+)", "(--[a-z-]+)", KEY_', f.read())
check(len(table) >= 15, "the configuration table is found", str(len(table)))
for group, key, flag in table:
    section = re.search(r"^# \[" + group + r"\]\n(.*?)(?=^# )", conf_page, re.M | re.S)
    check(section is not None and f"*{key}* =" in section.group(1) and f"(*{flag}*)" in
          section.group(1), f"siplab-serve.conf(5) documents [{group}] {key} ({flag})")

# The built pages format cleanly at 80 columns.
if shutil.which("man"):
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    for page in pages:
        out = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True,
                             env=env, timeout=60)
        check(out.returncode == 0 and out.stderr == "", f"man --warnings -l {os.path.basename(page)}",
              out.stderr.strip())

print(f"1..{len(results)}")
for i, (ok, name, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} {name}")
    if detail and not ok:
        for line in detail.splitlines():
            print(f"# {line}")
sys.exit(0 if all(ok for ok, _, _ in results) else 1)
