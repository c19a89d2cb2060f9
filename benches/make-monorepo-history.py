#!/usr/bin/env python3
"""Writes a git fast-import stream for a synthetic monorepo: PACKAGES npm packages under
packages/pNN (each with a package.json, all of one pnpm workspace, each depending on the one
before it by workspace:*), COMMITS Conventional Commits each changing one package's file (a few
only the root README), a release tag `pNN@x.y.z` of the package just changed every
COMMITS/TAGS commits, and a tail of unreleased commits; plus the tamma-release config of
independent mode.

    python3 make-monorepo-history.py 100000 1000 20 | git fast-import --quiet
"""
import json
import random
import sys

commits, tags, packages = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
spacing = commits // (tags + 1)
rng = random.Random(7)
kinds = ["feat", "fix", "fix", "perf", "docs", "chore", "refactor", "test"]
out = sys.stdout


def blob(path, text):
    data = text.encode()
    out.write(f"M 644 inline {path}\ndata {len(data)}\n")
    out.flush()
    sys.stdout.buffer.write(data)
    out.write("\n")


def commit(mark, when, message, files, parent):
    data = message.encode()
    out.write(f"commit refs/heads/main\nmark :{mark}\n")
    out.write(f"author Dev {mark % 37} <dev{mark % 37}@example.com> {when} +0000\n")
    out.write(f"committer Dev {mark % 37} <dev{mark % 37}@example.com> {when} +0000\n")
    out.write(f"data {len(data)}\n")
    out.flush()
    sys.stdout.buffer.write(data)
    out.write("\n")
    if parent:
        out.write(f"from :{parent}\n")
    for path, text in files:
        blob(path, text)
    out.write("\n")


names = [f"p{n:02}" for n in range(packages)]
config = '[release]\nmode = "independent"\n'
files = [("pnpm-workspace.yaml", "packages:\n  - packages/*\n"), ("package.json", '{"name": "root", "private": true}\n')]
for i, name in enumerate(names):
    deps = {names[i - 1]: "workspace:*"} if i else {}
    manifest = {"name": name, "version": "1.0.0", "dependencies": deps}
    files.append((f"packages/{name}/package.json", json.dumps(manifest, indent=2) + "\n"))
    config += f'\n[[artifact]]\nkind = "npm"\npath = "packages/{name}"\n'
files.append((".github/tamma-release.toml", config))
when = 1_600_000_000
commit(1, when, "chore: the workspace\n", files, None)
for name in names:
    out.write(f"reset refs/tags/{name}@1.0.0\nfrom :1\n\n")
versions = {name: [1, 0, 0] for name in names}
tagged = 0
for i in range(2, commits + 2):
    kind = rng.choice(kinds)
    name = rng.choice(names) if rng.random() < 0.97 else None
    scope = f"({name})" if name else ""
    message = f"{kind}{scope}: change number {i} (#{i % 5000 + 1})\n\nSome explanation of change {i}.\n"
    path = f"packages/{name}/src.txt" if name else "README.md"
    when += 60
    commit(i, when, message, [(path, f"{i}\n")], i - 1)
    if name and i % spacing == 0 and tagged < tags:
        tagged += 1
        v = versions[name]
        v[:] = [v[0], v[1] + 1, 0] if kind == "feat" else [v[0], v[1], v[2] + 1]
        out.write(f"reset refs/tags/{name}@{v[0]}.{v[1]}.{v[2]}\nfrom :{i}\n\n")
