# imagepin as a container image: one static (musl) binary on `scratch`,
# running as a non-root user. The build stage's base image is pinned by the
# digest of its multi-platform index, so `docker buildx build --platform
# linux/amd64,linux/arm64 .` works and `imagepin --check` passes on this
# file (tests/packaging.rs). To move it to its tag's current digest:
# `imagepin --fix --update Dockerfile`.
#
#   docker build -t imagepin .
#   docker run --rm -v "$PWD:/src" imagepin --check
#   docker run --rm -v "$PWD:/src" --user "$(id -u):$(id -g)" imagepin --fix
#
# From a static binary built outside docker (the release workflow's, or
# `cargo build --release --target x86_64-unknown-linux-musl`), skip the
# compile: put it at ./imagepin and
#
#   DOCKER_BUILDKIT=1 docker build --build-arg BINARY=prebuilt -t imagepin .
#
# (scripts/container-smoke.sh does that and runs the image on this repository.)
# The image has no shell, so it can't be a GitLab CI job image; use
# ci/imagepin.gitlab-ci.yml for GitLab. The digest cache goes to
# $XDG_CACHE_HOME/imagepin: mount a volume there to keep it between runs.

ARG BINARY=build

FROM rust:1.88-alpine@sha256:9dfaae478ecd298b6b5a039e1f2cc4fc040fc818a2de9aa78fa714dea036574d AS build
# gcc and musl-dev for ring's C and assembly; the Rust target is musl, so the
# binary is static.
RUN apk add --no-cache gcc musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --profile dist --locked --bin imagepin \
    && cp target/dist/imagepin /imagepin \
    && /imagepin --version

FROM scratch AS prebuilt
COPY imagepin /imagepin

FROM ${BINARY} AS binary

# Nothing but the binary: TLS roots are compiled in (webpki-roots; private
# CAs come from `ca-file` in .imagepin.toml), so there is no base image to
# pull or pin.
FROM scratch
COPY --from=binary /imagepin /usr/local/bin/imagepin
USER 65532:65532
ENV XDG_CACHE_HOME=/tmp
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/imagepin"]
CMD ["--check"]
