//! `imagepin resolve REF...`: prints `REF<TAB>DIGEST` per line in input
//! order (like `crane digest`); failures go to stderr with the reason, and
//! the exit code is 2 if any reference failed.

use std::io::Write;

use super::Exit;
use crate::config::Config;
use crate::reference::Reference;
use crate::report::escape::visible;
use crate::resolve::{DigestSource, ResolveOptions, Resolver, TagRef};

enum Item {
    /// Already pinned: the digest as written.
    Pinned(String),
    /// A tag to resolve (index into the tag list).
    Tag(usize),
    Invalid(String),
}

/// Resolves `refs` and writes the answers; returns the exit code.
pub(super) fn run(
    refs: &[String],
    config: &Config,
    opts: ResolveOptions,
    verbose: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let mut tags = Vec::new();
    let items: Vec<Item> = refs
        .iter()
        .map(|r| match Reference::parse(r) {
            Err(e) => Item::Invalid(format!("invalid image reference: {e}")),
            Ok(parsed) => match &parsed.digest {
                Some(d) => Item::Pinned(d.clone()),
                None => {
                    tags.push(TagRef::from_reference(&parsed));
                    Item::Tag(tags.len() - 1)
                }
            },
        })
        .collect();
    let answers: Vec<Result<String, String>> = if tags.is_empty() {
        Vec::new()
    } else {
        match Resolver::new(config, opts) {
            Ok(resolver) => {
                let answers = resolver
                    .resolve_tags(&tags)
                    .into_iter()
                    .map(|r| r.map_err(|e| e.message))
                    .collect();
                if verbose {
                    for n in resolver.notes() {
                        let _ = writeln!(err, "imagepin: {}", crate::report::escape::visible(&n));
                    }
                }
                answers
            }
            Err(e) => tags.iter().map(|_| Err(e.to_string())).collect(),
        }
    };
    let mut failed = false;
    for (r, item) in refs.iter().zip(&items) {
        let answer = match item {
            Item::Pinned(d) => Ok(d.as_str()),
            Item::Tag(i) => answers[*i].as_deref().map_err(String::as_str),
            Item::Invalid(m) => Err(m.as_str()),
        };
        // A closed pipe is not worth a panic; the exit code still tells.
        let _ = match answer {
            Ok(d) => writeln!(out, "{r}\t{d}"),
            Err(m) => {
                failed = true;
                // A registry's answer is quoted in `m`: nothing raw reaches the terminal.
                let (r, m) = (visible(r), visible(m));
                writeln!(err, "imagepin: {r}: {m}")
            }
        };
    }
    let _ = out.flush();
    if failed { Exit::Error } else { Exit::Clean }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_and_invalid_references_need_no_network() {
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let refs = vec![format!("python:3.12@{d}"), "Bad:Ref".to_string()];
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run(
            &refs,
            &Config::default(),
            ResolveOptions::default(),
            false,
            &mut out,
            &mut err,
        );
        assert_eq!(code, Exit::Error);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{}\t{d}\n", refs[0])
        );
        let err = String::from_utf8(err).unwrap();
        assert!(
            err.starts_with("imagepin: Bad:Ref: invalid image reference"),
            "{err}"
        );
    }
}
