#!/usr/bin/env bash
# Issue 19, target 1: tar.gz against `tar | pigz -6` and `tar -czf` (gzip -6) on the same 200 MB
# mixed tree, in one hyperfine run; sizes against gzip -6; `gzip -t` and `tar -tzf` on the result;
# the same bytes on 1 core (taskset) as on all; peak RSS (GNU time).
#
#   benches/targz.sh        # installs hyperfine, pigz and GNU time when missing (apt-get)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/tamma-bench-files}
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v pigz >/dev/null || missing+=(pigz)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; fi
cargo build --release --locked --manifest-path "$root/Cargo.toml" --bin tamma-release
tamma="$root/target/release/tamma-release"
[ -d "$work/mixed" ] || python3 "$root/benches/make-files.py" "$work"
cd "$work"
echo "mixed: $(du -sb mixed | cut -f1) bytes in $(find mixed -type f | wc -l) files, $(nproc) cores"
hyperfine --warmup 1 --runs 5 --style basic --export-markdown /tmp/bench-targz.md \
  -n 'tamma-release package (tar.gz)' "$tamma package --output /tmp/tamma-mixed.tar.gz mixed" \
  -n 'tar -cf - | pigz -6' 'tar -cf - mixed | pigz -6 > /tmp/pigz-mixed.tar.gz' \
  -n 'tar -czf (gzip -6)' 'tar -czf /tmp/gnu-mixed.tar.gz mixed'
echo "sizes: tamma $(stat -c %s /tmp/tamma-mixed.tar.gz), pigz $(stat -c %s /tmp/pigz-mixed.tar.gz), gzip -6 $(stat -c %s /tmp/gnu-mixed.tar.gz)"
gzip -t /tmp/tamma-mixed.tar.gz && echo "gzip -t: ok"
echo "tar -tzf: $(tar -tzf /tmp/tamma-mixed.tar.gz | wc -l) entries"
taskset -c 0 "$tamma" package --output /tmp/tamma-one-core.tar.gz mixed
cmp /tmp/tamma-mixed.tar.gz /tmp/tamma-one-core.tar.gz && echo "1 core and $(nproc) cores: identical bytes"
/usr/bin/time -f "max RSS %M KiB: tamma-release package mixed" "$tamma" package --output /tmp/tamma-mixed.tar.gz mixed
/usr/bin/time -f "max RSS %M KiB: tamma-release package one-gib.bin" "$tamma" package --output /tmp/tamma-big.tar.gz one-gib.bin 2>&1 || true
cat /tmp/bench-targz.md
