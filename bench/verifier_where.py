#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Where a program's verification goes: reads its verifier log (level 2, from
`verifier_stats -l PROG OBJECT`) and counts the instructions the verifier processed per
source function (inlined ones by their own name) and per source line.
Usage: verifier_where.py LOG [TOP]   (run from the repository: reads bpf/ and include/)"""
import collections
import os
import re
import sys

INSN = re.compile(r"^(\d+): \(")
GLOBAL = re.compile(r"^Validating (\w+)\(\) func#")
LINFO = re.compile(r"^; .* @ ([\w.]+):(\d+)$")
FUNC_DEF = re.compile(r"^(?:[A-Za-z_][\w ]*[\s*])?([A-Za-z_]\w*)\(")
DIRS = ("bpf", "include", "bench")


def enclosing(cache, name, line):
    """The function of file @name that line @line is in (the last definition above it)."""
    if name not in cache:
        lines = []
        for d in DIRS:
            if os.path.exists(os.path.join(d, name)):
                with open(os.path.join(d, name)) as f:
                    lines = f.read().split("\n")
                break
        cache[name] = lines
    lines = cache[name]
    for i in range(min(line, len(lines)) - 1, -1, -1):
        m = FUNC_DEF.match(lines[i])
        if m and not lines[i].startswith(("#", "struct", "static const")):
            return m.group(1)
        if lines[i].startswith("#define"):
            return lines[i].split()[1].split("(")[0]
    return "?"


def main():
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    where = {}  # insn index -> "file:line", as first shown
    count = collections.Counter()
    per_section, section = collections.Counter(), "the program's own body"
    pending = None
    with open(sys.argv[1], errors="replace") as f:
        for ln in f:
            m = LINFO.match(ln)
            if m:
                pending = (m.group(1), int(m.group(2)))
                continue
            m = GLOBAL.match(ln)
            if m:
                section = "global " + m.group(1)
                continue
            m = INSN.match(ln)
            if m:
                i = int(m.group(1))
                count[i] += 1
                per_section[section] += 1
                if pending and i not in where:
                    where[i] = pending
                pending = None
    # an instruction shown without a line of its own is on the line of the one before
    last, cache = ("?", 0), {}
    per_line, per_func = collections.Counter(), collections.Counter()
    for i in sorted(count):
        last = where.get(i, last)
        per_line[last] += count[i]
        per_func[enclosing(cache, *last) if last[0] != "?" else "?"] += count[i]
    total = sum(count.values())
    print(f"{total} instructions processed")
    print("by body verified (a global function is verified once, on its own):")
    for sec, n in per_section.most_common(top):
        print(f"  {n:9d} {100 * n / total:5.1f}%  {sec}")
    print("by source function (inlined code counted where it was written):")
    for fn, n in per_func.most_common(top):
        print(f"  {n:9d} {100 * n / total:5.1f}%  {fn}")
    print("by source line:")
    for (name, line), n in per_line.most_common(top):
        print(f"  {n:9d} {100 * n / total:5.1f}%  {name}:{line}")


if __name__ == "__main__":
    main()
