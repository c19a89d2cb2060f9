#!/usr/bin/env bash
# Issue 19, target 3: the image the action runs — its size (unpacked, and gzipped as a registry
# serves it) and the time from `docker run` to its first line of output — beside a typical
# JavaScript action's start (`node dist/index.js` of actions/checkout, as the runner starts it).
#
#   benches/start.sh      # needs root, Debian's docker.io (dockerd) and the musl target;
#                         # JS_ACTION=path/to/dist/index.js (default: a local actions/checkout)
set -euo pipefail
# Debian's docker client: it drives BuildKit in the 20.10 daemon without the buildx plugin.
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-20}
js=${JS_ACTION:-/tmp/checkout-dist/index.js}
if [ ! -f "$js" ] && [ -d /work/.mirror/actions+checkout/repo ]; then
  mkdir -p "$(dirname "$js")"
  git -C /work/.mirror/actions+checkout/repo archive HEAD dist | tar -x -C "$(dirname "$js")" --strip-components=1
fi
cargo build --release --locked --manifest-path "$root/Cargo.toml" --target x86_64-unknown-linux-musl --bin tamma-release
bin="${CARGO_TARGET_DIR:-$root/target}/x86_64-unknown-linux-musl/release/tamma-release"

work=$(mktemp -d /tmp/tamma-start.XXXXXX)
sock="unix://$work/docker.sock"
dockerd --data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/dockerd.pid" -H "$sock" \
  --storage-driver vfs --iptables=false --ip6tables=false --bridge=none > "$work/dockerd.log" 2>&1 &
trap 'kill "$(cat "$work/dockerd.pid")" 2>/dev/null; sleep 1; rm -rf "$work"' EXIT
until /usr/bin/docker -H "$sock" version > /dev/null 2>&1; do sleep 0.2; done

mkdir "$work/context" && cp "$bin" "$work/context/tamma-release"
DOCKER_BUILDKIT=1 /usr/bin/docker -H "$sock" build -q --build-arg BINARY_FROM=prebuilt -t tamma-release:bench \
  -f "$root/Dockerfile" "$work/context" > /dev/null
echo "binary: $(stat -c %s "$bin") bytes"
echo "image, unpacked (docker image inspect .Size): $(/usr/bin/docker -H "$sock" image inspect -f '{{.Size}}' tamma-release:bench) bytes"
echo "image, gzipped as pulled (docker save | gzip -6): $(/usr/bin/docker -H "$sock" save tamma-release:bench | gzip -6 | wc -c) bytes"
echo
echo "| Start, to the first line of output | Mean | Fastest | First line |"
echo "|:---|---:|---:|:---|"
python3 "$root/benches/first-line.py" "$runs" '`docker run` of the image (`--version`)' -- \
  /usr/bin/docker -H "$sock" run --rm --network none tamma-release:bench --version
python3 "$root/benches/first-line.py" "$runs" '`docker run` of the image (`action`, as the runner starts it)' -- \
  /usr/bin/docker -H "$sock" run --rm --network none -e GITHUB_ACTIONS=true tamma-release:bench
python3 "$root/benches/first-line.py" "$runs" 'the binary itself (`--version`)' -- "$bin" --version
if [ -f "$js" ]; then
  python3 "$root/benches/first-line.py" "$runs" "\`node dist/index.js\` of actions/checkout ($(stat -c %s "$js") bytes)" -- \
    env GITHUB_ACTIONS=true node "$js"
fi
