#!/usr/bin/env python3
"""Writes a git fast-import stream for a synthetic history: COMMITS commits with Conventional
Commits messages (feat/fix/perf/docs/chore, scopes, PR numbers, some breaking), a lightweight
release tag every COMMITS/TAGS commits, and a tail of unreleased commits after the last tag.

    python3 make-history.py 100000 1000 | git fast-import --quiet
"""
import random
import sys

commits, tags = int(sys.argv[1]), int(sys.argv[2])
spacing = commits // (tags + 1)
rng = random.Random(42)
kinds = ["feat", "fix", "fix", "perf", "docs", "chore", "refactor", "test"]
scopes = [None, "api", "cli", "core", "ui", "deps"]
out = sys.stdout
when = 1_600_000_000
major, minor, patch = 0, 1, 0
tagged = 0
for i in range(1, commits + 1):
    kind = rng.choice(kinds)
    scope = rng.choice(scopes)
    head = f"{kind}({scope})" if scope else kind
    bang = "!" if rng.random() < 0.002 else ""
    subject = f"{head}{bang}: change number {i} in the {rng.choice(['parser', 'server', 'client', 'docs'])} (#{i % 5000 + 1})"
    body = f"{subject}\n\nSome explanation of change {i}.\n"
    if bang:
        body += "\nBREAKING CHANGE: the old behaviour is gone\n"
    data = body.encode()
    when += 60
    out.write(f"commit refs/heads/main\nmark :{i}\n")
    out.write(f"author Dev {i % 37} <dev{i % 37}@example.com> {when} +0000\n")
    out.write(f"committer Dev {i % 37} <dev{i % 37}@example.com> {when} +0000\n")
    out.write(f"data {len(data)}\n")
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    out.write("\n")
    if i > 1:
        out.write(f"from :{i - 1}\n")
    content = f"{i}\n".encode()
    out.write(f"M 644 inline file{i % 16}.txt\ndata {len(content)}\n")
    sys.stdout.flush()
    sys.stdout.buffer.write(content)
    out.write("\n\n")
    if i % spacing == 0 and tagged < tags:
        tagged += 1
        if tagged % 50 == 0:
            major, minor, patch = major + 1, 0, 0
        elif tagged % 5 == 0:
            minor, patch = minor + 1, 0
        else:
            patch += 1
        out.write(f"reset refs/tags/v{major}.{minor}.{patch}\nfrom :{i}\n\n")
