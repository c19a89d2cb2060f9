#!/usr/bin/env bash
# Issue 19, target 3: what the size-optimised release profile costs the hot paths. The same source
# is built twice — with the release profile (opt-level z, fat LTO, the hot crates at 3) and with a
# speed profile (opt-level 3 everywhere, thin LTO, as before the size work) — and each hot path
# runs side by side in one hyperfine run. Also prints the size of the static (musl) binary the
# image ships. Needs the inputs of benches/package.sh and benches/history.sh (run those first).
#
#   benches/profile-cost.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
files=${BENCH_FILES:-/tmp/tamma-bench-files}
history=${BENCH_HISTORY:-/tmp/tamma-bench-history}
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
[ -d "$files/mixed" ] || { echo "run benches/package.sh first (it makes $files)" >&2; exit 2; }
[ -d "$history/.git" ] || { echo "run benches/history.sh first (it makes $history)" >&2; exit 2; }

cargo build --release --locked --manifest-path "$root/Cargo.toml" --bin tamma-release
CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=thin CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_PANIC=unwind \
  cargo build --release --locked --manifest-path "$root/Cargo.toml" --bin tamma-release \
  --target-dir "$root/target/speed-profile"
cargo build --release --locked --manifest-path "$root/Cargo.toml" --bin tamma-release \
  --target x86_64-unknown-linux-musl --target-dir "$root/target/image-build"
size="$root/target/release/tamma-release"
speed="$root/target/speed-profile/release/tamma-release"
static="$root/target/image-build/x86_64-unknown-linux-musl/release/tamma-release"
echo "static binary (the image): $(stat -c %s "$static") bytes, $(gzip -6 -c "$static" | wc -c) gzipped"

pair() { # name, arguments, directory
  (cd "$3" && hyperfine --warmup 2 --runs "${RUNS:-10}" --style basic --export-markdown "/tmp/profile-cost-$1.md" \
    -n "speed profile: $2" "$speed $2" -n "release profile: $2" "$size $2")
  cat "/tmp/profile-cost-$1.md"
}
pair checksum "checksum one-gib.bin" "$files"
pair package "package --output /tmp/profile-cost.tar.gz mixed" "$files"
pair version "version --bump auto" "$history"
pair changelog "changelog" "$history"
pair changelog-all "changelog --all" "$history"
