//! Build-argument expansion, just enough to tell whether a `FROM` with
//! variables names a build stage.
//!
//! A word expands to a [`Pattern`]: literal text and holes for variables
//! whose value is not known here (no default, or an automatic platform ARG
//! such as `TARGETOS`). `$X`, `${X}`, `${X:-w}`, `${X-w}`, `${X:+w}` and
//! `${X+w}` are understood; other modifiers make a hole.

/// Automatic platform ARGs: BuildKit sets them, their value varies by build.
pub(super) const PLATFORM_ARGS: [&str; 8] = [
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
];

/// What a variable is known to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    /// Declared with a default that expands to this text.
    Known(String),
    /// Declared without a usable default, or supplied by BuildKit.
    Unknown,
    /// Never declared: expands to nothing.
    Unset,
}

/// One piece of an expanded word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Part {
    Literal(String),
    /// A variable whose value is unknown here (its name).
    Hole(String),
}

/// An expanded word.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Pattern {
    pub parts: Vec<Part>,
    /// Total length of the literal parts.
    len: usize,
}

/// Longest expansion kept; longer text becomes a hole (`ARG B=$A$A`,
/// `ARG C=$B$B`, … would otherwise grow exponentially).
const MAX_LEN: usize = 4096;

/// Expansions nest (`${A:-${B:-c}}`); deeper nesting is a hole.
const MAX_DEPTH: usize = 8;

impl Pattern {
    /// The text, when no variable is unknown.
    pub(super) fn literal(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Literal(l) => s.push_str(l),
                Part::Hole(_) => return None,
            }
        }
        Some(s)
    }

    /// The literal text before the first hole.
    pub(super) fn prefix(&self) -> String {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Literal(l) => s.push_str(l),
                Part::Hole(_) => break,
            }
        }
        s
    }

    /// The names of the unknown variables.
    pub(super) fn holes(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Hole(h) => Some(h.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// Whether `name` is a possible value: holes match any text.
    /// Compares ASCII case-insensitively (stage names are).
    pub(super) fn matches(&self, name: &str) -> bool {
        // Greedy glob matching with backtracking to the last hole: linear in
        // practice for the short names it sees.
        let lits: Vec<(bool, &str)> = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Literal(l) => (false, l.as_str()),
                Part::Hole(_) => (true, ""),
            })
            .collect();
        glob(&lits, name.as_bytes())
    }

    fn push_literal(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if self.len + s.len() > MAX_LEN {
            self.push_hole("…");
            return;
        }
        self.len += s.len();
        if let Some(Part::Literal(l)) = self.parts.last_mut() {
            l.push_str(s);
        } else {
            self.parts.push(Part::Literal(s.to_string()));
        }
    }

    fn push_hole(&mut self, name: &str) {
        if !matches!(self.parts.last(), Some(Part::Hole(_))) {
            self.parts.push(Part::Hole(name.to_string()));
        }
    }

    fn extend(&mut self, other: Pattern) {
        for p in other.parts {
            match p {
                Part::Literal(l) => self.push_literal(&l),
                Part::Hole(h) => self.push_hole(&h),
            }
        }
    }
}

fn glob(parts: &[(bool, &str)], name: &[u8]) -> bool {
    // Classic wildcard matching over the sequence of literals.
    let mut pi = 0; // index into parts
    let mut ni = 0; // index into name
    let mut star: Option<(usize, usize)> = None; // (part after hole, name pos)
    loop {
        if pi == parts.len() {
            if ni == name.len() {
                return true;
            }
        } else {
            let (hole, lit) = parts[pi];
            if hole {
                star = Some((pi + 1, ni));
                pi += 1;
                continue;
            }
            let lit = lit.as_bytes();
            if name.len() - ni >= lit.len() && name[ni..ni + lit.len()].eq_ignore_ascii_case(lit) {
                pi += 1;
                ni += lit.len();
                continue;
            }
        }
        match star {
            Some((p, n)) if n < name.len() => {
                star = Some((p, n + 1));
                pi = p;
                ni = n + 1;
            }
            _ => return false,
        }
    }
}

/// Expands `word` (quotes removed) with `lookup` giving each variable's value.
pub(super) fn expand(word: &str, lookup: &dyn Fn(&str) -> Value) -> Pattern {
    expand_depth(word, lookup, 0)
}

fn expand_depth(word: &str, lookup: &dyn Fn(&str) -> Value, depth: usize) -> Pattern {
    let mut out = Pattern::default();
    let b = word.as_bytes();
    let mut i = 0;
    let mut lit_start = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' => {
                out.push_literal(&word[lit_start..i]);
                i += 1;
                lit_start = i;
            }
            b'\\' if i + 1 < b.len() => {
                out.push_literal(&word[lit_start..i]);
                lit_start = i + 1;
                i += 2;
            }
            b'$' => {
                out.push_literal(&word[lit_start..i]);
                let (pattern, next) = variable(word, i, lookup, depth);
                out.extend(pattern);
                i = next;
                lit_start = i;
            }
            _ => i += 1,
        }
    }
    out.push_literal(&word[lit_start.min(word.len())..]);
    out
}

fn name_len(s: &[u8]) -> usize {
    match s.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => s
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count(),
        _ => 0,
    }
}

