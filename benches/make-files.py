#!/usr/bin/env python3
"""Writes benchmark inputs under DIR: `mixed/` (~200 MB: ~100 MB of source-like text in 2,000
files and ~100 MB of random binary in 50 files), `one-gib.bin` (1 GiB) and `quarter-{1..4}.bin`
(4 x 256 MiB) of random bytes.

    python3 make-files.py DIR
"""
import os
import random
import sys

root = sys.argv[1]
rng = random.Random(7)
words = ["fn", "let", "mut", "self", "return", "match", "impl", "struct", "pub", "use", "crate",
         "error", "result", "value", "index", "buffer", "length", "config", "release", "version"]
os.makedirs(os.path.join(root, "mixed/src"), exist_ok=True)
os.makedirs(os.path.join(root, "mixed/assets"), exist_ok=True)
for i in range(2000):
    lines = []
    size = 0
    while size < 50_000:
        line = "    " * rng.randint(0, 3) + " ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) + ";\n"
        lines.append(line)
        size += len(line)
    with open(os.path.join(root, f"mixed/src/file{i:04}.rs"), "w") as f:
        f.writelines(lines)
for i in range(50):
    with open(os.path.join(root, f"mixed/assets/blob{i:02}.bin"), "wb") as f:
        f.write(os.urandom(2_000_000))


def random_file(path, size):
    with open(path, "wb") as f:
        chunk = os.urandom(1 << 20)
        for _ in range(size >> 20):
            f.write(chunk)


random_file(os.path.join(root, "one-gib.bin"), 1 << 30)
for i in range(1, 5):
    random_file(os.path.join(root, f"quarter-{i}.bin"), 256 << 20)
