#!/usr/bin/env bash
# Benchmarks for issue 4: checksums against sha256sum, tar.gz against GNU tar -czf (gzip -6), and
# peak memory, on generated inputs. Prints hyperfine tables, sizes and max RSS (GNU time).
#
#   benches/package.sh        # needs hyperfine and GNU time (apt-get install hyperfine time)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/tamma-bench-files}
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
[ -x /usr/bin/time ] || apt-get install -y -qq time
cargo build --release --locked --manifest-path "$root/Cargo.toml" --bin tamma-release
tamma="$root/target/release/tamma-release"
[ -f "$work/quarter-4.bin" ] || python3 "$root/benches/make-files.py" "$work"
cd "$work"
echo "mixed: $(du -sb mixed | cut -f1) bytes in $(find mixed -type f | wc -l) files"

hyperfine --warmup 1 --runs 5 --style basic --export-markdown /tmp/bench-sha-one.md \
  -n 'tamma-release checksum (1 GiB)' "$tamma checksum one-gib.bin" \
  -n 'sha256sum (1 GiB)' 'sha256sum one-gib.bin'
hyperfine --warmup 1 --runs 5 --style basic --export-markdown /tmp/bench-sha-four.md \
  -n 'tamma-release checksum (4 x 256 MiB)' "$tamma checksum quarter-1.bin quarter-2.bin quarter-3.bin quarter-4.bin" \
  -n 'sha256sum (4 x 256 MiB)' 'sha256sum quarter-1.bin quarter-2.bin quarter-3.bin quarter-4.bin'
hyperfine --warmup 1 --runs 5 --style basic --export-markdown /tmp/bench-targz.md \
  -n 'tamma-release package (tar.gz)' "$tamma package --output /tmp/tamma-mixed.tar.gz mixed" \
  -n 'tar -czf (gzip -6)' 'tar -czf /tmp/gnu-mixed.tar.gz mixed'
echo "sizes: tamma $(stat -c %s /tmp/tamma-mixed.tar.gz), tar $(stat -c %s /tmp/gnu-mixed.tar.gz)"
for cmd in "$tamma checksum one-gib.bin" "$tamma checksum quarter-1.bin quarter-2.bin quarter-3.bin quarter-4.bin" "$tamma package --output /tmp/tamma-mixed.tar.gz mixed" "$tamma package --output /tmp/tamma-big.tar.gz one-gib.bin"; do
  /usr/bin/time -f "max RSS %M KiB: $cmd" $cmd > /dev/null
done
cat /tmp/bench-sha-one.md /tmp/bench-sha-four.md /tmp/bench-targz.md
