# imagepin as a container image: a static (musl) binary on distroless
# `static`, running as a non-root user. Every base image is pinned by the
# digest of its multi-platform index, so `docker buildx build --platform
# linux/amd64,linux/arm64 .` works and `imagepin --check` passes on this
# file (tests/packaging.rs). To move a base image to its tag's current
# digest: `imagepin --fix --update Dockerfile`.
#
#   docker build -t imagepin .
#   docker run --rm -v "$PWD:/src" -w /src imagepin --check
#   docker run --rm -v "$PWD:/src" -w /src --user "$(id -u):$(id -g)" imagepin --fix
#
# The image has no shell, so it can't be a GitLab CI job image; use
# ci/imagepin.gitlab-ci.yml for GitLab.

FROM rust:1.88-alpine@sha256:9dfaae478ecd298b6b5a039e1f2cc4fc040fc818a2de9aa78fa714dea036574d AS build
# gcc and musl-dev for ring's C and assembly; the Rust target is musl, so the
# binary is static.
RUN apk add --no-cache gcc musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin imagepin \
    && cp target/release/imagepin /imagepin \
    && /imagepin --version

FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
COPY --from=build /imagepin /usr/local/bin/imagepin
# The digest cache goes to $XDG_CACHE_HOME/imagepin; /tmp is writable by any user.
ENV XDG_CACHE_HOME=/tmp
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/imagepin"]
CMD ["--check"]
