#!/usr/bin/env bash
# Builds the container image from a static musl binary (the way the release
# workflow does, without compiling inside docker) and runs it on this
# repository with no network: `imagepin --check` must pass. Needs a running
# docker daemon with BuildKit, the x86_64-unknown-linux-musl Rust target
# and musl-gcc (Debian: musl-tools). Not part of `.ci/run`: a fresh CI
# machine has no docker daemon.
set -euo pipefail
docker="${DOCKER:-docker}"
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl
export CC_x86_64_unknown_linux_musl="${CC_x86_64_unknown_linux_musl:-musl-gcc}"
cargo build --release --locked --target "$target" --bin imagepin
bin="${CARGO_TARGET_DIR:-target}/$target/release/imagepin"
file "$bin" | grep -Eq 'statically linked|static-pie linked' || { echo "$bin is not static" >&2; exit 1; }

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp Dockerfile .dockerignore "$ctx/"
cp "$bin" "$ctx/imagepin"
DOCKER_BUILDKIT=1 "$docker" build -q --build-arg BINARY=prebuilt -t imagepin:smoke "$ctx"
echo "image size: $("$docker" image inspect imagepin:smoke --format '{{.Size}}') bytes"
"$docker" run --rm --network none imagepin:smoke --version
"$docker" run --rm --network none -v "$PWD:/src:ro" imagepin:smoke --check
echo "container-smoke: ok"
