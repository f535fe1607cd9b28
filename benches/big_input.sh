#!/usr/bin/env bash
# Big-input benchmark (issue 8, items 14 and 15): time and peak memory of
# `imagepin --check` on single hostile-size files.
#
#   benches/big_input.sh                  # builds release, generates inputs
#   SIZES="1 10 50" NO_BUILD=1 BIN=... benches/big_input.sh
#
# Inputs (generated under $OUT, default ${TMPDIR:-/tmp}/imagepin-bench/big):
#   compose-one-line-N.yaml 40,000 references on one line (about 1 MB)
#   list-<N>mb.yaml         a Kubernetes `kind: List` of Deployments, N MB
# Prints, per input: size, references found, wall and CPU time (user +
# system; the one to compare on a shared machine), peak RSS and the RSS
# as a multiple of the file size. Targets: time linear in size, peak RSS
# within 3x the file (plus the binary's own baseline, printed as `empty`).
# Needs python3 and GNU time (/usr/bin/time; Debian package `time`).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-${TMPDIR:-/tmp}/imagepin-bench/big}
BIN=${BIN:-$ROOT/target/release/imagepin}
SIZES=${SIZES:-1 10 50}
REFS=${REFS:-40000}

for tool in /usr/bin/time python3; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
if [[ -z ${NO_BUILD:-} ]]; then
    cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
fi
mkdir -p "$OUT"

python3 - "$OUT" "$REFS" $SIZES <<'PY'
import os, sys
out, refs, sizes = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3:]]

def write(name, make):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        with open(path + ".part", "w") as f:
            make(f)
        os.rename(path + ".part", path)

def one_line(f):
    f.write("{services: {")
    f.write(", ".join(f"s{i}: {{image: img{i}:1}}" for i in range(refs)))
    f.write("}}\n")

ITEM = """- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: app-{i}
    labels: {{app: app-{i}, tier: backend}}
  spec:
    replicas: 2
    selector:
      matchLabels:
        app: app-{i}
    template:
      metadata:
        labels:
          app: app-{i}
      spec:
        initContainers:
        - name: init
          image: "registry.example.com/team/init:{i}"
        containers:
        - name: main
          image: registry.example.com/team/app-{i}:1.2.3
          args: ["--port", "8080", "--verbose"]
          ports:
          - containerPort: 8080
          env:
          - name: MODE
            value: production
          resources:
            limits: {{cpu: 500m, memory: 256Mi}}
"""

def k8s_list(mb):
    def make(f):
        f.write("apiVersion: v1\nkind: List\nitems:\n")
        size, i = 0, 0
        while size < mb * 1024 * 1024:
            item = ITEM.format(i=i)
            f.write(item)
            size += len(item)
            i += 1
    return make

write("empty.Dockerfile", lambda f: f.write("FROM scratch\n"))
write(f"compose-one-line-{refs}.yaml", one_line)
for mb in sizes:
    write(f"list-{mb}mb.yaml", k8s_list(mb))
PY

echo "binary: $BIN"
echo "cores:  $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %10s %8s %8s %8s %10s %8s\n' input bytes refs wall_s cpu_s peak_kb rss/size
for f in "$OUT/empty.Dockerfile" "$OUT/compose-one-line-$REFS.yaml" $(for mb in $SIZES; do echo "$OUT/list-${mb}mb.yaml"; done); do
    bytes=$(stat -c %s "$f")
    set +e
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" "$BIN" --check --format json "$f" >"$OUT/out.json" 2>"$OUT/err.txt"
    rc=$?
    set -e
    if [[ $rc -gt 1 ]]; then
        echo "$(basename "$f"): exit $rc" >&2
        head -5 "$OUT/err.txt" >&2
    fi
    read -r secs user sys kb < <(tail -n 1 "$OUT/time.txt")
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    refs=$(grep -o '"reference"' "$OUT/out.json" | wc -l)
    ratio=$(awk -v k="$kb" -v b="$bytes" 'BEGIN { printf "%.1f", k * 1024 / b }')
    printf '%-28s %10s %8s %8s %8s %10s %8s\n' "$(basename "$f")" "$bytes" "$refs" "$secs" "$cpu" "$kb" "$ratio"
done