/// Expands the variable at `word[at]` (a `$`); returns it and where it ends.
fn variable(
    word: &str,
    at: usize,
    lookup: &dyn Fn(&str) -> Value,
    depth: usize,
) -> (Pattern, usize) {
    let b = word.as_bytes();
    let mut out = Pattern::default();
    let start = at + 1;
    if b.get(start) != Some(&b'{') {
        let n = name_len(&b[start..]);
        if n == 0 {
            out.push_literal("$");
            return (out, start);
        }
        let name = &word[start..start + n];
        match lookup(name) {
            Value::Known(v) => out.push_literal(&v),
            Value::Unknown => out.push_hole(name),
            Value::Unset => {}
        }
        return (out, start + n);
    }
    // `${…}`: find the matching brace.
    let Some(close) = matching_brace(b, start) else {
        out.push_hole("?");
        return (out, b.len());
    };
    let inner = &word[start + 1..close];
    let n = name_len(inner.as_bytes());
    let name = &inner[..n];
    let rest = &inner[n..];
    let value = if n == 0 { Value::Unknown } else { lookup(name) };
    let nested = |w: &str| {
        if depth >= MAX_DEPTH {
            let mut p = Pattern::default();
            p.push_hole(name);
            p
        } else {
            expand_depth(w, lookup, depth + 1)
        }
    };
    let hole = || {
        let mut p = Pattern::default();
        p.push_hole(if name.is_empty() { "?" } else { name });
        p
    };
    let pattern = match (rest, &value) {
        ("", Value::Known(v)) => {
            let mut p = Pattern::default();
            p.push_literal(v);
            p
        }
        ("", Value::Unknown) => hole(),
        ("", Value::Unset) => Pattern::default(),
        (r, v) if r.starts_with(":-") || r.starts_with('-') => {
            let colon = r.starts_with(':');
            let w = &r[if colon { 2 } else { 1 }..];
            match v {
                Value::Known(s) if !(colon && s.is_empty()) => {
                    let mut p = Pattern::default();
                    p.push_literal(s);
                    p
                }
                Value::Known(_) | Value::Unset => nested(w),
                Value::Unknown => hole(),
            }
        }
        (r, v) if r.starts_with(":+") || r.starts_with('+') => {
            let colon = r.starts_with(':');
            let w = &r[if colon { 2 } else { 1 }..];
            match v {
                Value::Known(s) if colon && s.is_empty() => Pattern::default(),
                Value::Known(_) => nested(w),
                Value::Unset => Pattern::default(),
                Value::Unknown => hole(),
            }
        }
        _ => hole(),
    };
    (pattern, close + 1)
}


/// The index of the `}` that closes the `{` at `open`, counting nested
/// braces; `None` when it is never closed.
pub(super) fn matching_brace(b: &[u8], open: usize) -> Option<usize> {
    let mut level = 0usize;
    for (j, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'{' => level += 1,
            b'}' => {
                level = level.saturating_sub(1);
                if level == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Value {
        match name {
            "OS" => Value::Known("linux".into()),
            "EMPTY" => Value::Known(String::new()),
            "NEW" => Value::Unset,
            _ => Value::Unknown,
        }
    }

    #[test]
    fn expands_known_values_and_leaves_holes() {
        let p = expand("base-$OS-${TARGETARCH}", &env);
        assert_eq!(p.prefix(), "base-linux-");
        assert_eq!(p.holes().collect::<Vec<_>>(), ["TARGETARCH"]);
        assert!(p.matches("BASE-linux-amd64"));
        assert!(!p.matches("base-darwin-amd64"));
        assert_eq!(
            expand("\"${OS}\":${EMPTY:-x}", &env).literal().as_deref(),
            Some("linux:x")
        );
        assert_eq!(
            expand("${EMPTY-x}${OS:+y}", &env).literal().as_deref(),
            Some("y")
        );
        assert_eq!(
            expand("${NEW:-${OS:-b}}", &env).literal().as_deref(),
            Some("linux")
        );
        assert_eq!(expand("${ARCH:-x}", &env).literal(), None);
        assert_eq!(
            expand("a${NEW}b${NEW:+c}", &env).literal().as_deref(),
            Some("ab")
        );
    }

    #[test]
    fn self_referencing_default() {
        // `ARG X="${X:-bazzite}"` with X not yet declared: its default.
        let none = |_: &str| Value::Unset;
        assert_eq!(
            expand("${X:-bazzite}", &none).literal().as_deref(),
            Some("bazzite")
        );
    }

    #[test]
    fn glob_matching() {
        let p = expand("a${X}b${Y}c", &env);
        assert!(p.matches("abc"));
        assert!(p.matches("aXXbYYc"));
        assert!(!p.matches("aXXbYY"));
        assert!(expand("$TARGETOS", &env).matches("windows"));
    }

    #[test]
    fn expansions_are_bounded() {
        let big = "x".repeat(3000);
        let env = |_: &str| Value::Known(big.clone());
        let p = expand("$A$A$A", &env);
        assert_eq!(p.literal(), None);
        assert!(p.prefix().len() <= MAX_LEN);
    }

    #[test]
    fn malformed_does_not_panic() {
        for w in [
            "$",
            "${",
            "${}",
            "${X",
            "}}${{",
            "$$",
            "${X:-${Y:-${Z",
            "\\",
        ] {
            let _ = expand(w, &env);
        }
    }
}
