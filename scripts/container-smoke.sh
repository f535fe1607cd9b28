#!/usr/bin/env bash
# Builds the container image from a static musl binary (the way the release
# workflow does, without compiling inside docker) and runs it on this
# repository with no network: `imagepin --check` must pass. Then it rehearses
# the release job's publishing (scripts/publish-container.sh) against a
# `docker-registry` on loopback, and has imagepin pin the published image and
# check it is an index of linux/amd64 and linux/arm64 (the arm64 entry holds
# the x86_64 binary here: only the publishing steps are rehearsed).
# Needs a running docker daemon with BuildKit, docker-registry, the
# x86_64-unknown-linux-musl Rust target and musl-gcc (Debian: musl-tools).
# Not part of `.ci/run`: a fresh CI machine has no docker daemon.
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

# The release job's publishing, against a registry on loopback.
work="$ctx/publish"
mkdir -p "$work/assets" "$work/data" "$work/project"
for arch in x86_64 aarch64; do
    tar -czf "$work/assets/imagepin-$arch-unknown-linux-musl.tar.gz" -C "$(dirname "$bin")" imagepin
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$work/data" "$port" > "$work/registry.yml"
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
registry_pid=$!
trap 'kill "$registry_pid" 2>/dev/null; rm -rf "$ctx"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
DOCKER="$docker" scripts/publish-container.sh "127.0.0.1:$port/imagepin/imagepin" "$version" "$work/assets" --insecure
printf 'FROM 127.0.0.1:%s/imagepin/imagepin:%s\n' "$port" "$version" > "$work/project/Dockerfile"
imagepin="${IMAGEPIN:-target/release/imagepin}"
[[ -x $imagepin ]] || cargo build --release --locked --bin imagepin
# --fix exits 1 when it changed a file (the pre-commit convention).
rc=0
XDG_CACHE_HOME="$work/cache" "$imagepin" --fix "$work/project/Dockerfile" || rc=$?
[[ $rc -eq 1 ]] || { echo "imagepin --fix: expected exit 1 (pinned), got $rc" >&2; exit 1; }
XDG_CACHE_HOME="$work/cache" "$imagepin" --check --verify \
    --require-platforms linux/amd64,linux/arm64 "$work/project/Dockerfile"
cat "$work/project/Dockerfile"
echo "container-smoke: ok"
