#!/usr/bin/env bash
# Publishes the container image from the release's static Linux binaries:
# one image per platform from the Dockerfile's `prebuilt` stage (nothing is
# compiled or pulled, and there is no RUN step to emulate), then one
# multi-platform index per tag. The release workflow runs it after
# `docker login`; scripts/container-smoke.sh runs it against a registry on
# loopback, so the steps are exercised before a release needs them.
#
#   scripts/publish-container.sh IMAGE VERSION ASSETS [--insecure]
#
# IMAGE    where to push, e.g. ghcr.io/owner/imagepin
# VERSION  the release version (tags VERSION-amd64, VERSION-arm64, VERSION, latest)
# ASSETS   a directory holding imagepin-x86_64-unknown-linux-musl.tar.gz and
#          imagepin-aarch64-unknown-linux-musl.tar.gz (the release archives)
# --insecure  the registry speaks plain HTTP (loopback tests only)
set -euo pipefail
[[ $# -ge 3 ]] || { sed -n '2,16p' "$0" >&2; exit 2; }
image=$1 version=$2 assets=$(cd "$3" && pwd) insecure=()
[[ ${4:-} == --insecure ]] && insecure=(--insecure)
docker="${DOCKER:-docker}"
cd "$(dirname "$0")/.."

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp Dockerfile .dockerignore "$ctx/"
for pair in amd64:x86_64 arm64:aarch64; do
    platform=${pair%%:*}
    tar -xzf "$assets/imagepin-${pair#*:}-unknown-linux-musl.tar.gz" -C "$ctx" imagepin
    DOCKER_BUILDKIT=1 "$docker" build -q --platform "linux/$platform" \
        --build-arg BINARY=prebuilt --tag "$image:$version-$platform" "$ctx"
    "$docker" push -q "$image:$version-$platform"
    rm "$ctx/imagepin"
done
for tag in "$version" latest; do
    "$docker" manifest rm "$image:$tag" >/dev/null 2>&1 || true
    "$docker" manifest create "${insecure[@]}" "$image:$tag" \
        "$image:$version-amd64" "$image:$version-arm64"
    "$docker" manifest push "${insecure[@]}" "$image:$tag"
done
