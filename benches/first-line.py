#!/usr/bin/env python3
"""Time from starting a command to its first line of output (stdout and stderr together), over
RUNS runs after one warm-up: mean ± standard deviation and the fastest, then the line itself.

    python3 benches/first-line.py RUNS NAME -- COMMAND [ARGS...]
"""
import statistics
import subprocess
import sys
import time

runs, name = int(sys.argv[1]), sys.argv[2]
command = sys.argv[sys.argv.index("--") + 1:]
times, line = [], b""
for run in range(runs + 1):
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    line = child.stdout.readline()
    took = time.perf_counter() - started
    child.stdout.read()
    child.wait()
    if run > 0:
        times.append(took * 1000)
print(f"| {name} | {statistics.mean(times):.1f} ms ± {statistics.stdev(times):.1f} | {min(times):.1f} ms | "
      f"`{line.decode(errors='replace').strip()[:60]}` |")
