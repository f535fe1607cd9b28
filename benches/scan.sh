#!/usr/bin/env bash
# Scan benchmark: `imagepin --check` on a synthetic 10,000-file monorepo next to
# `rg -c 'FROM|image:'` on the same tree (the physical-limit reference), peak
# memory, and a single-file invocation (the pre-commit case).
#
#   benches/scan.sh                 # generates the tree if missing, builds release
#   TREE=/tmp/mono FILES=10000 RUNS=10 benches/scan.sh
#
# Needs hyperfine, rg and GNU time (/usr/bin/time; Debian package `time`).
# Targets (issue 11): within 1.5x of rg on the tree, peak RSS at most 40 MB,
# single file at most 2 ms. The script prints the figures and PASS/MISS per
# target. Wall times on a busy machine are noise: see benches/README.md.
# Before/after and ratios under load: benches/scaling.sh (interleaved runs).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TREE=${TREE:-${TMPDIR:-/tmp}/imagepin-bench/monorepo}
FILES=${FILES:-10000}
RUNS=${RUNS:-10}
OUT=${OUT:-${TMPDIR:-/tmp}/imagepin-bench}
BIN=${BIN:-$ROOT/target/release/imagepin}

for tool in hyperfine rg /usr/bin/time python3; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
mkdir -p "$OUT"

if [[ -z ${NO_BUILD:-} ]]; then
    cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
fi
if [[ ! -d $TREE ]]; then
    python3 "$ROOT/benches/gen-monorepo.py" "$TREE" --files "$FILES"
fi
ONE=$(find "$TREE/services" -name Dockerfile -print -quit)
echo "binary: $BIN ($(stat -c %s "$BIN") bytes)"
echo "tree:   $TREE ($(find "$TREE" -type f | wc -l) files, $(find "$TREE" -type f -printf "%s\n" | awk "{s+=\$1} END {print s}") bytes)"
echo "one:    $ONE"
echo "cores:  $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"

# Sanity: what imagepin finds on the tree (exit 1 = unpinned found is expected).
set +e
"$BIN" --format json "$TREE" >"$OUT/findings.json" 2>"$OUT/stderr.txt"
code=$?
set -e
python3 - "$OUT/findings.json" "$code" <<'EOF'
import collections, json, sys
try:
    doc = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"findings: (no JSON: {e}; exit {sys.argv[2]})")
    sys.exit(0)
fs = doc.get("findings", [])
by = collections.Counter((f["kind"], f["status"]) for f in fs)
files = len({f["path"] for f in fs})
print(f"findings: {len(fs)} in {files} files, exit {sys.argv[2]}: "
      + ", ".join(f"{k}/{s} {n}" for (k, s), n in sorted(by.items())))
EOF
[[ -s $OUT/stderr.txt ]] && { echo "stderr (first lines):"; head -5 "$OUT/stderr.txt"; }

echo
echo "== wall time: tree (hyperfine, $RUNS runs, warm cache) =="
hyperfine -N --warmup 2 --runs "$RUNS" -i --style basic \
    --export-json "$OUT/tree.json" \
    "$BIN --check $TREE" \
    "rg -c 'FROM|image:' $TREE"

echo
echo "== wall time: single file (pre-commit case) =="
hyperfine -N --warmup 10 --runs $((RUNS * 10)) -i --style basic \
    --export-json "$OUT/one.json" \
    "$BIN --check $ONE"

echo
echo "== peak memory (GNU time -v, max RSS) =="
# (imagepin exits 1 when it finds unpinned references: not an error here.)
rss() { { /usr/bin/time -v "$@" 2>&1 >/dev/null || true; } | awk -F': ' '/Maximum resident/ {print $2}'; }
RSS_TREE=$(rss "$BIN" --check "$TREE")
RSS_RG=$(rss rg -c 'FROM|image:' "$TREE")
RSS_ONE=$(rss "$BIN" --check "$ONE")
echo "imagepin --check <tree>: ${RSS_TREE} KB"
echo "rg -c <tree>:            ${RSS_RG} KB"
echo "imagepin --check <one>:  ${RSS_ONE} KB"

echo
python3 - "$OUT/tree.json" "$OUT/one.json" "$RSS_TREE" <<'EOF'
import json, sys
tree = json.load(open(sys.argv[1]))["results"]
one = json.load(open(sys.argv[2]))["results"][0]
ip, rg = tree[0], tree[1]
ratio = ip["mean"] / rg["mean"]
rss_mb = int(sys.argv[3]) / 1024
def verdict(ok): return "PASS" if ok else "MISS"
print("== targets ==")
print(f"tree:   imagepin {ip['mean']*1e3:.1f} ms (min {ip['min']*1e3:.1f}) vs rg {rg['mean']*1e3:.1f} ms "
      f"(min {rg['min']*1e3:.1f}): {ratio:.2f}x (min/min {ip['min']/rg['min']:.2f}x)  target <= 1.5x: {verdict(ratio <= 1.5)}")
print(f"memory: {rss_mb:.1f} MB peak RSS  target <= 40 MB: {verdict(rss_mb <= 40)}")
print(f"single: {one['mean']*1e3:.2f} ms mean (min {one['min']*1e3:.2f}, median {one['median']*1e3:.2f})  "
      f"target <= 2 ms: {verdict(one['median'] <= 0.002)}")
EOF
