#!/usr/bin/env python3
"""Score imagepin against the hand-read corpus (recall and precision for `unpinned`).

Not part of the test suite: the project's tests never read ../shared. Run it by hand:

    cargo build --release            # or a debug build; see --imagepin
    python3 scripts/corpus-score.py [CORPUS] [--declare] [--verbose]

CORPUS defaults to ../shared/corpus (relative to the current directory; when that
does not exist, the first `shared/corpus` found walking up from here).

What it does:
  1. Rebuilds the original tree from SOURCES.tsv into a temporary directory,
     `<tmp>/<owner>__<repo>/<path>` (the name rules depend on paths).
  2. Runs `imagepin --format json` with each repository directory as the current
     directory (no path arguments: imagepin walks it, choosing files by name and
     sniffing YAML for Kubernetes), and collects the JSON contract
     `{"findings": [{"path","line","column","reference","status","kind"}]}`.
  3. Parses EXPECTED.md's per-file tables and scores per its conventions:
     * a row matches a finding on file + line + reference text (one pair of
       enclosing quotes stripped from the row's text);
     * recall: required `unpinned` rows reported with status `unpinned`;
     * precision: of the `unpinned` findings, those that match an `unpinned` row
       (required or optional) or are "extra coverage" (below);
     * optional rows (neither required nor penalised): the "Indirect values"
       tables, and main-table rows whose notes say build output / debatable /
       acceptable / hard case / optional;
     * extra coverage: imagepin reports the default of a Dockerfile `ARG` at the ARG
       line and a Compose `${VAR:-default}` at the default, where EXPECTED lists
       the FROM / value row as `dynamic` with an `arg-default:` / `env-default:`
       note. A finding whose text equals such a default in the same file (and
       whose line holds that text) is counted as correct, not a false positive.
       So is a finding on such a row itself (`FROM golang:${GO_VERSION}`,
       `redis:${TAG:-7}`) whose JSON `image` (the image the defaults make up)
       equals the note's value.
  4. Prints per-kind (corpus directory) and overall numbers, the misses and the
     false positives (file:line reference, expected class, imagepin's status),
     and the confusion of expected class x imagepin status.

`--declare` additionally writes a `.imagepin.toml` per repository declaring
(`[[files]]`) the corpus files that the name rules do not select but whose
corpus directory names a supported kind (e.g. a workflow under `testdata/`),
to measure the scanners apart from file selection.

Exit status: 0 when scored (whatever the numbers), 2 on setup errors.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CLASSES = ("unpinned", "pinned", "dynamic", "stage", "scratch")
OPTIONAL_NOTE = re.compile(
    r"build output|build-output|debatable|acceptable|hard case|optional", re.I
)
DEFAULT_NOTE = re.compile(
    r"\b(arg-default|env-default):\s*([^\s;()]+)|a tool that uses it would report ([^\s;()]+)"
)
ROW = re.compile(
    r"^\| (\d+) \| `(.*)` \| (" + "|".join(CLASSES) + r") \| (.*?)\s*\|\s*$"
)
LOOKALIKE = re.compile(r"^- line (\d+): (.*)$")
# Corpus directories whose files a declared kind can cover (--declare).
DIR_KIND = {
    "dockerfile": "dockerfile",
    "compose": "compose",
    "github-actions": "github-actions",
    "kubernetes": "kubernetes",
    "gitlab-ci": "gitlab-ci",
}


@dataclass
class Row:
    file: str  # corpus file name, e.g. compose/x__y__compose.yaml
    line: int
    text: str  # quotes stripped
    raw: str  # as in EXPECTED.md
    cls: str
    notes: str
    indirect: bool

    @property
    def optional(self) -> bool:
        return self.indirect or bool(OPTIONAL_NOTE.search(self.notes))

    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Source:
    file: str
    repo: str
    path: str


@dataclass
class Expected:
    rows: list[Row] = field(default_factory=list)
    lookalikes: dict[str, dict[int, str]] = field(
        default_factory=lambda: collections.defaultdict(dict)
    )
    files: set[str] = field(default_factory=set)


def strip_quotes(s: str) -> str:
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    return s


def parse_expected(path: Path) -> Expected:
    exp = Expected()
    current = None
    section = None  # "main" | "indirect" | "lookalikes"
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("### "):
            current = line[4:].strip()
            exp.files.add(current)
            section = None
            continue
        if line.startswith("## "):
            current = None
            section = None
            continue
        if current is None:
            continue
        if line.startswith("| line | reference |"):
            section = "main"
        elif line.startswith("| line | value |"):
            section = "indirect"
        elif line.startswith("Look-alikes"):
            section = "lookalikes"
        elif line.startswith("| ") and section in ("main", "indirect"):
            if line.startswith("|---"):
                continue
            m = ROW.match(line)
            if not m:
                if re.match(r"^\| \d+ \|", line):
                    raise SystemExit(f"EXPECTED.md:{lineno}: cannot parse row: {line}")
                continue
            ln, raw, cls, notes = m.groups()
            raw = raw.replace("\\|", "|")  # Markdown tables escape pipes
            exp.rows.append(
                Row(current, int(ln), strip_quotes(raw), raw, cls, notes, section == "indirect")
            )
        elif section == "lookalikes":
            m = LOOKALIKE.match(line)
            if m:
                exp.lookalikes[current][int(m.group(1))] = m.group(2)
    return exp


def parse_sources(path: Path) -> list[Source]:
    out = []
    with path.open(encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        idx = {name: i for i, name in enumerate(header)}
        for line in f:
            if not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            out.append(Source(cols[idx["file"]], cols[idx["repo"]], cols[idx["path"]]))
    return out


def repo_dir(repo: str) -> str:
    return repo.replace("/", "__")


# --- file selection, mirroring src/files.rs (kind_by_name + Kubernetes sniff) ---


def kind_by_name(path: str) -> str | None:
    parts = path.split("/")
    name = parts[-1]
    lower = name.lower()
    is_yaml = lower.endswith((".yml", ".yaml"))
    if lower.startswith(("dockerfile", "containerfile")) or lower.endswith(
        (".dockerfile", ".containerfile")
    ):
        if not lower.endswith((".md", ".txt", ".patch")):
            return "dockerfile"
    if is_yaml and lower.startswith(("compose", "docker-compose")):
        return "compose"
    if is_yaml and (lower in (".gitlab-ci.yml", ".gitlab-ci.yaml") or lower.endswith(
        (".gitlab-ci.yml", ".gitlab-ci.yaml")
    )):
        return "gitlab-ci"
    if lower in ("action.yml", "action.yaml"):
        return "github-actions"
    parents = parts[:-1]
    if is_yaml and parents[-2:] == [".github", "workflows"]:
        return "github-actions"
    if lower == ".devcontainer.json":
        return "devcontainer"
    if lower == "devcontainer.json" and ".devcontainer" in parents[-2:]:
        return "devcontainer"
    return None


def looks_like_kubernetes(text: str) -> bool:
    api = kind = False
    for line in text.split("\n"):
        if line.startswith("---"):
            if api and kind:
                return True
            api = kind = False
        api |= line.startswith("apiVersion:")
        kind |= line.startswith("kind:")
    return api and kind


def selected_kind(src: Source, data: bytes) -> str | None:
    k = kind_by_name(src.path)
    if k:
        return k
    if src.path.lower().endswith((".yml", ".yaml")):
        if looks_like_kubernetes(data.decode("utf-8", "replace")):
            return "kubernetes"
    return None


# --- running imagepin ---


def find_corpus(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    p = Path("../shared/corpus")
    if p.is_dir():
        return p
    for d in [Path.cwd(), *Path.cwd().parents]:
        if (d / "shared" / "corpus" / "EXPECTED.md").is_file():
            return d / "shared" / "corpus"
    return p


def find_imagepin(arg: str | None) -> Path:
    if arg:
        return Path(arg).resolve()
    root = Path(__file__).resolve().parent.parent
    for profile in ("release", "debug"):
        p = root / "target" / profile / "imagepin"
        if p.is_file():
            return p
    found = shutil.which("imagepin")
    if found:
        return Path(found)
    raise SystemExit("imagepin binary not found: build it or pass --imagepin")


def build_tree(corpus: Path, sources: list[Source], tmp: Path, declare: bool):
    """Copies each corpus file to <tmp>/<owner>__<repo>/<path>. Returns
    {corpus file: (repo dir, path, selected kind)} and the declared files."""
    where = {}
    declared = collections.defaultdict(list)
    for s in sources:
        data = (corpus / s.file).read_bytes()
        dest = tmp / repo_dir(s.repo) / s.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            raise SystemExit(f"two corpus files map to {dest}")
        dest.write_bytes(data)
        kind = selected_kind(s, data)
        top = s.file.split("/", 1)[0]
        if kind is None and declare and top in DIR_KIND:
            declared[repo_dir(s.repo)].append((s.path, DIR_KIND[top]))
            kind = DIR_KIND[top] + " (declared)"
        where[s.file] = (repo_dir(s.repo), s.path, kind)
    for rdir, entries in declared.items():
        cfg = tmp / rdir / ".imagepin.toml"
        with cfg.open("w", encoding="utf-8") as f:
            f.write("# written by scripts/corpus-score.py --declare\n")
            for path, kind in entries:
                f.write(f'[[files]]\nglob = "{path}"\nkind = "{kind}"\n')
    return where, declared


def list_files(binary: Path, tmp: Path, repos: list[str]):
    """{(repo dir, path): kind} from `imagepin --list-files`, or None when this
    imagepin has no such flag (then the rules mirrored above decide)."""
    listed = {}
    for rdir in repos:
        proc = subprocess.run(
            [str(binary), "--list-files"], cwd=tmp / rdir, capture_output=True, text=True
        )
        if proc.returncode == 2 and "list-files" in proc.stderr:
            return None
        for line in proc.stdout.splitlines():
            if "\t" not in line:
                return None
            path, _, kind = line.rpartition("\t")
            path = path[2:] if path.startswith("./") else path
            listed[(rdir, path)] = kind
    return listed


def run_imagepin(binary: Path, tmp: Path, repos: list[str]):
    """Returns {(repo dir, path): [finding]} and a list of (repo, stderr, code)."""
    findings = collections.defaultdict(list)
    problems = []
    for rdir in repos:
        proc = subprocess.run(
            [str(binary), "--format", "json"],
            cwd=tmp / rdir,
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
        if proc.returncode not in (0, 1) or proc.stderr.strip():
            problems.append((rdir, proc.returncode, proc.stderr.strip()))
        out = proc.stdout.strip()
        if not out:
            continue
        try:
            doc = json.loads(out)
        except json.JSONDecodeError as e:
            problems.append((rdir, proc.returncode, f"stdout is not JSON ({e}): {out[:200]}"))
            continue
        for f in doc.get("findings", []):
            path = f["path"]
            path = path[2:] if path.startswith("./") else path
            findings[(rdir, path)].append(f)
    return findings, problems


# --- scoring ---


def score(exp: Expected, where, findings, tmp: Path):
    by_file = {}  # corpus file -> list of findings
    known = {(r, p): f for f, (r, p, _) in where.items()}
    stray = []
    for key, fs in findings.items():
        if key in known:
            by_file[known[key]] = fs
        else:
            stray.extend((key, f) for f in fs)

    res = {
        "tp": [],  # (row, finding)
        "miss": [],  # (row, status or None, hint)
        "opt_hit": [],  # optional unpinned rows reported unpinned
        "opt_miss": [],
        "extra": [],  # (corpus file, finding, note row)
        "fp": [],  # (corpus file, finding, expected class / reason)
        "confusion": collections.Counter(),
        "unfound": [],  # rows of other classes with no finding on their line+text
        "stray": stray,
    }
    for cfile in sorted(where):
        rows = [r for r in exp.rows if r.file == cfile]
        fs = list(by_file.get(cfile, []))
        used = [False] * len(fs)

        def take(row: Row):
            for i, f in enumerate(fs):
                if not used[i] and f["line"] == row.line and f["reference"] == row.text:
                    used[i] = True
                    return f
            return None

        # Match unpinned rows first so duplicates on one line pair up sensibly.
        for row in sorted(rows, key=lambda r: r.cls != "unpinned"):
            f = take(row)
            status = f["status"] if f else None
            res["confusion"][(row.cls + (" (opt)" if row.optional else ""), status or "-")] += 1
            if row.cls != "unpinned":
                if status == "unpinned" and f.get("image") in row_defaults(row):
                    # The FROM / value itself, reported as the image its
                    # defaults make up (JSON `image`): extra coverage too.
                    res["extra"].append((cfile, f, row))
                elif status == "unpinned":
                    res["fp"].append((cfile, f, f"expected {row.cls}"))
                elif status is None:
                    res["unfound"].append(row)
                continue
            if row.optional:
                (res["opt_hit"] if status == "unpinned" else res["opt_miss"]).append((row, status))
            elif status == "unpinned":
                res["tp"].append((row, f))
            else:
                res["miss"].append((row, status, near_hint(row, fs)))

        defaults = collections.defaultdict(list)
        for r in rows:
            for m in DEFAULT_NOTE.finditer(r.notes):
                defaults[m.group(2) or m.group(3)].append(r)
        rdir, rpath, _ = where[cfile]
        file_lines = (tmp / rdir / rpath).read_bytes().decode("utf-8", "replace").split("\n")
        for i, f in enumerate(fs):
            if used[i]:
                continue
            res["confusion"][("(no row)", f["status"])] += 1
            if f["status"] != "unpinned":
                continue
            ln = f["line"]
            src_line = file_lines[ln - 1] if 0 < ln <= len(file_lines) else ""
            if f["reference"] in defaults and f["reference"] in src_line:
                res["extra"].append((cfile, f, defaults[f["reference"]][0]))
                continue
            la = exp.lookalikes.get(cfile, {}).get(ln)
            reason = f"look-alike: {la}" if la else "no row"
            res["fp"].append((cfile, f, reason))
    return res


def row_defaults(row: Row) -> set[str]:
    """The images a row's `arg-default:` / `env-default:` notes name."""
    return {m.group(2) or m.group(3) for m in DEFAULT_NOTE.finditer(row.notes)}


