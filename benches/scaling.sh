#!/usr/bin/env bash
# Scaling benchmark (issue 11): `imagepin --check` next to `rg -c 'FROM|image:'`
# on generated trees of 1k, 10k and 100k files, interleaved run by run so that
# both see the same load on a shared machine. Prints, per tree and tool, the
# median wall time, CPU time (user + system), peak RSS, and imagepin's ratio to
# rg (wall and CPU). With BASE=<another imagepin binary> it is measured in the
# same interleaving, for before/after figures. Single big files: big_input.sh.
#
#   benches/scaling.sh                          # builds release, generates trees
#   SIZES="1000 10000" RUNS=7 NO_BUILD=1 BASE=/tmp/imagepin-old benches/scaling.sh
#
# Trees go to $OUT/mono<N> (default ${TMPDIR:-/tmp}/imagepin-bench); the
# 100k tree is about 280 MB. Needs rg, python3 and GNU time (/usr/bin/time).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-${TMPDIR:-/tmp}/imagepin-bench}
BIN=${BIN:-$ROOT/target/release/imagepin}
BASE=${BASE:-}
SIZES=${SIZES:-1000 10000 100000}
RUNS=${RUNS:-5}

for tool in rg /usr/bin/time python3; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
if [[ -z ${NO_BUILD:-} ]]; then
    cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
fi
mkdir -p "$OUT"
echo "binary: $BIN${BASE:+ (base: $BASE)}"
echo "cores:  $(nproc); load at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# One run: prints "wall cpu peak_kb" (GNU time; imagepin exits 1 on findings).
measure() {
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" "$@" >/dev/null 2>&1 || true
    tail -n 1 "$OUT/time.txt" | awk '{ printf "%s %.3f %s\n", $1, $2 + $3, $4 }'
}

printf '%-8s %6s %-10s %9s %9s %9s %10s %10s\n' files MB tool wall_s cpu_s peak_MB "wall/rg" "cpu/rg"
for n in $SIZES; do
    tree="$OUT/mono$n"
    [[ -d $tree ]] || python3 "$ROOT/benches/gen-monorepo.py" "$tree" --files "$n" >/dev/null
    mb=$(du -sm "$tree" | cut -f1)
    # Warm the page cache once.
    rg -c 'FROM|image:' "$tree" >/dev/null || true
    : >"$OUT/runs.txt"
    for ((i = 0; i < RUNS; i++)); do
        echo "rg $(measure rg -c 'FROM|image:' "$tree")" >>"$OUT/runs.txt"
        echo "imagepin $(measure "$BIN" --check "$tree")" >>"$OUT/runs.txt"
        if [[ -n $BASE ]]; then
            echo "base $(measure "$BASE" --check "$tree")" >>"$OUT/runs.txt"
        fi
    done
    python3 - "$OUT/runs.txt" "$n" "$mb" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
med = {}
for tool in ("rg", "imagepin", "base"):
    r = [x for x in rows if x[0] == tool]
    if r:
        med[tool] = [statistics.median(float(x[i]) for x in r) for i in (1, 2, 3)]
for tool, (wall, cpu, kb) in med.items():
    rw = wall / med["rg"][0] if med["rg"][0] else float("nan")
    rc = cpu / med["rg"][1] if med["rg"][1] else float("nan")
    print(f"{sys.argv[2]:<8} {sys.argv[3]:>6} {tool:<10} {wall:9.3f} {cpu:9.3f} {kb/1024:9.1f} {rw:10.2f} {rc:10.2f}")
EOF
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg); medians of $RUNS interleaved runs"
