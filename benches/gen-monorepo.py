#!/usr/bin/env python3
"""Generate a synthetic monorepo for the scan benchmark (benches/scan.sh).

    python3 benches/gen-monorepo.py OUT_DIR [--files 10000] [--seed 1]

Deterministic for a given seed. The tree looks like a large product monorepo:
services/<name>/ with a Dockerfile (multi-stage, ARGs, `# syntax=`, heredocs,
continuations), often a compose file, Kubernetes manifests (multi-document:
Deployment + Service + ConfigMap, CronJobs), a devcontainer, and source files;
a root .github/workflows/ with many workflows, composite/docker actions, GitLab
CI includes under ci/, and plenty of files no scanner reads (code, docs, JSON,
plain YAML configuration that is not Kubernetes, so the Kubernetes sniff has to
look at it). Sizes follow real files: Dockerfiles 1-6 KB, compose 1-8 KB,
manifests 1-10 KB, workflows 1-8 KB.

Prints a summary of what it wrote (files per kind, total bytes).
"""

from __future__ import annotations

import argparse
import collections
import random
import shutil
from pathlib import Path

IMAGES = [
    "python:3.12-slim",
    "python:3.11-slim-bookworm",
    "node:20-alpine",
    "node:22-bookworm",
    "golang:1.22-alpine",
    "golang:1.23",
    "rust:1.80-slim",
    "alpine:3.20",
    "debian:bookworm-slim",
    "ubuntu:24.04",
    "gcr.io/distroless/static-debian12:nonroot",
    "gcr.io/distroless/base-debian12",
    "postgres:16",
    "postgres:16-alpine",
    "redis:7-alpine",
    "nginx:1.27",
    "mysql:8.4",
    "mongo:7",
    "rabbitmq:3-management",
    "ghcr.io/acme/base-image:2.4.1",
    "ghcr.io/acme/toolbox:latest",
    "registry.gitlab.com/acme/ci-images/builder:1.9",
    "mcr.microsoft.com/dotnet/aspnet:8.0",
    "mcr.microsoft.com/dotnet/sdk:8.0",
    "quay.io/prometheus/node-exporter:v1.8.1",
    "docker.io/library/busybox:1.36",
    "localhost:5000/acme/dev:latest",
    "eclipse-temurin:21-jre",
    "maven:3.9-eclipse-temurin-21",
    "openjdk",
]
HEX = "0123456789abcdef"


def digest(rng: random.Random) -> str:
    return "sha256:" + "".join(rng.choice(HEX) for _ in range(64))


def image(rng: random.Random, pinned_ratio: float = 0.25) -> str:
    img = rng.choice(IMAGES)
    if rng.random() < pinned_ratio:
        return f"{img}@{digest(rng)}"
    return img


def words(rng: random.Random, n: int) -> str:
    vocab = (
        "the service handles requests for orders payments users cache queue worker "
        "config metrics tracing build deploy release staging production region "
        "timeout retry backoff limit memory cpu replica image tag digest pin"
    ).split()
    return " ".join(rng.choice(vocab) for _ in range(n))


# ------------------------------------------------------------- file kinds


