# The image the action runs: one static binary on an empty base (8.9 MB; 4.2 MB to pull).
#
# Users never build it: the tag they pin (v1) points at a commit whose action.yml runs the
# published image by digest (docker://ghcr.io/meywd/tamma-release@sha256:…), so a workflow pulls
# a few MB instead of compiling Rust. The release workflow (.github/workflows/release.yml) builds
# it from the Linux binary of the release as an OCI layout and tamma-release pushes it.
#
# Where a static x86_64-musl binary already exists (CI, tests), skip the compile stage:
#
#   docker build --build-arg BINARY_FROM=prebuilt -f Dockerfile DIR    # DIR holds `tamma-release`
#
# Stage selection through ARG needs BuildKit (the default builder since Docker 23), which also
# skips the stage that is not used.

ARG BINARY_FROM=compiled

FROM rust:1.95-alpine AS compiled
WORKDIR /src
COPY . .
# On Alpine, Rust targets musl and links statically by default.
RUN cargo build --locked --release --bin tamma-release \
 && install -D -m 0755 target/release/tamma-release /out/tamma-release

FROM scratch AS prebuilt
COPY tamma-release /out/tamma-release

# hadolint ignore=DL3006
FROM ${BINARY_FROM} AS binary

FROM scratch
COPY --from=binary /out/tamma-release /usr/local/bin/tamma-release
# tamma-release reads the repository through gitoxide, which opens a workspace owned by another
# user (the runner's, mounted at /github/workspace) with reduced trust instead of refusing it.
# For any git a build command brings along, trust the workspace as git's safe.directory does.
ENV GIT_CONFIG_COUNT=1 \
    GIT_CONFIG_KEY_0=safe.directory \
    GIT_CONFIG_VALUE_0=/github/workspace
WORKDIR /github/workspace
# Actions runs container actions as root (no USER): the workspace must stay writable.
ENTRYPOINT ["/usr/local/bin/tamma-release"]
CMD ["action"]
