#!/usr/bin/env bash
# Benchmark for issue 20 (independent versions): planning a run of 20 packages and one package's
# whole changelog on a generated monorepo history of 100,000 commits and 1,000 package tags, side
# by side with `git log -- <folder>` and git-cliff's `--include-path` on the same repository.
# Results go to BENCHMARKS.md by hand (this prints hyperfine's tables).
#
#   benches/packages.sh            # needs hyperfine (apt) and git-cliff (cargo install, ~4 min)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-/tmp/tamma-bench-monorepo}
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
command -v git-cliff >/dev/null || cargo install git-cliff --locked
cargo build --release --locked --manifest-path "$root/Cargo.toml" --bin tamma-release
tamma="$root/target/release/tamma-release"

if [ ! -d "$work/.git" ]; then
  rm -rf "$work" && mkdir -p "$work"
  git -C "$work" init -q -b main
  python3 "$root/benches/make-monorepo-history.py" 100000 1000 20 | git -C "$work" fast-import --quiet
  git -C "$work" checkout -q main
fi
cd "$work"
last=$(git describe --tags --abbrev=0 --match 'p07@*')
echo "commits: $(git rev-list --count HEAD), tags: $(git tag | wc -l), p07's last tag: $last"
echo "planned: $("$tamma" plan --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["packages"]))') packages"

hyperfine --warmup 2 --runs 10 --style basic --export-markdown /tmp/bench-packages.md \
  -n 'tamma-release plan (20 packages)' "$tamma plan --json" \
  -n 'tamma-release version --package p07' "$tamma version --package p07" \
  -n 'tamma-release changelog --package p07 (since its tag)' "$tamma changelog --package p07" \
  -n 'git cliff --unreleased --include-path packages/p07/**' "git cliff --unreleased --tag-pattern 'p07@.*' --include-path 'packages/p07/**'" \
  -n 'git log -- packages/p07 (since its tag)' "git log --format=%H%x00%an%x00%ct%x00%B $last..HEAD -- packages/p07" \
  -n 'tamma-release changelog --all --package p07' "$tamma changelog --all --package p07" \
  -n 'git log -- packages/p07 (whole history)' "git log --format=%H%x00%an%x00%ct%x00%B -- packages/p07"
cat /tmp/bench-packages.md