def dockerfile(rng: random.Random, svc: str) -> str:
    out = []
    if rng.random() < 0.6:
        out.append(f"# syntax={image_syntax(rng)}")
    out.append(f"# {svc}: {words(rng, 8)}")
    base = rng.choice(["python:3.12-slim", "golang:1.22-alpine", "node:20-alpine", "rust:1.80-slim"])
    out.append(f"ARG BASE_IMAGE={base}")
    out.append(f"ARG VERSION={rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 50)}")
    out.append("ARG ALPINE_VERSION=3.20")
    out.append("")
    stages = []
    for i in range(rng.randint(1, 5)):
        name = rng.choice(["deps", "build", "test", "assets", "tools", "lint"]) + str(i)
        if i == 0:
            src = "${BASE_IMAGE}"
        elif rng.random() < 0.4 and stages:
            src = rng.choice(stages)
        elif rng.random() < 0.2:
            src = "alpine:${ALPINE_VERSION}"
        else:
            src = image(rng)
        plat = "--platform=$BUILDPLATFORM " if rng.random() < 0.3 else ""
        out.append(f"FROM {plat}{src} AS {name}")
        out.append("WORKDIR /src")
        for _ in range(rng.randint(2, 8)):
            r = rng.random()
            if r < 0.3:
                out.append("RUN apt-get update \\")
                for pkg in rng.sample(["curl", "git", "make", "gcc", "ca-certificates", "tzdata", "jq"], 3):
                    out.append(f"    && apt-get install -y --no-install-recommends {pkg} \\")
                out.append("    && rm -rf /var/lib/apt/lists/*")
            elif r < 0.45:
                out.append("RUN <<EOF")
                for _ in range(rng.randint(2, 6)):
                    out.append(f"echo '{words(rng, 5)}'")
                out.append("FROM is not an instruction inside a heredoc")
                out.append("EOF")
            elif r < 0.6 and stages:
                out.append(f"COPY --from={rng.choice(stages)} /out /in")
            elif r < 0.7:
                out.append(f"RUN --mount=type=cache,target=/root/.cache --mount=from={image(rng, 0.5)},source=/x,target=/y make")
            elif r < 0.8:
                out.append(f"COPY --link --from={image(rng)} /usr/bin/tool /usr/local/bin/")
            else:
                out.append(f"RUN {words(rng, 6).replace(' ', '_')} --flag={rng.randint(0, 99)}")
        out.append("")
        stages.append(name)
    final = rng.choice(["gcr.io/distroless/static-debian12:nonroot", "scratch", "alpine:3.20", image(rng)])
    out.append(f"FROM {final}")
    out.append(f"COPY --from={stages[-1]} /out/{svc} /usr/local/bin/{svc}")
    out.append("USER 65532:65532")
    out.append(f'ENTRYPOINT ["/usr/local/bin/{svc}"]')
    return "\n".join(out) + "\n"


def image_syntax(rng: random.Random) -> str:
    s = "docker/dockerfile:1" + rng.choice(["", ".7", ".9"])
    return f"{s}@{digest(rng)}" if rng.random() < 0.3 else s


def compose(rng: random.Random, svc: str) -> str:
    out = ["x-defaults: &defaults", "  restart: unless-stopped", "  logging:", "    driver: json-file", ""]
    out.append("services:")
    for i in range(rng.randint(3, 12)):
        name = f"{svc}-{rng.choice(['api', 'worker', 'db', 'cache', 'queue', 'web', 'proxy'])}{i}"
        out.append(f"  {name}:")
        out.append("    <<: *defaults")
        r = rng.random()
        if r < 0.2:
            out.append("    build:")
            out.append("      context: .")
            out.append(f"    image: ghcr.io/acme/{svc}:dev")
        elif r < 0.3:
            out.append(f"    image: ${{{name.upper().replace('-', '_')}_IMAGE:-{image(rng)}}}")
        elif r < 0.4:
            out.append(f'    image: "{image(rng)}"')
        else:
            out.append(f"    image: {image(rng)}")
        out.append("    environment:")
        for _ in range(rng.randint(1, 6)):
            out.append(f"      - {rng.choice(['LOG_LEVEL', 'PORT', 'DB_URL', 'CACHE'])}={rng.randint(1, 9999)}")
        out.append("    ports:")
        out.append(f'      - "{rng.randint(3000, 9000)}:{rng.randint(80, 9000)}"')
        if rng.random() < 0.5:
            out.append("    healthcheck:")
            out.append('      test: ["CMD", "curl", "-f", "http://localhost/health"]')
            out.append("      interval: 10s")
    out.append("")
    out.append("volumes:")
    out.append("  data: {}")
    return "\n".join(out) + "\n"


