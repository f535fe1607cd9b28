#!/usr/bin/env bash
# Scan benchmark: `imagepin --check` on a synthetic 10,000-file monorepo next to
# `rg -c 'FROM|image:'` on the same tree (the physical-limit reference), peak
# memory, and a single-file invocation (the pre-commit case).
#
#   benches/scan.sh                 # generates the tree if missing, builds release
#   TREE=/tmp/mono FILES=10000 RUNS=10 benches/scan.sh
#
# Needs hyperfine, rg and GNU time (/usr/bin/time; Debian package `time`);
# valgrind (optional) adds instruction counts of the startup cases.
# Targets (issue 11): within 1.5x of rg on the tree, peak RSS at most 40 MB,
# single file (`--check FILE`, and `--fix` with a few files) at most 2 ms,
# an empty directory at most 1 ms above `true`. The script prints the figures
# and PASS/MISS per target. Wall times on a busy machine are noise: see benches/README.md.
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

# The startup cases: an empty directory, one file (the pre-commit hook's
# `imagepin --check path/to/Dockerfile`), `--fix` with three files that are
# already pinned (nothing to resolve: no cache read, no network).
EMPTY=$OUT/empty
FIXDIR=$OUT/pinned
rm -rf "$EMPTY" "$FIXDIR"
mkdir -p "$EMPTY" "$FIXDIR/.github/workflows"
DIGEST=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
printf 'FROM alpine:3.20@%s\nRUN true\n' "$DIGEST" >"$FIXDIR/Dockerfile"
printf 'services:\n  db:\n    image: postgres:16@%s\n' "$DIGEST" >"$FIXDIR/compose.yaml"
printf 'jobs:\n  a:\n    runs-on: x\n    container: node:20@%s\n' "$DIGEST" \
    >"$FIXDIR/.github/workflows/ci.yml"
FIX="$BIN --fix $FIXDIR/Dockerfile $FIXDIR/compose.yaml $FIXDIR/.github/workflows/ci.yml"

echo
echo "== startup: empty directory, one file (pre-commit case), --fix on 3 files =="
hyperfine -N --warmup 20 --runs $((RUNS * 30)) -i --style basic \
    --export-json "$OUT/one.json" \
    "true" "$BIN --check $EMPTY" "$BIN --check $ONE" "$FIX"
if command -v valgrind >/dev/null; then
    echo
    echo "== startup: instructions (callgrind, all threads; load-independent) =="
    count() {
        { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null || true; } |
            awk '/Collected/ {print $NF}'
    }
    printf '%-40s %12s\n' "true" "$(count true)" \
        "imagepin --check <empty dir>" "$(count "$BIN" --check "$EMPTY")" \
        "imagepin --check <one Dockerfile>" "$(count "$BIN" --check "$ONE")" \
        "imagepin --fix <3 pinned files>" "$(count $FIX)"
fi

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
true, empty, one, fix = json.load(open(sys.argv[2]))["results"]
ip, rg = tree[0], tree[1]
ratio = ip["mean"] / rg["mean"]
rss_mb = int(sys.argv[3]) / 1024
def verdict(ok): return "PASS" if ok else "MISS"
print("== targets ==")
print(f"tree:   imagepin {ip['mean']*1e3:.1f} ms (min {ip['min']*1e3:.1f}) vs rg {rg['mean']*1e3:.1f} ms "
      f"(min {rg['min']*1e3:.1f}): {ratio:.2f}x (min/min {ip['min']/rg['min']:.2f}x)  target <= 1.5x: {verdict(ratio <= 1.5)}")
print(f"memory: {rss_mb:.1f} MB peak RSS  target <= 40 MB: {verdict(rss_mb <= 40)}")
def ms(r): return f"{r['median']*1e3:.2f} ms median (min {r['min']*1e3:.2f}, mean {r['mean']*1e3:.2f})"
print(f"single: {ms(one)}  target <= 2 ms: {verdict(one['median'] <= 0.002)}")
print(f"fix 3:  {ms(fix)}  target <= 2 ms: {verdict(fix['median'] <= 0.002)}")
over = empty['median'] - true['median']
print(f"empty:  {ms(empty)}; true {ms(true)}: +{over*1e3:.2f} ms  target <= +1 ms: {verdict(over <= 0.001)}")
EOF