def near_hint(row: Row, fs) -> str:
    same_text = [f for f in fs if f["reference"] == row.text and f["line"] != row.line]
    same_line = [f for f in fs if f["line"] == row.line and f["reference"] != row.text]
    hints = [f"same text at line {f['line']} ({f['status']})" for f in same_text[:2]]
    hints += [f"line has {f['reference']!r} ({f['status']})" for f in same_line[:2]]
    return "; ".join(hints)


def pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:5.1f}%" if b else "  n/a "


def report(exp: Expected, where, res, problems, declared, verbose: bool):
    kinds = sorted({f.split("/", 1)[0] for f in where})
    out = []
    w = out.append
    selected = {f for f, (_, _, k) in where.items() if k}
    w(f"corpus files: {len(where)}; selected by imagepin's rules: {len(selected)}")
    if declared:
        n = sum(len(v) for v in declared.values())
        w(f"--declare: {n} files declared via [[files]] in {len(declared)} .imagepin.toml")
    w("")

    def agg(pred):
        tp = sum(1 for r, _ in res["tp"] if pred(r.file))
        miss = sum(1 for r, _, _ in res["miss"] if pred(r.file))
        miss_sel = sum(1 for r, _, _ in res["miss"] if pred(r.file) and r.file in selected)
        opt = sum(1 for r, _ in res["opt_hit"] if pred(r.file))
        extra = sum(1 for f, _, _ in res["extra"] if pred(f))
        fp = sum(1 for f, _, _ in res["fp"] if pred(f))
        reported = tp + opt + extra + fp
        return tp, miss, miss_sel, opt, extra, fp, reported

    hdr = (
        f"{'kind':<15} {'req':>4} {'TP':>4} {'miss':>4} {'recall':>7} {'recall*':>7}"
        f" {'opt':>4} {'extra':>5} {'FP':>4} {'reported':>8} {'precision':>9}"
    )
    w(hdr)
    w("-" * len(hdr))
    for k in [*kinds, None]:
        pred = (lambda f, k=k: f.startswith(k + "/")) if k else (lambda f: True)
        tp, miss, miss_sel, opt, extra, fp, reported = agg(pred)
        w(
            f"{k or 'ALL':<15} {tp + miss:>4} {tp:>4} {miss:>4} {pct(tp, tp + miss):>7}"
            f" {pct(tp, tp + miss_sel):>7} {opt:>4} {extra:>5} {fp:>4} {reported:>8}"
            f" {pct(reported - fp, reported):>9}"
        )
    w("")
    w("req = required unpinned rows; recall = TP/req; recall* = TP/(req rows in files")
    w("imagepin's name rules or Kubernetes sniffing select); opt = optional unpinned rows")
    w("(indirect, build output, debatable...) reported unpinned; extra = ARG/env defaults")
    w("reported at their source (EXPECTED lists the FROM/value as dynamic with an")
    w("arg-default:/env-default: note), counted correct; precision = (TP+opt+extra)/reported.")
    opt_total = len(res["opt_hit"]) + len(res["opt_miss"])
    w(f"optional unpinned rows reported unpinned: {len(res['opt_hit'])}/{opt_total}")

    by_status = collections.Counter(
        (status or "not reported") + ("" if row.file in selected else " (file not selected)")
        for row, status, _ in res["miss"]
    )
    w("misses by imagepin status: " + ", ".join(f"{k} {v}" for k, v in by_status.most_common()))
    flagged = sum(1 for _, status, _ in res["miss"] if status == "invalid")
    if flagged:
        tp = len(res["tp"])
        req = tp + len(res["miss"])
        w(
            f"counting `invalid` (also fails --check) as flagged: recall {pct(tp + flagged, req).strip()}"
            f" ({tp + flagged}/{req})"
        )
    w("")
    w(f"MISSES ({len(res['miss'])}): file:line reference [expected class] -> imagepin status")
    for row, status, hint in sorted(res["miss"], key=lambda t: (t[0].file, t[0].line)):
        sel = "" if row.file in selected else "  (file not selected by name rules)"
        h = f"  [{hint}]" if hint else ""
        w(f"  {row.where()} {row.text} [{row.cls}] -> {status or 'not reported'}{sel}{h}")
    w("")
    w(f"FALSE POSITIVES ({len(res['fp'])}): file:line reference [expected] -> imagepin status")
    for cfile, f, reason in sorted(res["fp"], key=lambda t: (t[0], t[1]["line"])):
        w(f"  {cfile}:{f['line']} {f['reference']} [{reason}] -> {f['status']} ({f['kind']})")
    w("")
    w(f"EXTRA COVERAGE ({len(res['extra'])}): defaults reported where they are written")
    for cfile, f, row in sorted(res["extra"], key=lambda t: (t[0], t[1]["line"])):
        w(f"  {cfile}:{f['line']} {f['reference']} (feeds {row.cls} row line {row.line} {row.text})")
    unfound = [r for r in res["unfound"] if r.file in selected]
    w("")
    w(f"OTHER ROWS WITH NO FINDING in selected files ({len(unfound)}; not scored, for coverage):")
    for row in sorted(unfound, key=lambda r: (r.file, r.line)):
        ind = ", indirect" if row.indirect else ""
        w(f"  {row.where()} {row.text} [{row.cls}{ind}] {row.notes[:70]}")
    if verbose:
        w("")
        w("OPTIONAL ROWS not reported unpinned:")
        for row, status in res["opt_miss"]:
            w(f"  {row.where()} {row.text} [{row.cls}{', indirect' if row.indirect else ''}] -> {status or 'not reported'}")
    w("")
    w("CONFUSION (expected class x imagepin status; '-' = no finding on that line+text):")
    statuses = sorted({s for (_, s) in res["confusion"]})
    classes = sorted({c for (c, _) in res["confusion"]}, key=lambda c: (c.startswith("("), c))
    w(f"  {'':<18}" + "".join(f"{s:>12}" for s in statuses))
    for c in classes:
        w(f"  {c:<18}" + "".join(f"{res['confusion'][(c, s)]:>12}" for s in statuses))
    if res["stray"]:
        w("")
        w(f"FINDINGS IN FILES NOT IN THE CORPUS ({len(res['stray'])}):")
        for (rdir, path), f in res["stray"][:20]:
            w(f"  {rdir}/{path}:{f['line']} {f['reference']} {f['status']}")
    if problems:
        w("")
        w(f"IMAGEPIN ERRORS / STDERR ({len(problems)} repositories):")
        for rdir, code, err in problems:
            for i, line in enumerate(err.splitlines() or [""]):
                w(f"  {rdir} (exit {code}): {line}" if i == 0 else f"      {line}")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", help="corpus directory (default ../shared/corpus)")
    ap.add_argument("--imagepin", help="imagepin binary (default target/{release,debug}/imagepin)")
    ap.add_argument("--declare", action="store_true", help="declare unselected files via [[files]]")
    ap.add_argument("--keep", help="build the tree in this directory and keep it")
    ap.add_argument("--findings", help="also write imagepin's raw findings (JSON) here")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list optional rows missed")
    args = ap.parse_args()

    corpus = find_corpus(args.corpus)
    if not (corpus / "EXPECTED.md").is_file() or not (corpus / "SOURCES.tsv").is_file():
        print(f"{corpus}: no EXPECTED.md / SOURCES.tsv", file=sys.stderr)
        return 2
    binary = find_imagepin(args.imagepin)
    exp = parse_expected(corpus / "EXPECTED.md")
    sources = parse_sources(corpus / "SOURCES.tsv")
    missing = exp.files - {s.file for s in sources}
    if missing:
        print(f"EXPECTED.md sections without a source: {sorted(missing)}", file=sys.stderr)
        return 2

    if args.keep:
        tmp = Path(args.keep)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        cleanup = None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="imagepin-corpus-")
        tmp = Path(cleanup.name)
    try:
        where, declared = build_tree(corpus, sources, tmp, args.declare)
        repos = sorted({r for r, _, _ in where.values()})
        findings, problems = run_imagepin(binary, tmp, repos)
        listed = list_files(binary, tmp, repos)
        if listed is not None:
            # imagepin's own selection replaces the mirrored rules.
            for cfile, (rdir, path, _) in list(where.items()):
                where[cfile] = (rdir, path, listed.get((rdir, path)))
        how = "imagepin --list-files" if listed is not None else "rules mirrored from src/files.rs"
        if args.findings:
            with open(args.findings, "w", encoding="utf-8") as f:
                json.dump({f"{r}/{p}": fs for (r, p), fs in sorted(findings.items())}, f, indent=1)
        res = score(exp, where, findings, tmp)
        print(f"imagepin: {binary}")
        print(f"corpus:   {corpus.resolve()} ({len(exp.rows)} rows parsed)")
        print(f"selection: {how}")
        print(report(exp, where, res, problems, declared, args.verbose))
    finally:
        if cleanup:
            cleanup.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