def k8s(rng: random.Random, svc: str) -> str:
    docs = []
    for i in range(rng.randint(1, 4)):
        kind = rng.choice(["Deployment", "Deployment", "StatefulSet", "CronJob", "Service", "ConfigMap"])
        if kind == "Service":
            docs.append(
                f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {svc}-{i}\n  labels:\n"
                f"    app: {svc}\nspec:\n  selector:\n    app: {svc}\n  ports:\n"
                f"  - port: 80\n    targetPort: {rng.randint(3000, 9000)}\n"
            )
            continue
        if kind == "ConfigMap":
            body = "\n".join(f"    {words(rng, 6)}" for _ in range(rng.randint(3, 20)))
            docs.append(
                f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {svc}-config\ndata:\n"
                f"  config.yaml: |\n    image: not-an-image:1\n{body}\n"
            )
            continue
        containers = []
        for c in range(rng.randint(1, 3)):
            env = "".join(
                f"        - name: VAR_{e}\n          value: \"{rng.randint(0, 999)}\"\n"
                for e in range(rng.randint(1, 8))
            )
            containers.append(
                f"      - name: {svc}-{c}\n        image: {image(rng, 0.4)}\n"
                f"        ports:\n        - containerPort: {rng.randint(3000, 9000)}\n"
                f"        resources:\n          limits:\n            memory: 256Mi\n            cpu: 500m\n"
                f"        env:\n{env}"
            )
        init = ""
        if rng.random() < 0.3:
            init = f"      initContainers:\n      - name: init\n        image: {image(rng)}\n        command: [\"sh\", \"-c\", \"true\"]\n"
        pod = f"      containers:\n{''.join(containers)}{init}"
        if kind == "CronJob":
            pod_ind = "\n".join("    " + line if line else line for line in pod.split("\n"))
            docs.append(
                f"apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {svc}-cron\nspec:\n"
                f"  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
                f"          restartPolicy: OnFailure\n{pod_ind}"
            )
        else:
            docs.append(
                f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {svc}\n  labels:\n    app: {svc}\n"
                f"spec:\n  replicas: {rng.randint(1, 5)}\n  selector:\n    matchLabels:\n      app: {svc}\n"
                f"  template:\n    metadata:\n      labels:\n        app: {svc}\n    spec:\n{pod}"
            )
    return "---\n".join(docs)


def workflow(rng: random.Random, name: str) -> str:
    out = [f"name: {name}", "on:", "  push:", "    branches: [main]", "  pull_request:", "", "jobs:"]
    for j in range(rng.randint(1, 6)):
        out.append(f"  job{j}:")
        out.append(f"    runs-on: {rng.choice(['ubuntu-latest', 'ubuntu-24.04', '${{ matrix.os }}'])}")
        if rng.random() < 0.4:
            out.append(f"    container: {image(rng)}")
        elif rng.random() < 0.3:
            out.append("    container:")
            out.append(f"      image: {image(rng)}")
            out.append("      options: --user root")
        if rng.random() < 0.3:
            out.append("    services:")
            out.append("      db:")
            out.append(f"        image: {image(rng)}")
            out.append("        ports: ['5432:5432']")
        out.append("    steps:")
        out.append(f"      - uses: actions/checkout@{digest(rng)[7:47]}")
        for _ in range(rng.randint(2, 10)):
            r = rng.random()
            if r < 0.15:
                out.append(f"      - uses: docker://{image(rng)}")
                out.append("        with:")
                out.append("          args: --version")
            else:
                out.append(f"      - name: {words(rng, 3)}")
                out.append("        run: |")
                for _ in range(rng.randint(1, 5)):
                    out.append(f"          echo {words(rng, 5)}")
    return "\n".join(out) + "\n"


