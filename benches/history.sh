#!/usr/bin/env bash
# Benchmark for issue 3: `version --bump auto` and `changelog` on a generated history of 100,000
# commits and 1,000 tags, side by side with git-cliff on the same repository. Results go to
# BENCHMARKS.md by hand (this prints hyperfine's tables).
#
#   benches/history.sh            # needs hyperfine (apt) and git-cliff (cargo install, ~4 min)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/tamma-bench-history}
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
command -v git-cliff >/dev/null || cargo install git-cliff --locked
cargo build --release --locked --manifest-path "$root/Cargo.toml" --bin tamma-release
tamma="$root/target/release/tamma-release"

if [ ! -d "$work/.git" ]; then
  rm -rf "$work" && mkdir -p "$work"
  git -C "$work" init -q -b main
  python3 "$root/benches/make-history.py" 100000 1000 | git -C "$work" fast-import --quiet
  git -C "$work" checkout -q main
fi
cd "$work"
echo "commits: $(git rev-list --count HEAD), tags: $(git tag | wc -l), last tag: $(git describe --tags --abbrev=0), unreleased: $(git rev-list --count "$(git describe --tags --abbrev=0)"..HEAD)"
echo "next version: tamma-release $("$tamma" version --bump auto), git-cliff $(git cliff --bumped-version 2>/dev/null)"

hyperfine --warmup 2 --runs 10 --style basic --export-markdown /tmp/bench-fast.md \
  -n 'tamma-release version --bump auto' "$tamma version --bump auto" \
  -n 'tamma-release changelog (last release range)' "$tamma changelog" \
  -n 'git cliff --unreleased' 'git cliff --unreleased' \
  -n 'tamma-release changelog --all (whole history)' "$tamma changelog --all"
cat /tmp/bench-fast.md
# git-cliff's bumped version and full changelog take minutes here (about 9 min for the whole
# history): one run each, only with BENCH_SLOW=1.
if [ "${BENCH_SLOW:-}" = 1 ]; then
  hyperfine --runs 1 --style basic --export-markdown /tmp/bench-slow.md \
    -n 'git cliff --bumped-version' 'git cliff --bumped-version' \
    -n 'git cliff (whole history)' 'git cliff'
  cat /tmp/bench-slow.md
fi