def action(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return (
            "name: tool\ndescription: runs a tool\ninputs:\n  args:\n    description: args\n"
            f"runs:\n  using: docker\n  image: 'docker://{image(rng)}'\n"
        )
    return "name: local\ndescription: builds\nruns:\n  using: docker\n  image: Dockerfile\n"


def gitlab_ci(rng: random.Random, root: bool) -> str:
    out = []
    if root:
        out += [f"image: {image(rng)}", "include:", "  - local: ci/*.gitlab-ci.yml", ""]
        out += ["default:", f"  image: {image(rng)}", "  services:", f"    - {image(rng)}", ""]
    out += ["variables:", f"  BUILDER_IMAGE: {image(rng)}", "  GIT_DEPTH: 10", ""]
    for j in range(rng.randint(2, 12)):
        out.append(f"job-{j}:")
        out.append(f"  stage: {rng.choice(['build', 'test', 'deploy'])}")
        r = rng.random()
        if r < 0.5:
            out.append(f"  image: {image(rng)}")
        elif r < 0.7:
            out.append("  image:")
            out.append(f"    name: {image(rng)}")
            out.append('    entrypoint: [""]')
        else:
            out.append("  image: $BUILDER_IMAGE")
        if rng.random() < 0.3:
            out.append("  services:")
            out.append(f"    - name: {image(rng)}")
            out.append("      alias: db")
        out.append("  script:")
        for _ in range(rng.randint(1, 6)):
            out.append(f"    - echo {words(rng, 4)}")
    return "\n".join(out) + "\n"


def devcontainer(rng: random.Random, svc: str) -> str:
    return (
        "// Dev container for " + svc + "\n{\n"
        f'  "name": "{svc}",\n'
        f'  "image": "{image(rng)}",\n'
        '  /* features */\n  "features": {\n    "ghcr.io/devcontainers/features/common-utils:2": {},\n  },\n'
        '  "customizations": {"vscode": {"extensions": ["rust-lang.rust-analyzer",]}},\n'
        '  "postCreateCommand": "make setup",\n}\n'
    )


def source(rng: random.Random, svc: str, ext: str) -> str:
    n = rng.randint(20, 300)
    if ext == "go":
        body = "\n".join(f"\t// {words(rng, 8)}\n\tx{i} := {i}" for i in range(n // 2))
        return f"package {svc.replace('-', '')}\n\nfunc Run() {{\n{body}\n}}\n"
    if ext == "py":
        return "\n".join(f"def f{i}(x):\n    return x + {i}  # {words(rng, 5)}" for i in range(n // 2)) + "\n"
    if ext == "md":
        return f"# {svc}\n\n" + "\n\n".join(words(rng, 30) for _ in range(n // 10)) + "\n"
    if ext == "json":
        return "{\n" + ",\n".join(f'  "k{i}": "{words(rng, 3)}"' for i in range(n // 4)) + "\n}\n"
    if ext == "yaml":  # configuration YAML, not Kubernetes: the sniff must reject it
        return "\n".join(f"key{i}:\n  name: {words(rng, 2)}\n  image_size: {i}" for i in range(n // 4)) + "\n"
    return "\n".join(words(rng, 10) for _ in range(n // 5)) + "\n"


# -------------------------------------------------------------------- tree


def generate(out: Path, total: int, seed: int) -> collections.Counter:
    rng = random.Random(seed)
    files: list[tuple[str, str, str]] = []  # (path, kind, text)

    def add(path: str, kind: str, text: str) -> None:
        files.append((path, kind, text))

    n_workflows = max(1, total // 25)
    for i in range(n_workflows):
        add(f".github/workflows/wf-{i:04}.yml", "github-actions", workflow(rng, f"wf-{i}"))
    for i in range(max(1, total // 200)):
        add(f".github/actions/tool-{i:03}/action.yml", "github-actions", action(rng))
    add(".gitlab-ci.yml", "gitlab-ci", gitlab_ci(rng, True))
    for i in range(max(1, total // 100)):
        add(f"ci/part-{i:03}.gitlab-ci.yml", "gitlab-ci", gitlab_ci(rng, False))
    add("README.md", "other", source(rng, "monorepo", "md"))

    i = 0
    while len(files) < total:
        svc = f"svc-{i:04}"
        base = f"services/{svc}"
        add(f"{base}/Dockerfile", "dockerfile", dockerfile(rng, svc))
        if rng.random() < 0.3:
            add(f"{base}/Dockerfile.dev", "dockerfile", dockerfile(rng, svc))
        if rng.random() < 0.15:
            add(f"{base}/build/{svc}.Dockerfile", "dockerfile", dockerfile(rng, svc))
        if rng.random() < 0.35:
            add(f"{base}/{rng.choice(['compose.yaml', 'docker-compose.yml', 'docker-compose.prod.yml'])}",
                "compose", compose(rng, svc))
        for d in range(rng.randint(1, 3)):
            add(f"{base}/deploy/{rng.choice(['deployment', 'cronjob', 'statefulset'])}-{d}.yaml",
                "kubernetes", k8s(rng, svc))
        if rng.random() < 0.12:
            add(f"{base}/.devcontainer/devcontainer.json", "devcontainer", devcontainer(rng, svc))
        for s in range(rng.randint(1, 4)):
            ext = rng.choice(["go", "py", "md", "json", "yaml", "txt"])
            add(f"{base}/src/file{s}.{ext}", "other", source(rng, svc, ext))
        i += 1
    files = files[:total]

    if out.exists():
        shutil.rmtree(out)
    counts: collections.Counter = collections.Counter()
    for path, kind, text in files:
        p = out / path
        p.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode()
        p.write_bytes(data)
        counts[kind] += 1
        counts["bytes"] += len(data)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description="Generate a synthetic monorepo for benches/scan.sh")
    ap.add_argument("out", type=Path)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    counts = generate(args.out, args.files, args.seed)
    total = sum(v for k, v in counts.items() if k != "bytes")
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "bytes")
    print(f"{args.out}: {total} files, {counts['bytes'] / 1e6:.1f} MB ({kinds})")


if __name__ == "__main__":
    main()
